// Acceptance: @kubernetes/client-node's own informer (makeInformer: list, then watch from the list's
// resourceVersion) works unchanged against flatnet's API server and sees creates, updates and deletes
// in the order they happened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster } from '../src/client/test-cluster.ts';
import type { TestCluster } from '../src/client/test-cluster.ts';

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('@kubernetes/client-node against the flatnet API server', () => {
  let cluster: TestCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  const ns = `client-node-${randomBytes(3).toString('hex')}`;

  before(async () => {
    cluster = await startTestCluster();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.server.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('makeInformer sees creates, updates and deletes of ConfigMaps in order', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const informer = k8s.makeInformer<k8s.V1ConfigMap>(kc, path, () => core.listNamespacedConfigMap({ namespace: ns }));
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}=${o.data?.['v']}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}=${o.data?.['v']}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    informer.on('error', (e) => errors.push(e));

    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' }, data: { v: '0' } } });
    await informer.start();
    try {
      await eventually(() => seen.length >= 1, 'the initial add');

      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one' }, data: { v: '1' } } });
      const one = await core.readNamespacedConfigMap({ namespace: ns, name: 'one' });
      one.data = { v: '2' };
      await core.replaceNamespacedConfigMap({ namespace: ns, name: 'one', body: one });
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'one', body: { data: { v: '3' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'one' });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'before' });

      await eventually(() => seen.length >= 6, `six events (saw ${seen.join(', ')})`);
      assert.deepEqual(seen, ['add before=0', 'add one=1', 'update one=2', 'update one=3', 'delete one', 'delete before']);
      assert.deepEqual(informer.list(ns), []);
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });

  it('makeInformer with a label selector sees only matching objects', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const informer = k8s.makeInformer<k8s.V1ConfigMap>(kc, path,
      () => core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'pick=yes' }), 'pick=yes');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'skip', labels: { pick: 'no' } } } });
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'take', labels: { pick: 'yes' } } } });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'take' });
      await eventually(() => seen.length >= 2, `two events (saw ${seen.join(', ')})`);
      await delay(200);
      assert.deepEqual(seen, ['add take', 'delete take']);
    } finally {
      await informer.stop();
    }
  });
});
