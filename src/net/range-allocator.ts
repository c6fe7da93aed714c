// A bitmap allocator over the integer range [0, size). Dynamic allocation (`allocateNext`) follows
// KEP-3070 (Service IPs) and KEP-3668 (NodePorts): the range is split at `bandOffset` into a lower
// "static" band and an upper "dynamic" band; dynamic allocation takes from the upper band first and
// only falls back to the lower band when the upper one is full, so users who pick specific values in
// the lower band rarely collide. Within the upper band the scan starts just after the previous dynamic
// allocation and wraps (a rotating start: a value just released is not handed out again at once).
// Upstream starts at a random offset; we rotate instead so that results are deterministic.

export type AllocateResult = 'allocated' | 'already-allocated' | 'out-of-range';

export interface RangeAllocatorSnapshot {
  size: number;
  bandOffset: number;
  /** Where the next dynamic scan of the upper band starts. */
  cursor: number;
  /** Allocated values as inclusive runs [first, last], ascending. */
  allocated: [number, number][];
}

export interface RangeAllocatorOptions {
  /** Start of the dynamic band (0: no banding). Clamped to [0, size]. */
  bandOffset?: number;
}

export class RangeAllocator {
  readonly size: number;
  readonly bandOffset: number;
  private readonly bits: Uint32Array;
  private usedCount = 0;
  private cursor: number;

  constructor(size: number, options: RangeAllocatorOptions = {}) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`invalid allocator size ${size}`);
    this.size = size;
    const offset = Math.trunc(options.bandOffset ?? 0);
    this.bandOffset = offset >= size ? 0 : Math.max(0, offset);
    this.bits = new Uint32Array(Math.ceil(size / 32));
    this.cursor = this.bandOffset;
  }

  has(index: number): boolean {
    if (!this.inRange(index)) return false;
    return ((this.bits[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
  }

  /** Marks a specific value as allocated. */
  allocate(index: number): AllocateResult {
    if (!this.inRange(index)) return 'out-of-range';
    if (this.has(index)) return 'already-allocated';
    this.set(index);
    return 'allocated';
  }

  /** Allocates a free value (upper band first, rotating), or undefined when the range is full. */
  allocateNext(): number | undefined {
    if (this.usedCount >= this.size) return undefined;
    const upperStart = this.bandOffset;
    let start = this.cursor;
    if (start < upperStart || start >= this.size) start = upperStart;
    let found = this.findFree(start, this.size);
    if (found < 0) found = this.findFree(upperStart, start);
    if (found >= 0) {
      this.set(found);
      this.cursor = found + 1 >= this.size ? upperStart : found + 1;
      return found;
    }
    found = this.findFree(0, upperStart);
    if (found < 0) return undefined;
    this.set(found);
    return found;
  }

  release(index: number): boolean {
    if (!this.has(index)) return false;
    const word = index >>> 5;
    this.bits[word] = ((this.bits[word] ?? 0) & ~(1 << (index & 31))) >>> 0;
    this.usedCount--;
    return true;
  }

  used(): number {
    return this.usedCount;
  }

  free(): number {
    return this.size - this.usedCount;
  }

  /** Allocated values in ascending order. */
  *values(): Generator<number> {
    for (let word = 0; word < this.bits.length; word++) {
      const bits = this.bits[word] ?? 0;
      if (bits === 0) continue;
      for (let bit = 0; bit < 32; bit++) if ((bits & (1 << bit)) !== 0) yield word * 32 + bit;
    }
  }

  snapshot(): RangeAllocatorSnapshot {
    const allocated: [number, number][] = [];
    for (const value of this.values()) {
      const last = allocated[allocated.length - 1];
      if (last !== undefined && last[1] === value - 1) last[1] = value;
      else allocated.push([value, value]);
    }
    return { size: this.size, bandOffset: this.bandOffset, cursor: this.cursor, allocated };
  }

  static restore(snapshot: RangeAllocatorSnapshot): RangeAllocator {
    const allocator = new RangeAllocator(snapshot.size, { bandOffset: snapshot.bandOffset });
    for (const [first, last] of snapshot.allocated) {
      if (!allocator.inRange(first) || !allocator.inRange(last) || last < first) {
        throw new RangeError(`snapshot run [${first}, ${last}] is outside [0, ${snapshot.size})`);
      }
      for (let value = first; value <= last; value++) allocator.allocate(value);
    }
    allocator.cursor = snapshot.cursor;
    return allocator;
  }

  private inRange(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.size;
  }

  private set(index: number): void {
    const word = index >>> 5;
    this.bits[word] = ((this.bits[word] ?? 0) | (1 << (index & 31))) >>> 0;
    this.usedCount++;
  }

  /** First free value in [from, to), or -1. Skips full 32-bit words. */
  private findFree(from: number, to: number): number {
    let index = from;
    while (index < to) {
      if ((index & 31) === 0 && (this.bits[index >>> 5] ?? 0) === 0xffffffff) {
        index += 32;
        continue;
      }
      if (!this.has(index)) return index;
      index++;
    }
    return -1;
  }
}
