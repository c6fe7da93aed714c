import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeTemplateHash, fnv1a32, safeEncodeString } from './hash.ts';

describe('template hash', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const vectors: [string, number][] = [['', 0x811c9dc5], ['a', 0xe40c292c], ['foobar', 0xbf9cf968]];
  for (const [input, expected] of vectors) {
    it(`FNV-1a 32 of ${JSON.stringify(input)} is the published test vector`, () => assert.equal(fnv1a32(enc(input)), expected));
  }
  it('maps decimal digits into the safe alphabet as upstream (0->4 ... 6->b ... 9->f)', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });
  it('ignores key order but not values, and changes with the collision count', () => {
    const a = computeTemplateHash({ spec: { containers: [{ name: 'c', image: 'nginx:1' }] }, metadata: { labels: { app: 'x' } } });
    const b = computeTemplateHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ image: 'nginx:1', name: 'c' }] } });
    const c = computeTemplateHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ image: 'nginx:2', name: 'c' }] } });
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.notEqual(computeTemplateHash({ x: 1 }, 1), computeTemplateHash({ x: 1 }));
    assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
});
