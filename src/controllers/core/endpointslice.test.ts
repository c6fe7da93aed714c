import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Pod, Service } from '../../api/types.ts';
import type { Action } from './actions.ts';
import { reconcileEndpointSlices } from './endpointslice.ts';
import { makeNode, makePod } from './testing.ts';

function makeService(extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { tier: 'fe' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
  };
}

let ipCounter = 0;
function backend(name: string, opts: { ready?: boolean; deleting?: boolean; httpPort?: number; node?: string; ip?: string; hostname?: string; subdomain?: string; labels?: Record<string, string> } = {}): Pod {
  const pod = makePod(name, { labels: opts.labels ?? { app: 'web' }, nodeName: opts.node ?? 'n1', ready: opts.ready ?? true, podIP: opts.ip ?? `10.244.0.${++ipCounter}`, ...(opts.deleting ? { deleting: true } : {}) });
  pod.spec!.containers[0]!.ports = [{ name: 'http', containerPort: opts.httpPort ?? 8080 }];
  if (opts.hostname) pod.spec!.hostname = opts.hostname;
  if (opts.subdomain) pod.spec!.subdomain = opts.subdomain;
  return pod;
}

/** Applies slice actions to a list, naming created slices. */
function applySlices(slices: EndpointSlice[], actions: Action[]): EndpointSlice[] {
  const byName = new Map(slices.map((s) => [s.metadata.name!, s]));
  let n = byName.size;
  for (const a of actions) {
    if (a.verb === 'create') {
      const s = structuredClone(a.object) as EndpointSlice;
      s.metadata.name = `web-${++n}`;
      s.metadata.uid = `slice-${n}`;
      byName.set(s.metadata.name, s);
    } else if (a.verb === 'update') byName.set(a.object.metadata.name!, structuredClone(a.object) as EndpointSlice);
    else if (a.verb === 'delete') byName.delete(a.target.name);
  }
  return [...byName.values()];
}

