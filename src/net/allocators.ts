// The allocators flatnet's control plane needs, each a RangeAllocator with a mapping from values
// (IP text, port, CIDR text) to indices:
//   ServiceIPAllocator  ClusterIPs from the service CIDR (network and broadcast excluded, KEP-3070 bands)
//   NodePortAllocator   NodePorts from a port range (KEP-3668 bands)
//   PoolAllocator       LoadBalancer IPs from a pool of CIDRs and address ranges (no bands)
//   SubnetAllocator     per-node Pod CIDRs carved out of the cluster CIDR
import {
  type Cidr, type AddressRange, cidrSize, formatCidr, formatIPv4, parseAddressRange, parseCidr, subnetAt, subnetCount,
  subnetIndex, tryParseCidr, tryParseIPv4, Ipv4Error,
} from './ipv4.ts';
import { RangeAllocator, type AllocateResult, type RangeAllocatorSnapshot } from './range-allocator.ts';

/** KEP-3070: size of the static (lower) band of a service CIDR: min(max(16, cidrSize/16), 256). */
export function serviceIPBandOffset(cidr: Cidr): number {
  return Math.min(Math.max(16, Math.floor(cidrSize(cidr) / 16)), 256);
}

/** KEP-3668: size of the static (lower) band of a NodePort range: min(max(16, size/32), 128). */
export function nodePortBandOffset(rangeSize: number): number {
  return Math.min(Math.max(16, Math.floor(rangeSize / 32)), 128);
}

/** The address upstream gives the `kubernetes` Service: the first usable address of the service CIDR. */
export function kubernetesServiceIP(serviceCidr: string): string {
  return formatIPv4(parseCidr(serviceCidr).network + 1);
}

/** The conventional cluster DNS address: the 10th address of the service CIDR (10.96.0.10). */
export function clusterDNSServiceIP(serviceCidr: string): string {
  return formatIPv4(parseCidr(serviceCidr).network + 10);
}

export class ServiceIPAllocator {
  readonly cidr: Cidr;
  private readonly allocator: RangeAllocator;

  /** `reserved` addresses are marked allocated up front (e.g. the kubernetes and kube-dns IPs). */
  constructor(serviceCidr: string, options: { reserved?: readonly string[]; snapshot?: RangeAllocatorSnapshot } = {}) {
    this.cidr = parseCidr(serviceCidr, { strict: true });
    if (this.cidr.prefix > 30) throw new Ipv4Error('InvalidCidr', `service CIDR ${serviceCidr} is too small (need /30 or larger)`);
    const size = cidrSize(this.cidr) - 2; // network and broadcast excluded
    this.allocator = options.snapshot
      ? RangeAllocator.restore(options.snapshot)
      : new RangeAllocator(size, { bandOffset: serviceIPBandOffset(this.cidr) });
    if (this.allocator.size !== size) throw new RangeError('snapshot does not match the service CIDR');
    for (const ip of options.reserved ?? []) this.allocate(ip);
  }

  private indexOf(ip: string): number | undefined {
    const value = tryParseIPv4(ip);
    if (value === undefined) return undefined;
    const index = value - this.cidr.network - 1;
    return index >= 0 && index < this.allocator.size ? index : undefined;
  }

  contains(ip: string): boolean {
    return this.indexOf(ip) !== undefined;
  }

  allocate(ip: string): AllocateResult {
    const index = this.indexOf(ip);
    return index === undefined ? 'out-of-range' : this.allocator.allocate(index);
  }

  allocateNext(): string | undefined {
    const index = this.allocator.allocateNext();
    return index === undefined ? undefined : formatIPv4(this.cidr.network + 1 + index);
  }

  release(ip: string): boolean {
    const index = this.indexOf(ip);
    return index !== undefined && this.allocator.release(index);
  }

  has(ip: string): boolean {
    const index = this.indexOf(ip);
    return index !== undefined && this.allocator.has(index);
  }

  used(): number { return this.allocator.used(); }
  free(): number { return this.allocator.free(); }
  size(): number { return this.allocator.size; }
  snapshot(): RangeAllocatorSnapshot { return this.allocator.snapshot(); }
}

export interface PortRange {
  base: number;
  size: number;
}

/** Parses `30000-32767` (inclusive) or a single port. */
export function parsePortRange(text: string): PortRange {
  const match = /^\s*([0-9]{1,5})\s*(?:-\s*([0-9]{1,5})\s*)?$/.exec(text);
  const first = match?.[1] !== undefined ? Number(match[1]) : NaN;
  const last = match?.[2] !== undefined ? Number(match[2]) : first;
  if (!(first >= 1 && last <= 65535 && last >= first)) throw new RangeError(`invalid port range ${JSON.stringify(text)}`);
  return { base: first, size: last - first + 1 };
}

export class NodePortAllocator {
  readonly range: PortRange;
  private readonly allocator: RangeAllocator;

  constructor(range = '30000-32767', options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    this.range = parsePortRange(range);
    this.allocator = options.snapshot
      ? RangeAllocator.restore(options.snapshot)
      : new RangeAllocator(this.range.size, { bandOffset: nodePortBandOffset(this.range.size) });
    if (this.allocator.size !== this.range.size) throw new RangeError('snapshot does not match the port range');
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.base && port < this.range.base + this.range.size;
  }

