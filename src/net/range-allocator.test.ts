import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RangeAllocator } from './range-allocator.ts';

describe('RangeAllocator', () => {
  it('allocates from the upper band first, then falls back to the lower band', () => {
    const a = new RangeAllocator(8, { bandOffset: 3 });
    const got: number[] = [];
    for (let i = 0; i < 8; i++) got.push(a.allocateNext() ?? -1);
    assert.deepEqual(got, [3, 4, 5, 6, 7, 0, 1, 2]);
    assert.equal(a.allocateNext(), undefined);
    assert.equal(a.used(), 8);
    assert.equal(a.free(), 0);
  });

  it('rotates: a released value is not reused before the rest of the band is tried', () => {
    const a = new RangeAllocator(6, { bandOffset: 2 });
    assert.equal(a.allocateNext(), 2);
    assert.equal(a.allocateNext(), 3);
    assert.equal(a.release(2), true);
    assert.equal(a.allocateNext(), 4);
    assert.equal(a.allocateNext(), 5);
    assert.equal(a.allocateNext(), 2, 'wraps within the upper band before touching the lower band');
    assert.equal(a.allocateNext(), 0);
  });

  it('skips values allocated statically', () => {
    const a = new RangeAllocator(70);
    for (let i = 0; i < 64; i++) assert.equal(a.allocate(i), 'allocated');
    assert.equal(a.allocateNext(), 64);
  });

  const specific: [string, number, string][] = [
    ['a free value', 5, 'allocated'],
    ['a taken value', 1, 'already-allocated'],
    ['a negative value', -1, 'out-of-range'],
    ['a value past the end', 10, 'out-of-range'],
    ['a fraction', 2.5, 'out-of-range'],
  ];
  for (const [what, value, expected] of specific) {
    it(`allocating ${what} reports ${expected}`, () => {
      const a = new RangeAllocator(10);
      a.allocate(1);
      assert.equal(a.allocate(value), expected);
    });
  }

  it('release of a free value reports false and leaves the count alone', () => {
    const a = new RangeAllocator(4);
    a.allocate(1);
    assert.equal(a.release(2), false);
    assert.equal(a.release(1), true);
    assert.equal(a.used(), 0);
    assert.equal(a.has(1), false);
  });

  it('a snapshot restores the same allocations and the same next value', () => {
    const a = new RangeAllocator(100, { bandOffset: 16 });
    for (let i = 0; i < 5; i++) a.allocateNext();
    a.allocate(3);
    a.allocate(4);
    a.allocate(99);
    const snap = a.snapshot();
    assert.deepEqual(snap.allocated, [[3, 4], [16, 20], [99, 99]]);
    const b = RangeAllocator.restore(JSON.parse(JSON.stringify(snap)));
    assert.deepEqual([...b.values()], [...a.values()]);
    assert.equal(b.allocateNext(), a.allocateNext());
  });

  it('restoring a snapshot with a run outside the range fails', () => {
    assert.throws(() => RangeAllocator.restore({ size: 4, bandOffset: 0, cursor: 0, allocated: [[2, 9]] }), RangeError);
  });

  it('a band offset not smaller than the size disables banding', () => {
    const a = new RangeAllocator(4, { bandOffset: 16 });
    assert.equal(a.bandOffset, 0);
    assert.equal(a.allocateNext(), 0);
  });
});
