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

/**
 * A RangeAllocator addressed by values (IP text, port, CIDR text) instead of indices: a subclass says which
 * index a value has (undefined outside its range) and which value an index stands for.
 */
abstract class ValueAllocator<V> {
  readonly #allocator: RangeAllocator;

  /** A fresh allocator of `size` indices, or the restored `snapshot`, which must be of that size (else "snapshot does not match `what`"). */
  protected constructor(size: number, options: { snapshot?: RangeAllocatorSnapshot | undefined; bandOffset?: number }, what: string) {
    this.#allocator = options.snapshot
      ? RangeAllocator.restore(options.snapshot)
      : new RangeAllocator(size, options.bandOffset !== undefined ? { bandOffset: options.bandOffset } : {});
    if (this.#allocator.size !== size) throw new RangeError(`snapshot does not match ${what}`);
  }

  protected abstract indexOf(value: V): number | undefined;
  protected abstract valueAt(index: number): V;

  contains(value: V): boolean {
    return this.indexOf(value) !== undefined;
  }

  allocate(value: V): AllocateResult {
    const index = this.indexOf(value);
    return index === undefined ? 'out-of-range' : this.#allocator.allocate(index);
  }

  allocateNext(): V | undefined {
    const index = this.#allocator.allocateNext();
    return index === undefined ? undefined : this.valueAt(index);
  }

  release(value: V): boolean {
    const index = this.indexOf(value);
    return index !== undefined && this.#allocator.release(index);
  }

  has(value: V): boolean {
    const index = this.indexOf(value);
    return index !== undefined && this.#allocator.has(index);
  }

  used(): number { return this.#allocator.used(); }
  free(): number { return this.#allocator.free(); }
  size(): number { return this.#allocator.size; }
  snapshot(): RangeAllocatorSnapshot { return this.#allocator.snapshot(); }
}

export class ServiceIPAllocator extends ValueAllocator<string> {
  readonly cidr: Cidr;

  /** `reserved` addresses are marked allocated up front (e.g. the kubernetes and kube-dns IPs). */
  constructor(serviceCidr: string, options: { reserved?: readonly string[]; snapshot?: RangeAllocatorSnapshot } = {}) {
    const cidr = parseCidr(serviceCidr, { strict: true });
    if (cidr.prefix > 30) throw new Ipv4Error('InvalidCidr', `service CIDR ${serviceCidr} is too small (need /30 or larger)`);
    // Network and broadcast excluded.
    super(cidrSize(cidr) - 2, { snapshot: options.snapshot, bandOffset: serviceIPBandOffset(cidr) }, 'the service CIDR');
    this.cidr = cidr;
    for (const ip of options.reserved ?? []) this.allocate(ip);
  }

  protected indexOf(ip: string): number | undefined {
    const value = tryParseIPv4(ip);
    if (value === undefined) return undefined;
    const index = value - this.cidr.network - 1;
    return index >= 0 && index < this.size() ? index : undefined;
  }

  protected valueAt(index: number): string {
    return formatIPv4(this.cidr.network + 1 + index);
  }
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

export class NodePortAllocator extends ValueAllocator<number> {
  readonly range: PortRange;

  constructor(range = '30000-32767', options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    const ports = parsePortRange(range);
    super(ports.size, { snapshot: options.snapshot, bandOffset: nodePortBandOffset(ports.size) }, 'the port range');
    this.range = ports;
  }

  protected indexOf(port: number): number | undefined {
    return Number.isInteger(port) && port >= this.range.base && port < this.range.base + this.range.size ? port - this.range.base : undefined;
  }

  protected valueAt(index: number): number {
    return this.range.base + index;
  }
}

/**
 * LoadBalancer IPs from a pool: entries are CIDRs (every address, like MetalLB's default) or inclusive
 * ranges `a-b`. Entries must not overlap. Allocation order follows the entries' order.
 */
export class PoolAllocator extends ValueAllocator<string> {
  readonly segments: readonly AddressRange[];
  private readonly starts: number[];

  constructor(pool: readonly string[], options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    const segments = pool.map((entry) => parseAddressRange(entry));
    for (let i = 0; i < segments.length; i++) {
      for (let j = i + 1; j < segments.length; j++) {
        const a = segments[i]!;
        const b = segments[j]!;
        if (a.first <= b.last && b.first <= a.last) throw new Ipv4Error('InvalidCidr', `pool entries ${pool[i]} and ${pool[j]} overlap`);
      }
    }
    const starts: number[] = [];
    let total = 0;
    for (const segment of segments) {
      starts.push(total);
      total += segment.last - segment.first + 1;
    }
    super(total, { snapshot: options.snapshot }, 'the pool');
    this.segments = segments;
    this.starts = starts;
  }

  protected indexOf(ip: string): number | undefined {
    const value = tryParseIPv4(ip);
    if (value === undefined) return undefined;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (value >= segment.first && value <= segment.last) return this.starts[i]! + (value - segment.first);
    }
    return undefined;
  }

  protected valueAt(index: number): string {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (index >= this.starts[i]!) return formatIPv4(this.segments[i]!.first + index - this.starts[i]!);
    }
    throw new RangeError(`pool index ${index} out of range`);
  }
}

/** Node Pod CIDRs: the cluster CIDR split into /maskSize subnets (upstream's cidrset). */
export class SubnetAllocator extends ValueAllocator<string> {
  readonly clusterCidr: Cidr;
  readonly maskSize: number;

  constructor(clusterCidr: string, maskSize: number, options: { snapshot?: RangeAllocatorSnapshot } = {}) {
    const cluster = parseCidr(clusterCidr, { strict: true });
    const count = subnetCount(cluster, maskSize);
    if (count > 1 << 24) throw new Ipv4Error('InvalidCidr', `${clusterCidr} split into /${maskSize} gives too many subnets`);
    super(count, { snapshot: options.snapshot }, 'the cluster CIDR');
    this.clusterCidr = cluster;
    this.maskSize = maskSize;
  }

  protected indexOf(cidr: string): number | undefined {
    const parsed = tryParseCidr(cidr, { strict: true });
    if (parsed === undefined || parsed.prefix !== this.maskSize) return undefined;
    return subnetIndex(this.clusterCidr, parsed);
  }

  protected valueAt(index: number): string {
    return formatCidr(subnetAt(this.clusterCidr, this.maskSize, index));
  }

  /** Marks a subnet as in use (an existing node's podCIDR): allocate under the name the IPAM core uses. */
  occupy(cidr: string): AllocateResult {
    return this.allocate(cidr);
  }
}