  allocate(port: number): AllocateResult {
    return this.contains(port) ? this.allocator.allocate(port - this.range.base) : 'out-of-range';
  }

  allocateNext(): number | undefined {
    const index = this.allocator.allocateNext();
    return index === undefined ? undefined : this.range.base + index;
  }

  release(port: number): boolean {
    return this.contains(port) && this.allocator.release(port - this.range.base);
  }

  has(port: number): boolean {
    return this.contains(port) && this.allocator.has(port - this.range.base);
  }

  used(): number { return this.allocator.used(); }
  free(): number { return this.allocator.free(); }
  snapshot(): RangeAllocatorSnapshot { return this.allocator.snapshot(); }
}

/**
 * LoadBalancer IPs from a pool: entries are CIDRs (every address, like MetalLB's default) or inclusive
 * ranges `a-b`. Entries must not overlap. Allocation order follows the entries' order.
 */
export class PoolAllocator {
  readonly segments: readonly AddressRange[];
  private readonly starts: number[];
  private readonly allocator: RangeAllocator;

  constructor(pool: readonly string[], options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    const segments = pool.map((entry) => parseAddressRange(entry));
    for (let i = 0; i < segments.length; i++) {
      for (let j = i + 1; j < segments.length; j++) {
        const a = segments[i]!;
        const b = segments[j]!;
        if (a.first <= b.last && b.first <= a.last) throw new Ipv4Error('InvalidCidr', `pool entries ${pool[i]} and ${pool[j]} overlap`);
      }
    }
    this.segments = segments;
    this.starts = [];
    let total = 0;
    for (const segment of segments) {
      this.starts.push(total);
      total += segment.last - segment.first + 1;
    }
    this.allocator = options.snapshot ? RangeAllocator.restore(options.snapshot) : new RangeAllocator(total);
    if (this.allocator.size !== total) throw new RangeError('snapshot does not match the pool');
  }

  private indexOf(ip: string): number | undefined {
    const value = tryParseIPv4(ip);
    if (value === undefined) return undefined;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (value >= segment.first && value <= segment.last) return this.starts[i]! + (value - segment.first);
    }
    return undefined;
  }

  private addressOf(index: number): string {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (index >= this.starts[i]!) return formatIPv4(this.segments[i]!.first + index - this.starts[i]!);
    }
    throw new RangeError(`pool index ${index} out of range`);
  }

  contains(ip: string): boolean { return this.indexOf(ip) !== undefined; }

  allocate(ip: string): AllocateResult {
    const index = this.indexOf(ip);
    return index === undefined ? 'out-of-range' : this.allocator.allocate(index);
  }

  allocateNext(): string | undefined {
    const index = this.allocator.allocateNext();
    return index === undefined ? undefined : this.addressOf(index);
  }

  release(ip: string): boolean {
    const index = this.indexOf(ip);
    return index !== undefined && this.allocator.release(index);
  }

  has(ip: string): boolean {
    const index = this.indexOf(ip);
    return index !== undefined && this.allocator.has(index);
  }

  used(): number { return this.allocator.used(); }
  free(): number { return this.allocator.free(); }
  size(): number { return this.allocator.size; }
  snapshot(): RangeAllocatorSnapshot { return this.allocator.snapshot(); }
}

/** Node Pod CIDRs: the cluster CIDR split into /maskSize subnets (upstream's cidrset). */
export class SubnetAllocator {
  readonly clusterCidr: Cidr;
  readonly maskSize: number;
  private readonly allocator: RangeAllocator;

  constructor(clusterCidr: string, maskSize: number, options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    this.clusterCidr = parseCidr(clusterCidr, { strict: true });
    this.maskSize = maskSize;
    const count = subnetCount(this.clusterCidr, maskSize);
    if (count > 1 << 24) throw new Ipv4Error('InvalidCidr', `${clusterCidr} split into /${maskSize} gives too many subnets`);
    this.allocator = options.snapshot ? RangeAllocator.restore(options.snapshot) : new RangeAllocator(count);
    if (this.allocator.size !== count) throw new RangeError('snapshot does not match the cluster CIDR');
  }

  private indexOf(cidr: string): number | undefined {
    const parsed = tryParseCidr(cidr, { strict: true });
    if (parsed === undefined || parsed.prefix !== this.maskSize) return undefined;
    return subnetIndex(this.clusterCidr, parsed);
  }

  contains(cidr: string): boolean { return this.indexOf(cidr) !== undefined; }

  /** Marks a subnet as in use (an existing node's podCIDR). */
  occupy(cidr: string): AllocateResult {
    const index = this.indexOf(cidr);
    return index === undefined ? 'out-of-range' : this.allocator.allocate(index);
  }

  allocateNext(): string | undefined {
    const index = this.allocator.allocateNext();
    return index === undefined ? undefined : formatCidr(subnetAt(this.clusterCidr, this.maskSize, index));
  }

  release(cidr: string): boolean {
    const index = this.indexOf(cidr);
    return index !== undefined && this.allocator.release(index);
  }

  has(cidr: string): boolean {
    const index = this.indexOf(cidr);
    return index !== undefined && this.allocator.has(index);
  }

  used(): number { return this.allocator.used(); }
  free(): number { return this.allocator.free(); }
  size(): number { return this.allocator.size; }
  snapshot(): RangeAllocatorSnapshot { return this.allocator.snapshot(); }
}
