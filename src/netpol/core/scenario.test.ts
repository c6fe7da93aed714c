import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetpolError } from './model.ts';
import { scenarioFromObjects } from './scenario.ts';

const deployment = (name: string, replicas: number | undefined, labels: Record<string, string>, namespace?: string): unknown => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});

const bareNetpol = (name: string, namespace: string | undefined, spec: unknown): unknown => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, ...(namespace ? { namespace } : {}) }, spec,
});

describe('scenarioFromObjects', () => {
  it('expands a Deployment into <name>-<n> pods with the template labels, one replica by default', () => {
    const s = scenarioFromObjects([deployment('web', 3, { app: 'web' }, 'shop'), deployment('db', undefined, { app: 'db' })]);
    const keys = s.state.pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();
    assert.deepEqual(keys, ['default/db-0', 'shop/web-0', 'shop/web-1', 'shop/web-2']);
    const web1 = s.state.pods.find((p) => p.metadata.name === 'web-1');
    assert.deepEqual(web1?.metadata.labels, { app: 'web' });
    assert.equal(web1?.spec?.containers[0]?.ports?.[0]?.protocol, 'TCP', 'container ports are defaulted like the API server does');
  });

  it('creates referenced but absent namespaces with the kubernetes.io/metadata.name label, and adds the label to declared ones', () => {
    const s = scenarioFromObjects([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } },
      deployment('web', 1, { app: 'web' }, 'shop'),
      bareNetpol('deny', 'audit', { podSelector: {} }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    ]);
    const labels = Object.fromEntries(s.state.namespaces.map((n) => [n.metadata.name, n.metadata.labels]));
    assert.deepEqual(labels, {
      shop: { team: 'a', 'kubernetes.io/metadata.name': 'shop' },
      audit: { 'kubernetes.io/metadata.name': 'audit' },
      default: { 'kubernetes.io/metadata.name': 'default' },
    });
    assert.deepEqual(s.createdNamespaces, ['audit', 'default']);
  });

  it('assigns missing pod IPs in (namespace, name) order from 10.244.0.2, skipping addresses manifests already use', () => {
    const s = scenarioFromObjects([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'z', namespace: 'b' }, spec: { containers: [] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fixed', namespace: 'a' }, spec: { containers: [] }, status: { podIP: '10.244.0.3' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'y', namespace: 'a' }, spec: { containers: [] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'b' }, spec: { containers: [] } },
    ]);
    assert.deepEqual(s.assignedIPs, [{ pod: 'a/y', ip: '10.244.0.2' }, { pod: 'b/x', ip: '10.244.0.4' }, { pod: 'b/z', ip: '10.244.0.5' }]);
    const again = scenarioFromObjects([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'b' }, spec: { containers: [] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'y', namespace: 'a' }, spec: { containers: [] } },
    ], { podCIDR: '192.168.5.0/24' });
    assert.deepEqual(again.assignedIPs, [{ pod: 'a/y', ip: '192.168.5.2' }, { pod: 'b/x', ip: '192.168.5.3' }]);
  });

  it('defaults NetworkPolicies like the API server (port protocol TCP, policyTypes from the rules)', () => {
    const s = scenarioFromObjects([bareNetpol('p', 'x', { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] })]);
    const spec = s.state.policies[0]?.spec;
    assert.deepEqual(spec?.policyTypes, ['Ingress', 'Egress']);
    assert.equal(spec?.egress?.[0]?.ports?.[0]?.protocol, 'TCP');
  });

  it('rejects an invalid NetworkPolicy with the API server field errors', () => {
    assert.throws(
      () => scenarioFromObjects([bareNetpol('p', 'x', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] })]),
      (e: unknown) => e instanceof NetpolError && e.code === 'InvalidManifest' && e.message.includes('spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer'),
    );
  });

  it('rejects two pods with the same namespace and name, and a document that is not an object', () => {
    const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0' }, spec: { containers: [] } };
    assert.throws(() => scenarioFromObjects([p, deployment('web', 1, { a: 'b' })]), (e: unknown) => e instanceof NetpolError && e.code === 'DuplicateObject');
    assert.throws(() => scenarioFromObjects(['just a string']), (e: unknown) => e instanceof NetpolError && e.code === 'InvalidManifest');
  });

  it('reads the items of a List and skips kinds that do not affect policy, saying so', () => {
    const s = scenarioFromObjects([
      null,
      { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [] } }] },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'x' }, spec: {} },
    ]);
    assert.equal(s.state.pods.length, 1);
    assert.deepEqual(s.ignored, ['Service x/svc']);
  });
});
