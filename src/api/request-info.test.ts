import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from './request-info.ts';

describe('parseRequestInfo', () => {
  const cases: { name: string; method: string; path: string; watch?: boolean; want: Record<string, unknown> }[] = [
    { name: 'a namespaced collection GET is a list', method: 'GET', path: '/api/v1/namespaces/default/pods', want: { plural: 'pods', namespace: 'default', verb: 'list' } },
    { name: 'a namespaced object GET is a get', method: 'GET', path: '/api/v1/namespaces/default/pods/web', want: { plural: 'pods', namespace: 'default', name: 'web', verb: 'get' } },
    { name: 'a subresource is recognised', method: 'PUT', path: '/apis/apps/v1/namespaces/x/deployments/d/scale', want: { plural: 'deployments', name: 'd', subresource: 'scale', verb: 'update' } },
    { name: 'the Namespace object itself is cluster scoped', method: 'GET', path: '/api/v1/namespaces/kube-system', want: { plural: 'namespaces', namespace: undefined, name: 'kube-system', verb: 'get' } },
    { name: 'namespace finalize is a subresource of the Namespace', method: 'PUT', path: '/api/v1/namespaces/x/finalize', want: { plural: 'namespaces', name: 'x', subresource: 'finalize' } },
    { name: 'watch=true turns a list into a watch', method: 'GET', path: '/api/v1/pods', watch: true, want: { plural: 'pods', namespace: undefined, verb: 'watch' } },
    { name: 'the legacy watch prefix is a watch', method: 'GET', path: '/api/v1/watch/namespaces/a/services', want: { plural: 'services', namespace: 'a', verb: 'watch' } },
    { name: 'DELETE on a collection is deletecollection', method: 'DELETE', path: '/apis/networking.k8s.io/v1/namespaces/a/networkpolicies', want: { plural: 'networkpolicies', verb: 'deletecollection' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const info = parseRequestInfo(c.method, c.path, c.watch ?? false);
      assert.equal(info.type, 'resource');
      if (info.type !== 'resource') return;
      const got: Record<string, unknown> = { plural: info.resource.plural, namespace: info.namespace, name: info.name, subresource: info.subresource, verb: info.verb };
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k], v, k);
    });
  }
  it('an unserved resource is reported as unknown, not as a non-resource path', () => {
    assert.equal(parseRequestInfo('GET', '/apis/batch/v1/namespaces/a/jobs', false).type, 'unknown-resource');
  });
  it('discovery paths are non-resource requests', () => {
    assert.equal(parseRequestInfo('GET', '/apis/apps/v1', false).type, 'nonresource');
    assert.equal(parseRequestInfo('GET', '/version', false).type, 'nonresource');
  });
});
