// Syntax validators for names, keys and small values, with the same rules and error strings as
// k8s.io/apimachinery/pkg/util/validation (as served by kube-apiserver 1.27-1.33). Each returns the list of
// messages describing what is wrong (empty when valid); callers wrap them in field errors. The DNS-name,
// qualified-name and label-value rules are src/api/labels.ts's, worded here as upstream ("characters"). Pure.
import * as labels from '../labels.ts';
import { DNS1123_SUBDOMAIN_FMT, byteLength, regexError } from '../labels.ts';

export { byteLength, regexError };

const WILDCARD_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const ENV_VAR_FMT = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const ENV_VAR_MSG = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const PERCENT_FMT = '[0-9]+%';
const PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_FMT = '[-A-Za-z0-9]+';
const HTTP_HEADER_MSG = "a valid HTTP header must consist of alphanumeric characters or '-'";
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const wildcardRe = anchored(WILDCARD_FMT);
const configKeyRe = anchored(CONFIG_KEY_FMT);
const envVarRe = anchored(ENV_VAR_FMT);
const percentRe = anchored(PERCENT_FMT);
const httpHeaderRe = anchored(HTTP_HEADER_FMT);
const httpPathRe = anchored(HTTP_PATH_FMT);

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

export function isDNS1123Label(value: string): string[] {
  return labels.isDNS1123Label(value, maxLenError);
}

export function isDNS1123Subdomain(value: string): string[] {
  return labels.isDNS1123Subdomain(value, maxLenError);
}

export function isDNS1035Label(value: string): string[] {
  return labels.isDNS1035Label(value, maxLenError);
}

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!wildcardRe.test(value)) errs.push(regexError(WILDCARD_MSG, WILDCARD_FMT, '*.example.com'));
  return errs;
}

/** A "qualified name" (label key, annotation key): optional DNS-subdomain prefix and '/', then a name part. */
export function isQualifiedName(value: string): string[] {
  return labels.isQualifiedName(value, maxLenError);
}

export function isValidLabelValue(value: string): string[] {
  return labels.isValidLabelValue(value, maxLenError);
}

function chDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!configKeyRe.test(value)) errs.push(regexError(CONFIG_KEY_MSG, CONFIG_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  errs.push(...chDirPrefix(value));
  return errs;
}

export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarRe.test(value)) errs.push(regexError(ENV_VAR_MSG, ENV_VAR_FMT, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  errs.push(...chDirPrefix(value));
  return errs;
}

/** An IANA_SVC_NAME: at most 15 characters, [-a-z0-9], at least one letter, no '--', no leading/trailing '-'. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

export function isValidPercent(value: string): string[] {
  return percentRe.test(value) ? [] : [regexError(PERCENT_MSG, PERCENT_FMT, '1%', '93%')];
}

export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderRe.test(value) ? [] : [regexError(HTTP_HEADER_MSG, HTTP_HEADER_FMT, 'X-Header-Name')];
}

/** The part of a domain-prefixed path (`acme.io/foo`) after the domain; see isDomainPrefixedPath in index. */
export function isHTTPPathSegment(value: string): string[] {
  return httpPathRe.test(value) ? [] : [regexError('Invalid path', HTTP_PATH_FMT)];
}

/** Names usable as a REST path segment (IngressClass parameters kind/name). */
export function isPathSegmentName(value: string): string[] {
  const errs: string[] = [];
  if (value === '.' || value === '..') errs.push(`may not be '${value}'`);
  if (value.includes('/')) errs.push("may not contain '/'");
  if (value.includes('%')) errs.push("may not contain '%'");
  return errs;
}

// ------------------------------------------------------------------------------------ object-name rules

/** How a kind's metadata.name is checked; `prefix` is true for metadata.generateName. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** A generated-name prefix may end in '-'; mask it so the rest of the rule applies. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
