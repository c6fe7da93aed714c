import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { age, humanDuration } from './duration.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [-1500, '0s'],
    [-2 * s, '<invalid>'],
    [5 * s, '5s'],
    [5 * s + 999, '5s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [2 * m + 3 * s, '2m3s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 4 * m, '3h4m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 3 * h, '2d3h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d + 5 * h, '8d'],
    [45 * d, '45d'],
    [729 * d, '729d'],
    [730 * d, '2y'],
    [740 * d, '2y10d'],
    [8 * 365 * d, '8y'],
    [10 * 365 * d + 100 * d, '10y'],
  ];
  for (const [ms, want] of cases) {
    it(`renders ${ms} ms as ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe('age', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  it('measures a timestamp against the given instant', () => {
    assert.equal(age('2025-03-01T11:57:00Z', now), '3m');
    assert.equal(age('2025-02-27T09:00:00Z', now), '2d3h');
  });
  it('reads <unknown> when the timestamp is missing or unparseable', () => {
    assert.equal(age(undefined, now), '<unknown>');
    assert.equal(age(null, now), '<unknown>');
    assert.equal(age('', now), '<unknown>');
    assert.equal(age('yesterday-ish', now), '<unknown>');
  });
  it('reads <invalid> for a creation time well in the future', () => {
    assert.equal(age('2025-03-01T12:00:10Z', now), '<invalid>');
  });
});
