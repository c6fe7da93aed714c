import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dropServiceTypeDependentFields, isNoopUpdate, prepareForUpdate } from './strategy.ts';
import { RESOURCES } from './resources.ts';
import type { Service } from './types.ts';

const svc = (spec: NonNullable<Service['spec']>): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec });

describe('dropServiceTypeDependentFields', () => {
  const lb = svc({ type: 'LoadBalancer', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local', healthCheckNodePort: 31000, allocateLoadBalancerNodePorts: true });
  const cases: { name: string; old: Service; updated: Service; want: Partial<NonNullable<Service['spec']>> & { nodePort?: number | undefined } }[] = [
    {
      name: 'LoadBalancer to ClusterIP drops node ports, health check port, policy and LB-only fields left untouched',
      old: lb,
      updated: svc({ ...lb.spec, type: 'ClusterIP' }),
      want: { nodePort: undefined, healthCheckNodePort: undefined, externalTrafficPolicy: undefined, allocateLoadBalancerNodePorts: undefined, clusterIP: '10.96.0.5' },
    },
    {
      name: 'LoadBalancer to NodePort keeps the node ports but drops the health check port',
      old: lb,
      updated: svc({ ...lb.spec, type: 'NodePort' }),
      want: { nodePort: 30080, healthCheckNodePort: undefined, externalTrafficPolicy: 'Local' },
    },
    {
      name: 'a node port changed in the same update is left for validation to judge',
      old: lb,
      updated: svc({ ...lb.spec, type: 'ClusterIP', ports: [{ port: 80, nodePort: 30099 }] }),
      want: { nodePort: 30099 },
    },
    {
      name: 'ClusterIP to ExternalName drops the cluster IP',
      old: svc({ type: 'ClusterIP', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ports: [{ port: 80 }] }),
      updated: svc({ type: 'ExternalName', externalName: 'example.com', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ports: [{ port: 80 }] }),
      want: { clusterIP: undefined, clusterIPs: undefined },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = dropServiceTypeDependentFields(c.updated, c.old).spec ?? {};
      for (const [k, v] of Object.entries(c.want)) {
        const got = k === 'nodePort' ? out.ports?.[0]?.nodePort : (out as Record<string, unknown>)[k];
        assert.deepEqual(got, v, k);
      }
    });
  }
  it('leaves an update without a type change untouched', () => {
    const updated = svc({ ...lb.spec, externalTrafficPolicy: 'Cluster' });
    assert.equal(dropServiceTypeDependentFields(updated, lb), updated);
  });
});

describe('prepareForUpdate', () => {
  const deployments = RESOURCES.find((r) => r.kind === 'Deployment');
  it('bumps generation when the spec changes and keeps it for metadata-only changes', () => {
    assert.ok(deployments);
    const old = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', uid: 'u', generation: 3, creationTimestamp: 't' }, spec: { replicas: 1 }, status: { replicas: 1 } };
    assert.equal(prepareForUpdate(deployments, { ...old, spec: { replicas: 2 } }, old, undefined).metadata.generation, 4);
    assert.equal(prepareForUpdate(deployments, { ...old, metadata: { ...old.metadata, labels: { a: 'b' } } }, old, undefined).metadata.generation, 3);
  });
  it('keeps status on main-resource updates and spec on status updates', () => {
    assert.ok(deployments);
    const old = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', uid: 'u', generation: 1 }, spec: { replicas: 1 }, status: { replicas: 1 } };
    assert.deepEqual(prepareForUpdate(deployments, { ...old, status: { replicas: 9 } }, old, undefined)['status'], { replicas: 1 });
    assert.deepEqual(prepareForUpdate(deployments, { ...old, spec: { replicas: 9 }, status: { replicas: 2 } }, old, 'status')['spec'], { replicas: 1 });
  });
  it('treats a change of resourceVersion or managedFields alone as a no-op', () => {
    const a = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', resourceVersion: '1' }, data: { k: 'v' } };
    assert.ok(isNoopUpdate({ ...a, metadata: { ...a.metadata, resourceVersion: '2', managedFields: [] } }, a));
    assert.ok(!isNoopUpdate({ ...a, data: { k: 'w' } }, a));
  });
});
