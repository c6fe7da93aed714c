// IP and CIDR syntax checks with upstream's messages (k8s.io/apimachinery/pkg/util/validation/ip.go and
// ValidateNonSpecialIP). A tiny parser of our own: the API layer is pure and imports nothing. Pure.
import { fieldErrors, type FieldError } from '../errors.ts';

export interface ParsedIP {
  family: 4 | 6;
  /** 4 or 16 bytes. */
  bytes: number[];
  /** True for an IPv4 written with a leading zero in some octet ("010.1.1.1"). */
  leadingZero: boolean;
}

function parseIPv4(s: string): ParsedIP | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  let leadingZero = false;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    if (p.length > 1 && p.startsWith('0')) leadingZero = true;
    bytes.push(n);
  }
  return { family: 4, bytes, leadingZero };
}

function parseIPv6(s: string): ParsedIP | undefined {
  if (s.length === 0 || s.includes('%')) return undefined;
  let head = s;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4 || v4.leadingZero) return undefined;
    tail4 = v4.bytes;
    head = s.slice(0, lastColon + 1);
    // Drop the separator before the IPv4 part, unless it is the second colon of a "::".
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tail4.length > 0 ? 6 : 8;
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::')) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const fill = groupsWanted - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  bytes.push(...tail4);
  return bytes.length === 16 ? { family: 6, bytes, leadingZero: false } : undefined;
}

/** Parses an IPv4 or IPv6 address; undefined when it is neither. */
export function parseIP(s: string): ParsedIP | undefined {
  return s.includes(':') ? parseIPv6(s) : parseIPv4(s);
}

function isV4Mapped(ip: ParsedIP): boolean {
  return ip.family === 6 && ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
}

/** The canonical text form (Go's net.IP.String(), RFC 5952 for IPv6). */
export function formatIP(ip: ParsedIP): string {
  if (ip.family === 4) return ip.bytes.join('.');
  if (isV4Mapped(ip)) return `::ffff:${ip.bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number | undefined): string => (g ?? 0).toString(16);
  if (bestStart < 0) return groups.map(hex).join(':');
  const left = groups.slice(0, bestStart).map(hex).join(':');
  const right = groups.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

export interface ParsedCIDR {
  ip: ParsedIP;
  prefix: number;
}

export function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const pl = s.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(pl)) return undefined;
  const prefix = Number(pl);
  if (prefix > ip.bytes.length * 8) return undefined;
  return { ip, prefix };
}

/** The network address: the IP with every bit past the prefix cleared. */
export function maskedIP(c: ParsedCIDR): ParsedIP {
  const bytes = c.ip.bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, c.prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
  return { family: c.ip.family, bytes, leadingZero: false };
}

/** True when `inner` lies entirely inside `outer` and is strictly smaller. */
export function isStrictSubnet(inner: ParsedCIDR, outer: ParsedCIDR): boolean {
  if (inner.ip.family !== outer.ip.family || inner.prefix <= outer.prefix) return false;
  const a = maskedIP(outer).bytes;
  const b = maskedIP({ ip: inner.ip, prefix: outer.prefix }).bytes;
  return a.every((x, i) => x === b[i]);
}

export function isValidIP(path: string, value: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [fieldErrors.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
  if (ip.leadingZero) return [fieldErrors.invalid(path, value, 'must not have leading 0s')];
  if (isV4Mapped(ip)) return [fieldErrors.invalid(path, value, 'must not be an IPv4-mapped IPv6 address')];
  const canonical = formatIP(ip);
  if (canonical !== value) return [fieldErrors.invalid(path, value, `must be in canonical form (${JSON.stringify(canonical)})`)];
  return [];
}

export function isValidIPv4Address(path: string, value: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip || ip.family !== 4) return [fieldErrors.invalid(path, value, 'must be a valid IPv4 address')];
  return [];
}

export function isValidIPv6Address(path: string, value: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip || ip.family !== 6) return [fieldErrors.invalid(path, value, 'must be a valid IPv6 address')];
  return [];
}

export function isValidCIDR(path: string, value: string): FieldError[] {
  const c = parseCIDR(value);
  if (!c) return [fieldErrors.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
  if (c.ip.leadingZero || /\/0[0-9]/.test(value)) return [fieldErrors.invalid(path, value, 'must not have leading 0s in IP or prefix length')];
  if (isV4Mapped(c.ip)) return [fieldErrors.invalid(path, value, 'must not have an IPv4-mapped IPv6 address')];
  const masked = maskedIP(c);
  if (masked.bytes.some((b, i) => b !== c.ip.bytes[i])) return [fieldErrors.invalid(path, value, 'must not have bits set beyond the prefix length')];
  const canonical = `${formatIP(c.ip)}/${c.prefix}`;
  if (canonical !== value) return [fieldErrors.invalid(path, value, `must be in canonical form (${JSON.stringify(canonical)})`)];
  return [];
}

/** Endpoints and external IPs may not be unspecified, loopback or link-local. */
export function validateNonSpecialIP(path: string, value: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [fieldErrors.invalid(path, value, 'must be a valid IP address')];
  const b = ip.bytes;
  const errs: FieldError[] = [];
  const v4 = ip.family === 4 ? b : isV4Mapped(ip) ? b.slice(12) : undefined;
  const unspecified = b.every((x) => x === 0);
  const loopback = v4 ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const linkLocalUnicast = v4 ? v4[0] === 169 && v4[1] === 254 : b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
  const linkLocalMulticast = v4 ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02;
  if (unspecified) errs.push(fieldErrors.invalid(path, value, `may not be unspecified (${value})`));
  if (loopback) errs.push(fieldErrors.invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocalUnicast) errs.push(fieldErrors.invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) errs.push(fieldErrors.invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}
