import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, groupVersion } from '../resources.ts';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryContentType,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  discoveryFormat,
} from './index.ts';

const namedGroups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];

describe('legacy discovery documents', () => {
  it('GET /api names v1 and the server address for every client', () => {
    assert.deepEqual(apiVersions('192.168.0.1:6443'), {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '192.168.0.1:6443' }],
    });
  });

  it('GET /apis lists every named group of the registry with its preferred version', () => {
    const list = apiGroupList();
    assert.equal(list.kind, 'APIGroupList');
    assert.deepEqual(list.groups.map((g) => g.name).sort(), [...namedGroups].sort());
    for (const g of list.groups) {
      assert.deepEqual(g.preferredVersion, g.versions[0]);
      for (const v of g.versions) assert.equal(v.groupVersion, `${g.name}/${v.version}`);
    }
  });

  it('GET /apis/<group> answers for served groups only', () => {
    assert.deepEqual(apiGroup('apps'), {
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    assert.equal(apiGroup('batch'), undefined);
    assert.equal(apiGroup(''), undefined);
  });

  it('the resource lists cover every resource and subresource of RESOURCES, sorted by name', () => {
    const gvs = [...new Set(RESOURCES.map((r) => `${r.group}|${r.version}`))];
    let seen = 0;
    for (const gv of gvs) {
      const [group = '', version = ''] = gv.split('|');
      const list = apiResourceList(group, version);
      assert.ok(list, `no list for ${gv}`);
      assert.equal(list.groupVersion, groupVersion({ group, version }));
      const names = list.resources.map((r) => r.name);
      assert.deepEqual(names, [...names].sort());
      const expected = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => [r.plural, ...r.subresources.map((s) => `${r.plural}/${s}`)]);
      assert.deepEqual([...names].sort(), [...expected].sort());
      seen += list.resources.length;
    }
    assert.equal(seen, RESOURCES.reduce((n, r) => n + 1 + r.subresources.length, 0));
  });

  it('a resource entry carries singular name, scope, kind, verbs, short names and categories', () => {
    const pods = apiResourceList('', 'v1')!.resources.find((r) => r.name === 'pods');
    const pod = RESOURCES.find((r) => r.kind === 'Pod')!;
    assert.deepEqual(pods, { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: [...pod.verbs], shortNames: ['po'], categories: ['all'] });
    const secrets = apiResourceList('', 'v1')!.resources.find((r) => r.name === 'secrets')!;
    assert.equal('shortNames' in secrets, false);
    assert.equal(apiResourceList('apps', 'v1')!.resources.find((r) => r.name === 'deployments')!.namespaced, true);
    assert.equal(apiResourceList('', 'v1')!.resources.find((r) => r.name === 'nodes')!.namespaced, false);
  });

  const subresources: [string, string, string, Record<string, unknown>][] = [
    ['', 'v1', 'pods/status', { kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
    ['', 'v1', 'pods/log', { kind: 'Pod', verbs: ['get'] }],
    ['', 'v1', 'pods/exec', { kind: 'PodExecOptions', verbs: ['create', 'get'] }],
    ['', 'v1', 'pods/eviction', { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }],
    ['', 'v1', 'pods/binding', { kind: 'Binding', verbs: ['create'] }],
    ['', 'v1', 'services/proxy', { kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
    ['', 'v1', 'nodes/proxy', { kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
    ['apps', 'v1', 'deployments/scale', { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
    ['apps', 'v1', 'replicasets/scale', { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
    ['networking.k8s.io', 'v1', 'ingresses/status', { kind: 'Ingress', verbs: ['get', 'patch', 'update'] }],
  ];
  for (const [group, version, name, want] of subresources) {
    it(`${name} is listed with its own kind and verbs`, () => {
      const entry = apiResourceList(group, version)!.resources.find((r) => r.name === name);
      assert.ok(entry, `${name} missing`);
      const { name: _n, singularName, namespaced: _ns, ...rest } = entry;
      assert.equal(singularName, '');
      assert.deepEqual(rest, want);
    });
  }

  it('unknown group versions have no resource list', () => {
    assert.equal(apiResourceList('apps', 'v1beta1'), undefined);
    assert.equal(apiResourceList('batch', 'v1'), undefined);
  });

  it('the core list omits apiVersion while named groups carry v1, as kube-apiserver does', () => {
    assert.equal('apiVersion' in apiResourceList('', 'v1')!, false);
    assert.equal(apiResourceList('apps', 'v1')!.apiVersion, 'v1');
  });
});

describe('aggregated discovery', () => {
  for (const version of ['v2', 'v2beta1'] as const) {
    it(`is an APIGroupDiscoveryList of apidiscovery.k8s.io/${version}`, () => {
      const doc = aggregatedDiscovery('apis', version);
      assert.equal(doc.kind, 'APIGroupDiscoveryList');
      assert.equal(doc.apiVersion, `apidiscovery.k8s.io/${version}`);
    });
  }

  it('/api holds only the unnamed core group', () => {
    const doc = aggregatedDiscovery('legacy', 'v2');
    assert.equal(doc.items.length, 1);
    assert.equal(doc.items[0]!.metadata.name, undefined);
    assert.deepEqual(doc.items[0]!.versions.map((v) => v.version), ['v1']);
  });

  it('/apis holds every named group', () => {
    assert.deepEqual(aggregatedDiscovery('apis', 'v2').items.map((i) => i.metadata.name).sort(), [...namedGroups].sort());
  });

  it('every resource of RESOURCES appears once with scope, response kind, verbs and its subresources', () => {
    const all = [...aggregatedDiscovery('legacy', 'v2').items, ...aggregatedDiscovery('apis', 'v2').items];
    for (const r of RESOURCES) {
      const group = all.find((g) => (g.metadata.name ?? '') === r.group);
      const version = group?.versions.find((v) => v.version === r.version);
      assert.equal(version?.freshness, 'Current');
      const matches = version?.resources.filter((x) => x.resource === r.plural) ?? [];
      assert.equal(matches.length, 1, `${r.plural} appears ${matches.length} times`);
      const d = matches[0]!;
      assert.deepEqual(d.responseKind, { group: r.group, version: r.version, kind: r.kind });
      assert.equal(d.scope, r.namespaced ? 'Namespaced' : 'Cluster');
      assert.equal(d.singularResource, r.singular);
      assert.deepEqual(d.verbs, [...r.verbs]);
      assert.deepEqual((d.subresources ?? []).map((s) => s.subresource).sort(), [...r.subresources].sort());
    }
  });

  it('subresources name the kind they speak, including other groups', () => {
    const apps = aggregatedDiscovery('apis', 'v2').items.find((i) => i.metadata.name === 'apps')!;
    const deployments = apps.versions[0]!.resources.find((r) => r.resource === 'deployments')!;
    assert.deepEqual(deployments.subresources, [
      { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'status', responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
    ]);
    const core = aggregatedDiscovery('legacy', 'v2').items[0]!.versions[0]!;
    const eviction = core.resources.find((r) => r.resource === 'pods')!.subresources!.find((s) => s.subresource === 'eviction');
    assert.deepEqual(eviction?.responseKind, { group: 'policy', version: 'v1', kind: 'Eviction' });
    assert.equal(core.resources.find((r) => r.resource === 'configmaps')!.subresources, undefined);
  });
});

describe('discovery content negotiation', () => {
  const v2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
  const v2beta1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
  const cases: [string, string | undefined, string][] = [
    ['kubectl 1.30+ gets v2', `${v2},${v2beta1},application/json`, 'v2'],
    ['kubectl 1.27-1.29 gets v2beta1', `${v2beta1},application/json`, 'v2beta1'],
    ['a plain JSON client gets the legacy document', 'application/json', 'legacy'],
    ['no Accept header gets the legacy document', undefined, 'legacy'],
    ['a wildcard gets the legacy document', '*/*', 'legacy'],
    ['quality values outrank order', `application/json;q=0.5,${v2beta1}`, 'v2beta1'],
    ['plain JSON listed first wins', `application/json,${v2}`, 'legacy'],
    ['a protobuf-only aggregated request falls back to legacy JSON', 'application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'legacy'],
    ['an unknown aggregated version is skipped', `application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,${v2beta1}`, 'v2beta1'],
  ];
  for (const [name, accept, want] of cases) it(name, () => assert.equal(discoveryFormat(accept), want));

  it('names the aggregated content type the response must carry', () => {
    assert.equal(aggregatedDiscoveryContentType('v2'), v2);
    assert.equal(aggregatedDiscoveryContentType('v2beta1'), v2beta1);
  });
});
