// IPv4 addresses and CIDR blocks as unsigned 32-bit integers. Pure arithmetic: parsing (strict, as Go's
// net.ParseIP since 1.17: four decimal octets, no leading zeros), formatting, containment, sizes, the
// n-th address of a block, splitting a block into subnets, and overlap checks.

export type Ipv4ErrorCode = 'InvalidAddress' | 'InvalidCidr' | 'OutOfRange';

export class Ipv4Error extends Error {
  readonly code: Ipv4ErrorCode;
  constructor(code: Ipv4ErrorCode, message: string) {
    super(message);
    this.name = 'Ipv4Error';
    this.code = code;
  }
}

/** A CIDR block: `network` is the first address (host bits zero), `prefix` 0..32. */
export interface Cidr {
  network: number;
  prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses dotted-quad text into an unsigned 32-bit integer, or undefined when it is not one. */
export function tryParseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function parseIPv4(text: string): number {
  const value = tryParseIPv4(text);
  if (value === undefined) throw new Ipv4Error('InvalidAddress', `invalid IPv4 address: ${JSON.stringify(text)}`);
  return value;
}

export function isIPv4(text: string): boolean {
  return tryParseIPv4(text) !== undefined;
}

export function formatIPv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Ipv4Error('OutOfRange', `not an IPv4 address value: ${value}`);
  }
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The netmask of a prefix length as an unsigned integer (prefix 0 -> 0). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses `a.b.c.d/n`. Like Go's net.ParseCIDR the host bits are masked off (`10.0.0.5/24` is
 * 10.0.0.0/24); with `strict` an address that is not the network address is an error.
 */
export function parseCidr(text: string, options: { strict?: boolean } = {}): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Ipv4Error('InvalidCidr', `invalid CIDR address: ${text}`);
  const address = tryParseIPv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9][0-9]?)$/.test(prefixText)) {
    throw new Ipv4Error('InvalidCidr', `invalid CIDR address: ${text}`);
  }
  const prefix = Number(prefixText);
  if (prefix > 32) throw new Ipv4Error('InvalidCidr', `invalid CIDR address: ${text}`);
  const network = (address & prefixMask(prefix)) >>> 0;
  if (options.strict && network !== address) {
    throw new Ipv4Error('InvalidCidr', `${text} is not a network address (did you mean ${formatIPv4(network)}/${prefix}?)`);
  }
  return { network, prefix };
}

export function tryParseCidr(text: string, options: { strict?: boolean } = {}): Cidr | undefined {
  try {
    return parseCidr(text, options);
  } catch (err) {
    if (err instanceof Ipv4Error) return undefined;
    throw err;
  }
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.network)}/${cidr.prefix}`;
}

/** Number of addresses in the block, network and broadcast included (2^(32-prefix)). */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of the block (the broadcast address for prefixes up to /30). */
export function lastAddress(cidr: Cidr): number {
  return cidr.network + cidrSize(cidr) - 1;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address <= lastAddress(cidr);
}

export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network);
}

/** The n-th address of the block counting from the network address (0); negative n counts from the end (-1 = last). */
export function nthAddress(cidr: Cidr, n: number): number {
  const size = cidrSize(cidr);
  const index = n < 0 ? size + n : n;
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new Ipv4Error('OutOfRange', `index ${n} is outside ${formatCidr(cidr)} (${size} addresses)`);
  }
  return cidr.network + index;
}

/** How many /prefixLen subnets the block splits into. */
export function subnetCount(cidr: Cidr, prefixLen: number): number {
  if (!Number.isInteger(prefixLen) || prefixLen < cidr.prefix || prefixLen > 32) {
    throw new Ipv4Error('OutOfRange', `cannot split ${formatCidr(cidr)} into /${prefixLen} subnets`);
  }
  return 2 ** (prefixLen - cidr.prefix);
}

/** The index-th /prefixLen subnet of the block (subnetAt(10.244.0.0/16, 24, 3) = 10.244.3.0/24). */
export function subnetAt(cidr: Cidr, prefixLen: number, index: number): Cidr {
  const count = subnetCount(cidr, prefixLen);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Ipv4Error('OutOfRange', `subnet index ${index} is outside 0..${count - 1} of ${formatCidr(cidr)} split into /${prefixLen}`);
  }
  return { network: cidr.network + index * 2 ** (32 - prefixLen), prefix: prefixLen };
}

/** The index of `subnet` among the /subnet.prefix subnets of `cidr`, or undefined if it is not one of them. */
export function subnetIndex(cidr: Cidr, subnet: Cidr): number | undefined {
  if (!cidrContainsCidr(cidr, subnet)) return undefined;
  if ((subnet.network & prefixMask(subnet.prefix)) >>> 0 !== subnet.network) return undefined;
  return (subnet.network - cidr.network) / 2 ** (32 - subnet.prefix);
}

/** An inclusive range of addresses, e.g. from `10.0.0.10-10.0.0.20`. */
export interface AddressRange {
  first: number;
  last: number;
}

/** Parses `a.b.c.d-e.f.g.h` (inclusive) or a CIDR (whole block) into an address range. */
export function parseAddressRange(text: string): AddressRange {
  if (text.includes('/')) {
    const cidr = parseCidr(text, { strict: true });
    return { first: cidr.network, last: lastAddress(cidr) };
  }
  const dash = text.indexOf('-');
  if (dash < 0) {
    const single = parseIPv4(text.trim());
    return { first: single, last: single };
  }
  const first = parseIPv4(text.slice(0, dash).trim());
  const last = parseIPv4(text.slice(dash + 1).trim());
  if (last < first) throw new Ipv4Error('InvalidCidr', `invalid address range ${text}: end before start`);
  return { first, last };
}