describe('EndpointSlice contents', () => {
  it('creates one slice with labels, owner, ports resolved by name and endpoint conditions', () => {
    const pods = [backend('a', { ip: '10.244.1.5' }), backend('b', { ready: false, ip: '10.244.1.6' }), backend('c', { deleting: true, ip: '10.244.1.7' })];
    const r = reconcileEndpointSlices({ service: makeService(), pods, slices: [], nodes: [makeNode('n1', { labels: { 'topology.kubernetes.io/zone': 'z1' } })] });
    assert.equal(r.actions.length, 1);
    const slice = r.actions[0]?.verb === 'create' ? (r.actions[0].object as EndpointSlice) : undefined;
    assert.equal(slice?.metadata.generateName, 'web-');
    assert.deepEqual(slice?.metadata.labels, { tier: 'fe', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(slice?.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice?.addressType, 'IPv4');
    assert.deepEqual(slice?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(slice?.endpoints?.map((e) => [e.addresses[0], e.conditions, e.nodeName, e.zone, e.targetRef?.name]), [
      ['10.244.1.5', { ready: true, serving: true, terminating: false }, 'n1', 'z1', 'a'],
      ['10.244.1.6', { ready: false, serving: false, terminating: false }, 'n1', 'z1', 'b'],
      ['10.244.1.7', { ready: false, serving: true, terminating: true }, 'n1', 'z1', 'c'],
    ]);
  });

  const conditionCases: [string, Partial<NonNullable<Service['spec']>>, { ready?: boolean; deleting?: boolean }, { ready: boolean; serving: boolean; terminating: boolean }][] = [
    ['publishNotReadyAddresses makes a not-ready pod ready', { publishNotReadyAddresses: true }, { ready: false }, { ready: true, serving: true, terminating: false }],
    ['publishNotReadyAddresses keeps a terminating pod ready', { publishNotReadyAddresses: true }, { deleting: true, ready: false }, { ready: true, serving: true, terminating: true }],
    ['a terminating not-ready pod is neither ready nor serving', {}, { deleting: true, ready: false }, { ready: false, serving: false, terminating: true }],
  ];
  for (const [name, spec, podOpts, expected] of conditionCases) {
    it(name, () => {
      const r = reconcileEndpointSlices({ service: makeService(spec), pods: [backend('p', podOpts)], slices: [] });
      assert.deepEqual(r.desired[0]?.endpoints?.[0]?.conditions, expected);
    });
  }

  it('sets hostname only when the pod\'s subdomain is the service name', () => {
    const pods = [backend('a', { hostname: 'db-0', subdomain: 'web' }), backend('b', { hostname: 'db-1', subdomain: 'other' })];
    const r = reconcileEndpointSlices({ service: makeService(), pods, slices: [] });
    assert.deepEqual(r.desired[0]?.endpoints?.map((e) => e.hostname), ['db-0', undefined]);
  });

  it('puts pods whose named port resolves differently into different slices', () => {
    const pods = [backend('a', { httpPort: 8080 }), backend('b', { httpPort: 9090 }), backend('c', { httpPort: 8080 })];
    const r = reconcileEndpointSlices({ service: makeService(), pods, slices: [] });
    const summary = r.desired.map((s) => [s.ports?.[0]?.port, s.endpoints?.map((e) => e.targetRef?.name)]).sort();
    assert.deepEqual(summary, [[8080, ['a', 'c']], [9090, ['b']]]);
  });

  it('ignores pods without IP, finished pods, other namespaces and non-matching labels', () => {
    const noIP = backend('x');
    delete noIP.status!.podIP;
    delete noIP.status!.podIPs;
    const done = backend('y');
    done.status!.phase = 'Succeeded';
    const elsewhere = backend('z');
    elsewhere.metadata.namespace = 'other';
    const r = reconcileEndpointSlices({ service: makeService(), pods: [noIP, done, elsewhere, backend('w', { labels: { app: 'api' } })], slices: [] });
    assert.deepEqual(r.desired.map((s) => s.endpoints?.length), [0], 'only a placeholder slice');
  });

  it('leaves Services without a selector (and ExternalName ones) alone', () => {
    const slice: EndpointSlice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', endpoints: [],
      metadata: { name: 'web-manual', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } } };
    for (const svc of [makeService({ selector: undefined }), makeService({ type: 'ExternalName', externalName: 'x.example' })]) {
      assert.deepEqual(reconcileEndpointSlices({ service: svc, pods: [backend('a')], slices: [slice] }).actions, []);
    }
  });
});

describe('EndpointSlice churn', () => {
  it('splits at 100 endpoints per slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) => backend(`p${String(i).padStart(3, '0')}`, { ip: `10.1.${Math.floor(i / 200)}.${i % 200}` }));
    const r = reconcileEndpointSlices({ service: makeService(), pods, slices: [] });
    assert.deepEqual(r.desired.map((s) => s.endpoints?.length), [100, 100, 50]);
  });

  it('a second pass over its own result changes nothing', () => {
    const pods = Array.from({ length: 130 }, (_, i) => backend(`p${i}`, { ip: `10.2.0.${i}` }));
    const first = reconcileEndpointSlices({ service: makeService(), pods, slices: [] });
    const slices = applySlices([], first.actions);
    assert.deepEqual(reconcileEndpointSlices({ service: makeService(), pods, slices }).actions, []);
  });

  it('a pod turning ready updates only the slice that holds it', () => {
    const pods = Array.from({ length: 150 }, (_, i) => backend(`p${i}`, { ip: `10.3.0.${i}`, ready: i !== 120 }));
    const slices = applySlices([], reconcileEndpointSlices({ service: makeService(), pods, slices: [] }).actions);
    pods[120] = backend('p120', { ip: '10.3.0.120', ready: true });
    const r = reconcileEndpointSlices({ service: makeService(), pods, slices });
    assert.equal(r.actions.length, 1);
    assert.equal(r.actions[0]?.verb, 'update');
    const updated = r.actions[0]?.verb === 'update' ? (r.actions[0].object as EndpointSlice) : undefined;
    assert.equal(updated?.endpoints?.find((e) => e.targetRef?.name === 'p120')?.conditions?.ready, true);
  });

  it('a new pod goes into an existing slice with room instead of a new slice', () => {
    const pods = [backend('a', { ip: '10.4.0.1' })];
    const slices = applySlices([], reconcileEndpointSlices({ service: makeService(), pods, slices: [] }).actions);
    const r = reconcileEndpointSlices({ service: makeService(), pods: [...pods, backend('b', { ip: '10.4.0.2' })], slices });
    assert.deepEqual(r.actions.map((a) => a.verb), ['update']);
    assert.deepEqual(r.desired[0]?.endpoints?.map((e) => e.addresses[0]), ['10.4.0.1', '10.4.0.2'], 'the kept endpoint keeps its place');
  });

  it('when the port mapping changes the old slice is reused rather than deleted and recreated', () => {
    const pods = [backend('a', { httpPort: 8080, ip: '10.5.0.1' })];
    const slices = applySlices([], reconcileEndpointSlices({ service: makeService(), pods, slices: [] }).actions);
    const r = reconcileEndpointSlices({ service: makeService(), pods: [backend('a', { httpPort: 9000, ip: '10.5.0.1' })], slices });
    assert.deepEqual(r.actions.map((a) => a.verb), ['update']);
    assert.deepEqual(r.desired[0]?.ports, [{ name: 'http', port: 9000, protocol: 'TCP' }]);
  });

  it('when all pods go away one placeholder slice remains', () => {
    const pods = [backend('a', { httpPort: 1 }), backend('b', { httpPort: 2 })];
    const slices = applySlices([], reconcileEndpointSlices({ service: makeService(), pods, slices: [] }).actions);
    assert.equal(slices.length, 2);
    const r = reconcileEndpointSlices({ service: makeService(), pods: [], slices });
    const after = applySlices(slices, r.actions);
    assert.equal(after.length, 1);
    assert.deepEqual([after[0]?.endpoints, after[0]?.ports], [[], []]);
  });
});
