import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelay, sleep } from './backoff.ts';

describe('backoffDelay', () => {
  const cases: { name: string; attempt: number; random: number; jitter: number; want: number }[] = [
    { name: 'the first retry waits the initial delay', attempt: 0, random: 0.5, jitter: 0, want: 100 },
    { name: 'each retry doubles the delay', attempt: 3, random: 0.5, jitter: 0, want: 800 },
    { name: 'delays stop at the cap', attempt: 10, random: 0.5, jitter: 0, want: 5000 },
    { name: 'a huge attempt number still yields the cap', attempt: 5000, random: 0.5, jitter: 0, want: 5000 },
    { name: 'jitter at the low end shortens the delay by the jitter fraction', attempt: 1, random: 0, jitter: 0.5, want: 100 },
    { name: 'jitter at the high end lengthens it by the fraction', attempt: 1, random: 0.999999, jitter: 0.5, want: 300 },
    { name: 'jitter never pushes past the cap', attempt: 20, random: 0.999999, jitter: 0.5, want: 5000 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(backoffDelay(c.attempt, { initialMs: 100, maxMs: 5000, jitter: c.jitter, random: () => c.random }), c.want);
    });
  }

  it('stays at zero when the initial delay is zero', () => {
    assert.equal(backoffDelay(2000, { initialMs: 0, maxMs: 10 }), 0);
  });
});

describe('Backoff', () => {
  it('grows with each next() and starts over after reset()', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 50 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 20, 40, 50]);
    assert.equal(b.attempts, 4);
    b.reset();
    assert.equal(b.next(), 10);
  });

  it('rejects a cap below the initial delay', () => {
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
  });
});

describe('sleep', () => {
  it('returns early when its signal aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(5000, ac.signal);
    assert.ok(Date.now() - started < 1000);
  });
});
