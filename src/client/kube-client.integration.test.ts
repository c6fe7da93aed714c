// KubeClient against the real flatnet API server over HTTPS: authentication (token and client
// certificate), CRUD, optimistic concurrency, patches, watches, subresources and events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../api/errors.ts';
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { ConfigMap, Deployment, Event, Namespace, Node, Pod, WatchEvent } from '../api/types.ts';
import { KubeTransportError } from './client-errors.ts';
import { KubeClient } from './kube-client.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { startTestCluster } from './test-cluster.ts';
import type { TestCluster } from './test-cluster.ts';

function mustResource(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  if (r === undefined) throw new Error(`no resource ${plural}`);
  return r;
}
const namespaces = mustResource('', 'namespaces');
const configmaps = mustResource('', 'configmaps');
const pods = mustResource('', 'pods');
const nodes = mustResource('', 'nodes');
const events = mustResource('', 'events');
const deployments = mustResource('apps', 'deployments');

const cm = (name: string, data: Record<string, string> = { a: '1' }, labels?: Record<string, string>): ConfigMap => ({
  metadata: { name, ...(labels !== undefined ? { labels } : {}) },
  data,
});

describe('KubeClient against the flatnet API server', () => {
  let cluster: TestCluster;
  let client: KubeClient;
  const ns = `client-it-${randomBytes(3).toString('hex')}`;

  before(async () => {
    cluster = await startTestCluster();
    client = cluster.client;
    await client.create<Namespace>(namespaces, undefined, { metadata: { name: ns } });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('authenticates with the kubeconfig bearer token over TLS verified by the cluster CA', async () => {
    const got = await client.get<Namespace>(namespaces, undefined, 'default');
    assert.equal(got.metadata.name, 'default');
    assert.equal(client.namespace, 'default');
  });

  it('authenticates with the client certificate alone', async () => {
    const config = loadKubeconfig(cluster.server.kubeconfigPath);
    const { token: _dropped, ...certOnly } = config;
    assert.ok(certOnly.clientCertificate !== undefined);
    const certClient = KubeClient.fromConfig(certOnly);
    try {
      const got = await certClient.get<Namespace>(namespaces, undefined, 'kube-system');
      assert.equal(got.metadata.name, 'kube-system');
    } finally {
      certClient.close();
    }
  });

  it('is refused with ApiError Unauthorized for a wrong token and no certificate', async () => {
    const config = loadKubeconfig(cluster.server.kubeconfigPath);
    const bad = new KubeClient({ server: config.server, ...(config.ca !== undefined ? { ca: config.ca } : {}), token: 'wrong' });
    try {
      await assert.rejects(bad.get(namespaces, undefined, 'default'), (e: unknown) => e instanceof ApiError && e.code === 401 && e.reason === 'Unauthorized');
    } finally {
      bad.close();
    }
  });

  it('fails with a TLS transport error when the server certificate is not signed by the trusted CA', async () => {
    const config = loadKubeconfig(cluster.server.kubeconfigPath);
    const untrusting = new KubeClient({ server: config.server, token: config.token ?? '' });
    try {
      await assert.rejects(untrusting.get(namespaces, undefined, 'default'), (e: unknown) => e instanceof KubeTransportError && e.code === 'TLS');
    } finally {
      untrusting.close();
    }
  });

  it('round-trips create, get, update, list and delete of a ConfigMap', async () => {
    const created = await client.create<ConfigMap>(configmaps, ns, cm('crud', { a: '1' }));
    assert.equal(created.metadata.namespace, ns);
    assert.ok(created.metadata.uid);
    assert.ok(created.metadata.resourceVersion);

    const got = await client.get<ConfigMap>(configmaps, ns, 'crud');
    assert.deepEqual(got.data, { a: '1' });

    const changed = structuredClone(got);
    changed.data = { a: '2' };
    const updated = await client.update<ConfigMap>(configmaps, ns, changed);
    assert.deepEqual(updated.data, { a: '2' });
    assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);

    const list = await client.list<ConfigMap>(configmaps, ns);
    assert.ok(list.items.some((i) => i.metadata.name === 'crud'));
    assert.ok(list.metadata.resourceVersion);

    await client.delete(configmaps, ns, 'crud');
    await assert.rejects(client.get(configmaps, ns, 'crud'), (e: unknown) => e instanceof ApiError && e.reason === 'NotFound' && e.code === 404 && e.details?.name === 'crud');
  });

  it('fails an update carrying a stale resourceVersion with ApiError Conflict 409', async () => {
    const first = await client.create<ConfigMap>(configmaps, ns, cm('stale'));
    const v2 = await client.update<ConfigMap>(configmaps, ns, { ...first, data: { a: 'v2' } });
    assert.notEqual(v2.metadata.resourceVersion, first.metadata.resourceVersion);
    await assert.rejects(client.update<ConfigMap>(configmaps, ns, { ...first, data: { a: 'from-stale' } }), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'Conflict');
    assert.deepEqual((await client.get<ConfigMap>(configmaps, ns, 'stale')).data, { a: 'v2' });
  });

  it('fails a second create of the same name with ApiError AlreadyExists', async () => {
    await client.create(configmaps, ns, cm('twice'));
    await assert.rejects(client.create(configmaps, ns, cm('twice')), (e: unknown) => e instanceof ApiError && e.reason === 'AlreadyExists' && e.code === 409);
  });

  it('fails a delete whose uid precondition does not match with ApiError Conflict', async () => {
    await client.create(configmaps, ns, cm('guarded'));
    await assert.rejects(client.delete(configmaps, ns, 'guarded', { preconditions: { uid: 'not-the-uid' } }), (e: unknown) => e instanceof ApiError && e.code === 409);
    assert.equal((await client.get(configmaps, ns, 'guarded')).metadata.name, 'guarded');
  });

  it('applies json, merge, strategic and server-side apply patches', async () => {
    await client.create<ConfigMap>(configmaps, ns, cm('patched', { a: '1' }));
    let got = await client.patch<ConfigMap>(configmaps, ns, 'patched', [{ op: 'add', path: '/data/b', value: '2' }], { type: 'json' });
    assert.deepEqual(got.data, { a: '1', b: '2' });
    got = await client.patch<ConfigMap>(configmaps, ns, 'patched', { data: { a: null, c: '3' } }, { type: 'merge' });
    assert.deepEqual(got.data, { b: '2', c: '3' });
    got = await client.patch<ConfigMap>(configmaps, ns, 'patched', { metadata: { labels: { tier: 'x' } } }, { type: 'strategic' });
    assert.deepEqual(got.metadata.labels, { tier: 'x' });
    got = await client.patch<ConfigMap>(configmaps, ns, 'patched', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched', namespace: ns }, data: { d: '4' } },
      { type: 'apply', fieldManager: 'client-it', force: true });
    assert.equal(got.data?.['d'], '4');
    assert.ok(got.metadata.managedFields?.some((m) => m.manager === 'client-it' && m.operation === 'Apply'));
  });

  it('filters lists by label selector and pages through them with listAll', async () => {
    for (let i = 0; i < 5; i++) await client.create(configmaps, ns, cm(`paged-${i}`, { i: String(i) }, { set: 'paged', odd: String(i % 2 === 1) }));
    const odd = await client.list<ConfigMap>(configmaps, ns, { labelSelector: 'set=paged,odd=true' });
    assert.deepEqual(odd.items.map((i) => i.metadata.name).sort(), ['paged-1', 'paged-3']);
    const firstPage = await client.list<ConfigMap>(configmaps, ns, { labelSelector: 'set=paged', limit: 2 });
    assert.equal(firstPage.items.length, 2);
    assert.ok(firstPage.metadata.continue, 'a short page carries a continue token');
    const all = await client.listAll<ConfigMap>(configmaps, ns, { labelSelector: 'set=paged', pageSize: 2 });
    assert.deepEqual(all.items.map((i) => i.metadata.name).sort(), ['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
  });

  it('watches ADDED, MODIFIED and DELETED in order from a resourceVersion', async () => {
    const start = await client.list(configmaps, ns, { limit: 1 });
    const watch = client.watch<ConfigMap>(configmaps, ns, { resourceVersion: start.metadata.resourceVersion ?? '', fieldSelector: 'metadata.name=watched', timeoutSeconds: 30 });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const ev of watch) {
        if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') continue;
        seen.push(`${ev.type}:${(ev.object as ConfigMap).data?.['v'] ?? ''}`);
        if (ev.type === 'DELETED') watch.stop();
      }
    })();
    const created = await client.create<ConfigMap>(configmaps, ns, cm('watched', { v: '1' }));
    await client.update<ConfigMap>(configmaps, ns, { ...created, data: { v: '2' } });
    await client.delete(configmaps, ns, 'watched');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`watch saw only ${seen.join(',')}`)), 5000)));
    try {
      await Promise.race([reading, deadline]);
    } finally {
      clearTimeout(timer);
      watch.stop();
    }
    assert.deepEqual(seen, ['ADDED:1', 'MODIFIED:2', 'DELETED:2']);
  });

  it('reports a watch from a compacted resourceVersion as an ERROR event with 410 Expired', async () => {
    const old = await client.create<ConfigMap>(configmaps, ns, cm('compact-me'));
    await client.update<ConfigMap>(configmaps, ns, { ...old, data: { a: 'newer' } });
    await cluster.server.store.compact(await cluster.server.store.revision());
    const got: WatchEvent[] = [];
    const watch = client.watch(configmaps, ns, { resourceVersion: old.metadata.resourceVersion ?? '', timeoutSeconds: 5 });
    for await (const ev of watch) {
      got.push(ev);
      if (ev.type === 'ERROR') watch.stop();
    }
    assert.equal(got[0]?.type, 'ERROR');
    assert.equal((got[0]?.object as { code?: number }).code, 410);
  });

  it('binds a pod to a node through the binding subresource and updates pod status', async () => {
    const nodeName = `${ns}-node`;
    await client.create<Node>(nodes, undefined, { metadata: { name: nodeName } });
    await client.create<Pod>(pods, ns, { metadata: { name: 'bound' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.bind(ns, 'bound', nodeName);
    const pod = await client.get<Pod>(pods, ns, 'bound');
    assert.equal(pod.spec?.nodeName, nodeName);
    const withStatus = await client.updateStatus<Pod>(pods, ns, { ...pod, status: { ...pod.status, phase: 'Running', podIP: '10.244.0.5' } });
    assert.equal(withStatus.status?.phase, 'Running');
    assert.equal((await client.get<Pod>(pods, ns, 'bound')).status?.podIP, '10.244.0.5');
  });

  it('reads and sets a Deployment\'s replicas through the scale subresource', async () => {
    const labels = { app: 'scaled' };
    await client.create<Deployment>(deployments, ns, {
      metadata: { name: 'scaled' },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    assert.equal((await client.getScale(deployments, ns, 'scaled')).spec?.replicas, 1);
    const scale = await client.updateScale(deployments, ns, 'scaled', 3);
    assert.equal(scale.spec?.replicas, 3);
    assert.equal((await client.get<Deployment>(deployments, ns, 'scaled')).spec?.replicas, 3);
  });

  it('records an Event that lists back with its involved object', async () => {
    const target = await client.create<ConfigMap>(configmaps, ns, cm('eventful'));
    await client.createEvent(target, { type: 'Normal', reason: 'Tested', message: 'hello from the client test', component: 'client-it' });
    const list = await client.list<Event>(events, ns);
    const ev = list.items.find((e) => e.involvedObject.name === 'eventful');
    assert.ok(ev, 'the event is stored');
    assert.equal(ev.reason, 'Tested');
    assert.equal(ev.involvedObject.uid, target.metadata.uid);
    assert.equal(ev.source?.component, 'client-it');
  });
});
