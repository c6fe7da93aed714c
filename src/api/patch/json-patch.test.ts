import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from '../errors.ts';
import { applyJsonPatch, JsonPatchError, MAX_JSON_PATCH_OPERATIONS, parseJsonPatch, parsePointer } from './json-patch.ts';

const doc = {
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'example.com/owner': 'team-a', 'a~b': 'tilde' } },
  spec: { ports: [{ port: 80 }, { port: 443 }] },
};

/** The value at a dotted path ('' for the whole document). */
function pick(v: unknown, path: string): unknown {
  let cur = v;
  for (const p of path === '' ? [] : path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur;
}

const apply = (ops: unknown[]): unknown => applyJsonPatch(doc, parseJsonPatch(JSON.stringify(ops)));

function apiErrorOf(fn: () => unknown): { code: number; reason: string; message: string; cause: unknown; details: unknown } {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    return { code: e.code, reason: e.reason, message: e.message, cause: e.cause, details: e.details };
  }
  assert.fail('expected an ApiError');
}

describe('applyJsonPatch', () => {
  const cases: { name: string; ops: unknown[]; at: string; want: unknown }[] = [
    { name: 'add sets a new member', ops: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }], at: 'metadata.labels', want: { app: 'web', tier: 'front' } },
    { name: 'add with - appends to an array', ops: [{ op: 'add', path: '/spec/ports/-', value: { port: 8080 } }], at: 'spec.ports', want: [{ port: 80 }, { port: 443 }, { port: 8080 }] },
    { name: 'add at an index inserts before it', ops: [{ op: 'add', path: '/spec/ports/0', value: { port: 22 } }], at: 'spec.ports', want: [{ port: 22 }, { port: 80 }, { port: 443 }] },
    { name: 'remove deletes a member', ops: [{ op: 'remove', path: '/metadata/labels/app' }], at: 'metadata.labels', want: {} },
    { name: 'remove deletes an array item', ops: [{ op: 'remove', path: '/spec/ports/0' }], at: 'spec.ports', want: [{ port: 443 }] },
    { name: 'replace changes a value', ops: [{ op: 'replace', path: '/spec/ports/1/port', value: 8443 }], at: 'spec.ports', want: [{ port: 80 }, { port: 8443 }] },
    { name: '~1 in a pointer addresses a key containing a slash', ops: [{ op: 'replace', path: '/metadata/annotations/example.com~1owner', value: 'team-b' }],
      at: 'metadata.annotations', want: { 'example.com/owner': 'team-b', 'a~b': 'tilde' } },
    { name: '~0 in a pointer addresses a key containing a tilde', ops: [{ op: 'remove', path: '/metadata/annotations/a~0b' }],
      at: 'metadata.annotations', want: { 'example.com/owner': 'team-a' } },
    { name: 'move relocates a value', ops: [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' }], at: 'metadata.labels', want: { name: 'web' } },
    { name: 'copy duplicates a value', ops: [{ op: 'copy', from: '/spec/ports/0', path: '/spec/ports/-' }], at: 'spec.ports', want: [{ port: 80 }, { port: 443 }, { port: 80 }] },
    { name: 'a passing test lets later operations apply', ops: [{ op: 'test', path: '/metadata/name', value: 'web' }, { op: 'replace', path: '/metadata/name', value: 'x' }],
      at: 'metadata.name', want: 'x' },
    { name: 'test compares structures regardless of key order', ops: [{ op: 'test', path: '/metadata/labels', value: { app: 'web' } }], at: 'metadata.name', want: 'web' },
    { name: 'replace of the root replaces the document', ops: [{ op: 'replace', path: '', value: { metadata: { name: 'new' } } }], at: '', want: { metadata: { name: 'new' } } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(pick(apply(c.ops), c.at), c.want));
  }

  const failures: { name: string; ops: unknown[]; why: RegExp }[] = [
    { name: 'a failed test rejects the patch', ops: [{ op: 'test', path: '/metadata/name', value: 'other' }], why: /^testing value \/metadata\/name failed/ },
    { name: 'removing a missing member rejects the patch', ops: [{ op: 'remove', path: '/metadata/labels/none' }], why: /nonexistent key/ },
    { name: 'replacing a missing member rejects the patch', ops: [{ op: 'replace', path: '/metadata/nope', value: 1 }], why: /missing key/ },
    { name: 'adding under a missing parent rejects the patch', ops: [{ op: 'add', path: '/status/phase', value: 'x' }], why: /missing path/ },
    { name: 'an index past the end rejects the patch', ops: [{ op: 'add', path: '/spec/ports/5', value: {} }], why: /out of bounds/ },
    { name: 'an unknown operation rejects the patch', ops: [{ op: 'frobnicate', path: '/a' }], why: /Unexpected kind: frobnicate/ },
    { name: 'an add without a value rejects the patch', ops: [{ op: 'add', path: '/a' }], why: /missing value/ },
    { name: 'a pointer without a leading slash rejects the patch', ops: [{ op: 'add', path: 'a', value: 1 }], why: /start with/ },
  ];
  for (const c of failures) {
    it(c.name, () => {
      const err = apiErrorOf(() => apply(c.ops));
      assert.deepEqual([err.code, err.reason, err.message], [422, 'Invalid', 'the server rejected our request due to an error in our request']);
      assert.deepEqual(err.details, {});
      assert.ok(err.cause instanceof JsonPatchError);
      assert.match(err.cause.message, c.why);
    });
  }

  it('a failing later operation leaves the input untouched', () => {
    const before = JSON.stringify(doc);
    apiErrorOf(() => apply([{ op: 'remove', path: '/metadata/labels/app' }, { op: 'test', path: '/x', value: 1 }]));
    assert.equal(JSON.stringify(doc), before);
  });

  it('test of a missing member against null passes, as upstream treats it', () => {
    assert.doesNotThrow(() => apply([{ op: 'test', path: '/metadata/missing', value: null }]));
  });
});

describe('parseJsonPatch', () => {
  const invalid: { name: string; body: string; code: number; message: string | RegExp }[] = [
    { name: 'malformed JSON is a 400', body: '[{"op":', code: 400, message: /^error decoding patch: / },
    { name: 'an object instead of a list is a 400 worded like Go', body: '{"op":"add"}', code: 400, message: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' },
    { name: 'a list of strings is a 400', body: '["add"]', code: 400, message: 'json: cannot unmarshal string into Go value of type jsonpatch.Operation' },
    { name: 'more operations than the cap is a 413', body: JSON.stringify(Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '' }))),
      code: 413, message: `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${MAX_JSON_PATCH_OPERATIONS + 1}` },
  ];
  for (const c of invalid) {
    it(c.name, () => {
      const err = apiErrorOf(() => parseJsonPatch(c.body));
      assert.equal(err.code, c.code);
      if (typeof c.message === 'string') assert.equal(err.message, c.message);
      else assert.match(err.message, c.message);
    });
  }

  it('a null body is an empty patch', () => assert.deepEqual(parseJsonPatch('null'), []));

  it('pointers unescape ~1 before ~0 so ~01 stays ~1', () => assert.deepEqual(parsePointer('/a~01/b~1c'), ['a~1', 'b/c']));
});
