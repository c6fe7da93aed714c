import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkQueue } from './work-queue.ts';

/** A promise with its resolver, to hold a handler open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('WorkQueue', () => {
  it('processes a key added several times before a worker picks it up only once', async () => {
    const q = new WorkQueue<string>();
    const seen: string[] = [];
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    assert.equal(q.length, 2);
    q.run((k) => void seen.push(k));
    await q.whenIdle();
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('runs a key re-added while it is processing exactly once more afterwards, never concurrently', async () => {
    const q = new WorkQueue<string>({ concurrency: 4 });
    const first = gate();
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    q.run(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (calls === 1) await first.promise;
      running--;
    });
    q.add('k');
    await delay(5);
    q.add('k');
    q.add('k');
    await delay(5);
    assert.equal(calls, 1, 'the re-added key waits for the running handler');
    first.open();
    await q.whenIdle();
    assert.equal(calls, 2);
    assert.equal(maxRunning, 1);
  });

  const concurrencies = [1, 3];
  for (const concurrency of concurrencies) {
    it(`never runs more than ${concurrency} handler(s) at once`, async () => {
      const q = new WorkQueue<number>({ concurrency });
      let running = 0;
      let maxRunning = 0;
      const done: number[] = [];
      q.run(async (k) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await delay(5);
        running--;
        done.push(k);
      });
      for (let i = 0; i < 10; i++) q.add(i);
      await q.whenIdle();
      assert.equal(maxRunning, concurrency);
      assert.equal(done.length, 10);
    });
  }

  it('requeues a failing key with growing delays and forgets its failures once it succeeds', async () => {
    const q = new WorkQueue<string>({ baseDelayMs: 20, maxDelayMs: 1000, jitter: 0 });
    const times: number[] = [];
    q.run(() => {
      times.push(Date.now());
      if (times.length <= 3) throw new Error('not yet');
    });
    q.add('x');
    await q.whenIdle();
    assert.equal(times.length, 4);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // Nominal delays 20, 40, 80 ms; timers never fire early (allow 2 ms of clock rounding).
    assert.ok((gaps[0] as number) >= 18, `first gap ${gaps[0]}`);
    assert.ok((gaps[1] as number) >= 38, `second gap ${gaps[1]}`);
    assert.ok((gaps[2] as number) >= 78, `third gap ${gaps[2]}`);
    assert.equal(q.numRequeues('x'), 0);
  });

  it('drops a key after maxRetries retries and reports it', async () => {
    const dropped: string[] = [];
    const errors: number[] = [];
    const q = new WorkQueue<string>({ baseDelayMs: 1, jitter: 0, maxRetries: 2, onDrop: (k) => dropped.push(k), onError: (_k, _e, n) => errors.push(n) });
    let calls = 0;
    q.run(() => {
      calls++;
      throw new Error('always');
    });
    q.add('bad');
    await q.whenIdle();
    assert.equal(calls, 3, 'one try plus two retries');
    assert.deepEqual(errors, [1, 2, 3]);
    assert.deepEqual(dropped, ['bad']);
    assert.equal(q.numRequeues('bad'), 0);
  });

  it('computes rate-limit delays that double per failure up to the cap', () => {
    const q = new WorkQueue<string>({ baseDelayMs: 5, maxDelayMs: 100, jitter: 0 });
    assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => q.backoffFor(n)), [5, 10, 20, 40, 80, 100, 100]);
  });

  it('keeps the earliest time when a key is scheduled twice with addAfter', async () => {
    const q = new WorkQueue<string>();
    const at: number[] = [];
    const start = Date.now();
    q.run(() => void at.push(Date.now() - start));
    q.addAfter('k', 500);
    q.addAfter('k', 20);
    q.addAfter('k', 300);
    await q.whenIdle();
    assert.equal(at.length, 1);
    assert.ok((at[0] as number) < 450, `ran after ${at[0]}ms`);
  });

  it('on shutdown drops waiting and delayed keys and waits for the handler in flight', async () => {
    const q = new WorkQueue<string>();
    const hold = gate();
    const seen: string[] = [];
    let finished = false;
    q.run(async (k) => {
      seen.push(k);
      await hold.promise;
      finished = true;
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 10);
    await delay(5);
    const stopping = q.shutdown();
    hold.open();
    await stopping;
    assert.equal(finished, true);
    q.add('d');
    await delay(30);
    assert.deepEqual(seen, ['a']);
    assert.equal(q.length, 0);
  });

  it('rejects a concurrency that is not a positive integer', () => {
    for (const concurrency of [0, -1, 1.5]) assert.throws(() => new WorkQueue({ concurrency }), RangeError);
  });
});
