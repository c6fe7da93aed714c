import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from '../../api/types.ts';
import { reconcileEndpoints } from './endpoints.ts';
import { makePod } from './testing.ts';

function makeService(extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9100, targetPort: 9100 }], ...extra },
  };
}
function backend(name: string, ip: string, opts: { ready?: boolean; deleting?: boolean; named?: boolean } = {}): Pod {
  const pod = makePod(name, { labels: { app: 'web' }, nodeName: 'n1', ready: opts.ready ?? true, podIP: ip, ...(opts.deleting ? { deleting: true } : {}) });
  if (opts.named !== false) pod.spec!.containers[0]!.ports = [{ name: 'http', containerPort: 8080 }];
  return pod;
}
const subsetsOf = (r: ReturnType<typeof reconcileEndpoints>) => r.desired?.subsets ?? [];

describe('Endpoints', () => {
  it('lists ready pods in addresses and not-ready ones in notReadyAddresses, sorted by IP, leaving terminating pods out', () => {
    const pods = [backend('b', '10.0.0.9'), backend('a', '10.0.0.10'), backend('c', '10.0.0.11', { ready: false }), backend('d', '10.0.0.12', { deleting: true })];
    const r = reconcileEndpoints({ service: makeService(), pods });
    assert.equal(r.actions[0]?.verb, 'create');
    assert.deepEqual(subsetsOf(r), [{
      addresses: [
        { ip: '10.0.0.10', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        { ip: '10.0.0.9', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      ],
      notReadyAddresses: [{ ip: '10.0.0.11', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }],
    }]);
  });

  it('puts ports served by different sets of pods into separate subsets', () => {
    const r = reconcileEndpoints({ service: makeService(), pods: [backend('a', '10.0.0.1'), backend('b', '10.0.0.2', { named: false })] });
    const summary = subsetsOf(r).map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((p) => p.name)]);
    assert.equal(summary.length, 2);
    assert.deepEqual(summary.find((x) => x[1]?.[0] === 'http'), [['10.0.0.1'], ['http']]);
    assert.deepEqual(summary.find((x) => x[1]?.[0] === 'metrics'), [['10.0.0.1', '10.0.0.2'], ['metrics']]);
  });

  it('gives a headless service without ports a subset with addresses only', () => {
    const r = reconcileEndpoints({ service: makeService({ clusterIP: 'None', ports: [] }), pods: [backend('a', '10.0.0.1')] });
    assert.deepEqual(subsetsOf(r).map((s) => [s.addresses?.length, s.ports]), [[1, undefined]]);
    assert.equal(r.desired?.metadata.labels?.['service.kubernetes.io/headless'], '');
  });

  it('creates an empty Endpoints object for a selector matching nothing', () => {
    const r = reconcileEndpoints({ service: makeService(), pods: [] });
    assert.deepEqual([r.actions[0]?.verb, r.desired?.subsets], ['create', []]);
  });

  it('truncates past the capacity, keeping ready addresses, and annotates over-capacity', () => {
    const pods = [...Array.from({ length: 6 }, (_, i) => backend(`r${i}`, `10.0.1.${i}`)), ...Array.from({ length: 4 }, (_, i) => backend(`n${i}`, `10.0.2.${i}`, { ready: false }))];
    const r = reconcileEndpoints({ service: makeService({ ports: [{ port: 80 }] }), pods, maxAddresses: 8 });
    const s = subsetsOf(r)[0];
    assert.deepEqual([s?.addresses?.length, s?.notReadyAddresses?.length], [6, 2]);
    assert.equal(r.desired?.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'], 'truncated');
    const back = reconcileEndpoints({ service: makeService({ ports: [{ port: 80 }] }), pods: pods.slice(0, 3), endpoints: r.desired, maxAddresses: 8 });
    assert.equal(back.desired?.metadata.annotations, undefined, 'the annotation goes away under capacity');
    assert.equal(back.actions[0]?.verb, 'update');
  });

  it('does nothing when the existing object is already right, and ignores selector-less services', () => {
    const pods = [backend('a', '10.0.0.1')];
    const first = reconcileEndpoints({ service: makeService(), pods });
    const existing = { ...structuredClone(first.desired as Endpoints), metadata: { ...first.desired!.metadata, resourceVersion: '4' } };
    assert.deepEqual(reconcileEndpoints({ service: makeService(), pods, endpoints: existing }).actions, []);
    assert.deepEqual(reconcileEndpoints({ service: makeService({ selector: undefined }), pods }).actions, []);
  });
});
