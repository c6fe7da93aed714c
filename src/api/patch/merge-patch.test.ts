import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from './merge-patch.ts';

describe('applyMergePatch', () => {
  // The examples of RFC 7386, appendix A.
  const rfc: { name: string; target: unknown; patch: unknown; want: unknown }[] = [
    { name: 'a changed member is replaced', target: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'a new member is added', target: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
    { name: 'null removes a member', target: { a: 'b' }, patch: { a: null }, want: {} },
    { name: 'null removes only the named member', target: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
    { name: 'an array replaces an array', target: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'a scalar replaces an array', target: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
    { name: 'nested objects merge and null deletes inside them', target: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
    { name: 'arrays of objects are replaced, not merged', target: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
    { name: 'arrays replace whole', target: ['a', 'b'], patch: ['c', 'd'], want: ['c', 'd'] },
    { name: 'an array patch replaces an object target', target: { a: 'b' }, patch: ['c'], want: ['c'] },
    { name: 'a null patch yields null', target: { a: 'foo' }, patch: null, want: null },
    { name: 'a string patch yields the string', target: { a: 'foo' }, patch: 'bar', want: 'bar' },
    { name: 'an existing null member is kept when the patch leaves it alone', target: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
    { name: 'an array target becomes an object when the patch is an object', target: [1, 2], patch: { a: 'b', c: null }, want: { a: 'b' } },
    { name: 'nulls inside a new nested object are dropped', target: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
  ];
  for (const c of rfc) {
    it(c.name, () => assert.deepEqual(applyMergePatch(c.target, c.patch), c.want));
  }

  it('the target is not modified', () => {
    const target = { metadata: { labels: { a: '1' } } };
    applyMergePatch(target, { metadata: { labels: { a: null, b: '2' } } });
    assert.deepEqual(target, { metadata: { labels: { a: '1' } } });
  });
});
