// Label selectors as kube-apiserver understands them: the `?labelSelector=` string syntax, the structured
// `LabelSelector` of workloads and policies, matching, printing, and the name/value syntax checks that the
// rest of validation shares. Error texts follow upstream's wording so kubectl shows familiar messages.
// Pure.
import { apiErrors, fieldErrorMessage, fieldErrors } from './errors.ts';
import type { FieldError } from './errors.ts';
import type { LabelSelector } from './types.ts';

// ------------------------------------------------------------------------------------ syntax validators

const LABEL_KEY_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_NAME_RE = new RegExp(`^${LABEL_KEY_NAME_FMT}$`);
const LABEL_KEY_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_NAME_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const DNS1035_LABEL_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

/**
 * Length in bytes of the UTF-8 encoding, as Go's len(string) (upstream measures lengths in bytes). A lone
 * surrogate counts as U+FFFD (3 bytes), as it decodes in Go.
 */
export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** How a validator says that a value is longer than `length`. */
export type MaxLenError = (length: number) => string;

/**
 * The length message of the label-selector checks here. Upstream (and object validation, which passes its
 * own wording) says "characters"; the selector messages have said "bytes" so far.
 */
const maxLenBytes: MaxLenError = (n) => `must be no more than ${n} bytes`;
const emptyError = (): string => 'must be non-empty';

/** The regex message as upstream phrases it, examples included (double space and all). */
export function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${re}')`;
}

// Each validator returns what is wrong with `value` (empty when valid); `tooLong` words the length error.

