import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { applyPatch, patchTypeOf } from './index.ts';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1' }, { name: 'side', image: 'busybox' }] } } },
};

function apiErrorOf(fn: () => unknown): { code: number; reason: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    return { code: e.code, reason: e.reason, message: e.message };
  }
  assert.fail('expected an ApiError');
}

const containers = (o: KubeObject): unknown => ((o.spec as { template: { spec: { containers: unknown } } }).template.spec.containers);

describe('applyPatch', () => {
  it('a strategic merge patch merges containers by name', () => {
    const out = applyPatch('Deployment', 'application/strategic-merge-patch+json', deployment,
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } }));
    assert.deepEqual(containers(out), [{ name: 'nginx', image: 'nginx:2' }, { name: 'side', image: 'busybox' }]);
  });

  it('a merge patch replaces the containers list', () => {
    const out = applyPatch('Deployment', 'application/merge-patch+json', deployment,
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } }));
    assert.deepEqual(containers(out), [{ name: 'nginx', image: 'nginx:2' }]);
  });

  it('a JSON patch edits by pointer, and media type parameters are ignored', () => {
    const out = applyPatch('Deployment', 'Application/JSON-Patch+JSON; charset=utf-8', deployment,
      JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 3 }]));
    assert.equal((out.spec as { replicas: number }).replicas, 3);
  });

  it('the original object is not modified', () => {
    const before = JSON.stringify(deployment);
    applyPatch('Deployment', 'application/merge-patch+json', deployment, '{"metadata":{"labels":null}}');
    assert.equal(JSON.stringify(deployment), before);
  });

  it('a null merge patch leaves the object unchanged', () => {
    assert.deepEqual(applyPatch('Deployment', 'application/merge-patch+json', deployment, 'null'), deployment);
  });

  const errors: { name: string; contentType: string; body: string; code: number; reason: string }[] = [
    { name: 'a malformed strategic patch body is a 400', contentType: 'application/strategic-merge-patch+json', body: '{', code: 400, reason: 'BadRequest' },
    { name: 'a malformed merge patch body is a 400', contentType: 'application/merge-patch+json', body: 'nope', code: 400, reason: 'BadRequest' },
    { name: 'plain JSON is not a patch type (415)', contentType: 'application/json', body: '{}', code: 415, reason: 'UnsupportedMediaType' },
    { name: 'apply patches are not handled here (415)', contentType: 'application/apply-patch+yaml', body: '{}', code: 415, reason: 'UnsupportedMediaType' },
    { name: 'a merge patch that turns the object into a list is a 422', contentType: 'application/merge-patch+json', body: '[1]', code: 422, reason: 'Invalid' },
    { name: 'a JSON patch that replaces metadata with a string is a 422', contentType: 'application/json-patch+json',
      body: '[{"op":"replace","path":"/metadata","value":"x"}]', code: 422, reason: 'Invalid' },
    { name: 'a failing JSON patch test is a 422', contentType: 'application/json-patch+json',
      body: '[{"op":"test","path":"/spec/replicas","value":5}]', code: 422, reason: 'Invalid' },
  ];
  for (const c of errors) {
    it(c.name, () => {
      const err = apiErrorOf(() => applyPatch('Deployment', c.contentType, deployment, c.body));
      assert.deepEqual([err.code, err.reason], [c.code, c.reason]);
    });
  }

  it('the 415 message names the media type that was sent', () => {
    assert.match(apiErrorOf(() => applyPatch('Pod', 'text/plain', deployment, '')).message, /\(got text\/plain\)$/);
  });

  it('patchTypeOf recognises the three patch media types only', () => {
    assert.deepEqual(
      ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json'].map(patchTypeOf),
      ['json', 'merge', 'strategic', undefined],
    );
  });
});
