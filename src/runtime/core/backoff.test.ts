import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UPSTREAM_CRASHLOOP_BACKOFF, crashLoopMessage, decideRestart, formatGoDuration, nextEntry } from './backoff.ts';
import type { BackoffEntry } from './backoff.ts';

const cfg = UPSTREAM_CRASHLOOP_BACKOFF;

describe('crash-loop back-off', () => {
  it('restarts immediately after the first exit and arms a 10 s window', () => {
    const d = decideRestart(undefined, 1000, 1000, cfg);
    assert.deepEqual(d, { kind: 'restart-now', entry: { windowMs: 10_000, lastUpdateMs: 1000 } });
  });

  it('doubles the window 10s, 20s, 40s, ... and caps it at 5 minutes', () => {
    let entry: BackoffEntry | undefined;
    const windows: number[] = [];
    let t = 0;
    for (let i = 0; i < 8; i++) {
      entry = nextEntry(entry, t, t, cfg);
      windows.push(entry.windowMs);
      t += entry.windowMs + 1; // crash right after each restart
    }
    assert.deepEqual(windows, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  const table: { name: string; entry: BackoffEntry; finishedAt: number; now: number; kind: 'restart-now' | 'back-off'; untilMs?: number }[] = [
    { name: 'an exit inside the window waits until finishedAt + window', entry: { windowMs: 20_000, lastUpdateMs: 0 }, finishedAt: 5_000, now: 6_000, kind: 'back-off', untilMs: 25_000 },
    { name: 'once the window has passed the container restarts', entry: { windowMs: 20_000, lastUpdateMs: 0 }, finishedAt: 5_000, now: 25_000, kind: 'restart-now' },
    { name: 'a container that ran longer than 10 minutes is not held back', entry: { windowMs: 300_000, lastUpdateMs: 0 }, finishedAt: 600_001, now: 600_002, kind: 'restart-now' },
  ];
  for (const row of table) {
    it(row.name, () => {
      const d = decideRestart(row.entry, row.finishedAt, row.now, cfg);
      assert.equal(d.kind, row.kind);
      if (d.kind === 'back-off') assert.equal(d.untilMs, row.untilMs);
    });
  }

  it('resets to the initial window after 10 minutes of running', () => {
    const d = decideRestart({ windowMs: 300_000, lastUpdateMs: 0 }, 700_000, 700_000, cfg);
    assert.equal(d.kind, 'restart-now');
    if (d.kind === 'restart-now') assert.equal(d.entry.windowMs, 10_000);
  });

  it('formats durations like Go and builds the kubelet message', () => {
    assert.equal(formatGoDuration(10_000), '10s');
    assert.equal(formatGoDuration(80_000), '1m20s');
    assert.equal(formatGoDuration(300_000), '5m0s');
    assert.equal(crashLoopMessage(40_000, 'app', 'web', 'default', 'u1'), 'back-off 40s restarting failed container=app pod=web_default(u1)');
  });
});