/** DNS-1123 subdomain (253 bytes, lowercase, dots allowed): namespaced object names, key prefixes. */
export function isDNS1123Subdomain(value: string, tooLong: MaxLenError = maxLenBytes): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push(tooLong(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** DNS-1123 label (63 bytes, no dots): namespace names, container and port names. */
export function isDNS1123Label(value: string, tooLong: MaxLenError = maxLenBytes): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(tooLong(63));
  if (!DNS1123_LABEL_RE.test(value)) {
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** DNS-1035 label (63 bytes, starts with a letter): Service names. */
export function isDNS1035Label(value: string, tooLong: MaxLenError = maxLenBytes): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(tooLong(63));
  if (!DNS1035_LABEL_RE.test(value)) errs.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

/** A qualified name (label and annotation keys, finalizers): `[prefix/]name`, prefix a DNS-1123 subdomain. */
export function isQualifiedName(value: string, tooLong: MaxLenError = maxLenBytes): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const msg of isDNS1123Subdomain(prefix, tooLong)) errs.push(`prefix part ${msg}`);
  } else {
    errs.push(`a qualified name ${regexError(LABEL_KEY_NAME_MSG, LABEL_KEY_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > 63) errs.push(`name part ${tooLong(63)}`);
  if (!LABEL_KEY_NAME_RE.test(name)) errs.push(`name part ${regexError(LABEL_KEY_NAME_MSG, LABEL_KEY_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** A label value: empty, or up to 63 bytes of alphanumerics, '-', '_' and '.', alphanumeric at both ends. */
export function isValidLabelValue(value: string, tooLong: MaxLenError = maxLenBytes): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(tooLong(63));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

// -------------------------------------------------------------------------------------- requirements

/** Operators of a requirement, spelled as upstream's `selection.Operator` values. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** As given (printing sorts them); empty for `exists` and `!`. */
  values: string[];
}

/** Go's %#v of a []string, as field errors print a bad values list. */
function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

function renderedFieldError(field: string, rendered: string, detail: string): string {
  return `${field}: Invalid value: ${rendered}: ${detail}`;
}

/** Upstream's aggregate error text: one message alone, several as `[a, b]` (duplicates dropped). */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

/**
 * Checks a requirement as upstream's labels.NewRequirement does; returns the error messages (empty when
 * valid). `path` prefixes field names (`key`, `values[0][app]`), `''` meaning none.
 */
function requirementErrors(key: string, op: LabelOperator, values: readonly string[], path: string): string[] {
  const child = (name: string): string => (path === '' ? name : `${path}.${name}`);
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) errs.push(renderedFieldError(child('key'), JSON.stringify(key), keyErrs.join('; ')));
  const valuesPath = child('values');
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(renderedFieldError(valuesPath, goStringSlice(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(renderedFieldError(valuesPath, goStringSlice(values), 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(renderedFieldError(valuesPath, goStringSlice(values), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(renderedFieldError(valuesPath, goStringSlice(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(renderedFieldError(`${valuesPath}[${i}]`, JSON.stringify(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length > 0) errs.push(renderedFieldError(`${valuesPath}[${i}][${key}]`, JSON.stringify(v), valueErrs.join('; ')));
  });
  return errs;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Builds a validated requirement; throws a 400 ApiError with upstream's message when invalid. */
export function newLabelRequirement(key: string, operator: LabelOperator, values: readonly string[] = []): LabelRequirement {
  const errs = requirementErrors(key, operator, values, '');
  if (errs.length > 0) throw apiErrors.badRequest(aggregate(errs));
  return { key, operator, values: [...values] };
}

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value ?? '');
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const actual = parseInt64(value ?? '');
      const bound = parseInt64(r.values[0] ?? '');
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/** Whether every requirement holds for `labels` (absent labels count as the empty set). */
export function matchesLabels(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const set = labels ?? {};
  return reqs.every((r) => requirementMatches(r, set));
}

/** Upstream's Requirement.String(): `!k`, `k`, `k=v`, `k in (a,b)` (values sorted), `k>1`. */
export function formatRequirement(r: LabelRequirement): string {
  const prefix = r.operator === '!' ? `!${r.key}` : r.key;
  if (r.operator === 'exists' || r.operator === '!') return prefix;
  const ops: Record<Exclude<LabelOperator, 'exists' | '!'>, string> = {
    '=': '=', '==': '==', '!=': '!=', in: ' in ', notin: ' notin ', gt: '>', lt: '<',
  };
  const values = r.values.length === 1 ? (r.values[0] ?? '') : [...r.values].sort(compareStrings).join(',');
  const body = r.operator === 'in' || r.operator === 'notin' ? `(${values})` : values;
  return `${prefix}${ops[r.operator]}${body}`;
}

/** The requirements joined with `,`, as a selector's String(); `""` when there are none. */
export function formatRequirements(reqs: readonly LabelRequirement[]): string {
  return reqs.map(formatRequirement).join(',');
}

/** Byte-wise string order, as Go's sort.Strings. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByKey(reqs: LabelRequirement[]): LabelRequirement[] {
  return reqs.sort((a, b) => compareStrings(a.key, b.key)); // Array.prototype.sort is stable
}

// ------------------------------------------------------------------------------------- string parser

type Token =
  | 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'identifier' | 'in' | '<' | '!=' | 'notin' | '(';

const KEYWORDS: Record<string, Token> = {
  ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(',
};

interface Scanned { tok: Token; lit: string }

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch) && ch.length === 1;

/** Tokenises as upstream's lexer: specials greedily joined while they form a token, words up to a special. */
function lex(s: string): Scanned[] {
  const out: Scanned[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] ?? '')) pos++;
    if (pos >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    const ch = s[pos] ?? '';
    if (isSpecial(ch)) {
      let buffer = '';
      let last: Scanned | undefined;
      while (pos < s.length && isSpecial(s[pos] ?? '')) {
        buffer += s[pos];
        const tok = KEYWORDS[buffer];
        if (tok !== undefined) {
          last = { tok, lit: buffer };
          pos++;
        } else if (last !== undefined) {
          break;
        } else {
          pos++;
        }
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buffer}'` });
    } else {
      let buffer = '';
      while (pos < s.length && !isSpecial(s[pos] ?? '') && !isWhitespace(s[pos] ?? '')) buffer += s[pos++];
      out.push({ tok: KEYWORDS[buffer] ?? 'identifier', lit: buffer });
    }
  }
}

class ParseError extends Error {}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  private readonly items: Scanned[];
  private position = 0;

  constructor(s: string) {
    this.items = lex(s);
  }

  /** In the values context the keywords `in`/`notin` are plain identifiers. */
  private lookahead(values: boolean): Scanned {
    const item = this.items[this.position] ?? { tok: 'eos', lit: '' };
    return values && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'identifier', lit: item.lit } : item;
  }

  private consume(values: boolean): Scanned {
    const item = this.lookahead(values);
    if (this.position < this.items.length - 1) this.position++;
    else this.position = this.items.length - 1;
    return item;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (let guard = 0; guard <= this.items.length; guard++) {
      const { tok, lit } = this.lookahead(true);
      if (tok === 'eos') return reqs;
      if (tok !== 'identifier' && tok !== '!') throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.parseRequirement());
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const next = this.consume(true);
      if (next.tok === 'eos') return reqs;
      if (next.tok !== ',') throw new ParseError(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.lookahead(true);
      if (after.tok !== 'identifier' && after.tok !== '!') throw new ParseError(`found '${after.lit}', expected: identifier after ','`);
    }
    return reqs;
  }

  private parseRequirement(): LabelRequirement {
    let { tok, lit } = this.consume(true);
    let negated = false;
    if (tok === '!') {
      negated = true;
      ({ tok, lit } = this.consume(true));
    }
    if (tok !== 'identifier') throw new ParseError(`found '${lit}', expected: identifier`);
    const keyErrs = isQualifiedName(lit);
    if (keyErrs.length > 0) throw new ParseError(renderedFieldError('<nil>', JSON.stringify(lit), keyErrs.join('; ')));
    const key = lit;
    const next = this.lookahead(true).tok;
    if (negated || next === 'eos' || next === ',') return this.build(key, negated ? '!' : 'exists', []);
    const opItem = this.consume(false);
    const opByToken: Partial<Record<Token, LabelOperator>> = { in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };
    const op = opByToken[opItem.tok];
    if (op === undefined) throw new ParseError(`found '${opItem.lit}', expected: ${BINARY_OPERATORS}`);
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return this.build(key, op, [...values].sort(compareStrings));
  }

  private build(key: string, op: LabelOperator, values: string[]): LabelRequirement {
    const errs = requirementErrors(key, op, values, '');
    if (errs.length > 0) throw new ParseError(aggregate(errs));
    return { key, operator: op, values };
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== '(') throw new ParseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead(true);
    if (tok === 'identifier' || tok === ',') {
      const set = this.parseIdentifiersList();
      if (this.consume(true).tok !== ')') throw new ParseError(`found '${lit}', expected: ')'`);
      return set;
    }
    if (tok === ')') {
      this.consume(true);
      return new Set(['']);
    }
    throw new ParseError(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const set = new Set<string>();
    for (let guard = 0; guard <= this.items.length; guard++) {
      const { tok, lit } = this.consume(true);
      if (tok === 'identifier') {
        set.add(lit);
        const next = this.lookahead(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return set;
        throw new ParseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (set.size === 0) set.add('');
        const next = this.lookahead(true).tok;
        if (next === ')') {
          set.add('');
          return set;
        }
        if (next === ',') set.add('');
        continue;
      }
      throw new ParseError(`found '${lit}', expected: ',', or identifier`);
    }
    throw new ParseError("found '', expected: ',', or identifier");
  }

  private parseExactValue(): Set<string> {
    const { tok } = this.lookahead(true);
    if (tok === 'eos' || tok === ',') return new Set(['']);
    const item = this.consume(true);
    if (item.tok === 'identifier') return new Set([item.lit]);
    throw new ParseError(`found '${item.lit}', expected: identifier`);
  }
}

/**
 * Parses the `labelSelector` string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h,i>1,j<9`) into requirements
 * sorted by key, as upstream's labels.Parse. The empty string selects everything (`[]`). Throws a 400 ApiError
 * with upstream's message (e.g. `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`).
 */
export function parseLabelSelector(s: string): LabelRequirement[] {
  try {
    return sortByKey(new Parser(s).parse());
  } catch (e) {
    if (e instanceof ParseError) throw apiErrors.badRequest(e.message, e);
    throw e;
  }
}

// ------------------------------------------------------------------------------ structured selectors

/**
 * Field errors of a LabelSelector as upstream's metav1 ValidateLabelSelector reports them under `path`
 * (e.g. `spec.selector`): bad keys/values, In/NotIn without values, Exists/DoesNotExist with values,
 * unknown operators.
 */
export function validateLabelSelector(sel: LabelSelector | null | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === null || sel === undefined) return errs;
  const labelsPath = `${path}.matchLabels`;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(fieldErrors.invalid(labelsPath, k, msg));
    for (const msg of isValidLabelValue(v)) errs.push(fieldErrors.invalid(labelsPath, v, msg));
  }
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(`${p}.operator`, expr.operator, 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(expr.key)) errs.push(fieldErrors.invalid(`${p}.key`, expr.key, msg));
    values.forEach((v, j) => {
      for (const msg of isValidLabelValue(v)) errs.push(fieldErrors.invalid(`${p}.values[${j}]`, v, msg));
    });
  });
  return errs;
}

const OPERATOR_OF: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * The requirements of a LabelSelector (matchLabels as `=`, then matchExpressions), sorted by key, as
 * upstream's LabelSelectorAsSelector. An empty selector gives `[]` (everything). Throws a 400 ApiError
 * naming the offending field under `path` (default `selector`) when the selector is invalid.
 */
export function requirementsFromLabelSelector(sel: LabelSelector, path = 'selector'): LabelRequirement[] {
  const errs = validateLabelSelector(sel, path);
  if (errs.length > 0) throw apiErrors.badRequest(aggregate(errs.map(fieldErrorMessage)));
  const reqs: LabelRequirement[] = [];
  for (const key of Object.keys(sel.matchLabels ?? {}).sort(compareStrings)) {
    reqs.push({ key, operator: '=', values: [sel.matchLabels?.[key] ?? ''] });
  }
  for (const expr of sel.matchExpressions ?? []) {
    const operator = OPERATOR_OF[expr.operator];
    if (operator === undefined) throw apiErrors.badRequest(`"${String(expr.operator)}" is not a valid label selector operator`);
    reqs.push({ key: expr.key, operator, values: [...(expr.values ?? [])] });
  }
  return sortByKey(reqs);
}

export interface SelectorMatchOptions {
  /**
   * What a null/undefined selector selects. `'nothing'` (default) is upstream's LabelSelectorAsSelector
   * (e.g. a workload without a selector owns no pods); `'everything'` suits optional filters.
   */
  whenNil?: 'nothing' | 'everything';
}

/**
 * Whether `labels` satisfy `sel`. An empty selector `{}` matches everything; a null/undefined selector
 * matches nothing unless `options.whenNil` is `'everything'`. Throws like requirementsFromLabelSelector.
 */
export function labelSelectorMatches(
  sel: LabelSelector | null | undefined,
  labels: Readonly<Record<string, string>> | undefined,
  options: SelectorMatchOptions = {},
): boolean {
  if (sel === null || sel === undefined) return options.whenNil === 'everything';
  return matchesLabels(requirementsFromLabelSelector(sel), labels);
}

/** Requirements selecting exactly the given map (a Service's or ReplicationController's selector); no validation. */
export function requirementsFromSet(set: Readonly<Record<string, string>> | undefined): LabelRequirement[] {
  return Object.keys(set ?? {}).sort(compareStrings).map((key) => ({ key, operator: '=' as const, values: [set?.[key] ?? ''] }));
}

/**
 * The selector string as upstream prints a LabelSelector converted to a selector — what Scale's
 * `status.selector` carries (`app=nginx,tier in (a,b)`); `""` for an empty or null selector.
 */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  if (sel === null || sel === undefined) return '';
  return formatRequirements(requirementsFromLabelSelector(sel));
}

/** As kubectl's printers show a selector (metav1.FormatLabelSelector): `<none>` when empty, `<error>` when invalid. */
export function describeLabelSelector(sel: LabelSelector | null | undefined): string {
  try {
    const s = formatLabelSelector(sel);
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}
