// The informer against the real flatnet API server: the cache converges on creates, updates and deletes;
// bookmarks advance its resourceVersion; a watch from a compacted revision (410) makes it relist and emit
// exactly what changed; selectors and indexes work; the factory shares and syncs informers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { ConfigMap, Namespace, Node, Pod, WatchEvent } from '../api/types.ts';
import { Informer, InformerFactory, listerWatcherFor } from './informer.ts';
import type { ListerWatcher } from './informer.ts';
import { indexByNodeName } from './object-cache.ts';
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

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function record<T extends ConfigMap>(informer: Informer<T>): string[] {
  const log: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}=${o.data?.['v'] ?? ''}`),
    onUpdate: (_a, b) => log.push(`update ${b.metadata.name}=${b.data?.['v'] ?? ''}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  return log;
}

describe('Informer against the flatnet API server', () => {
  let cluster: TestCluster;
  const ns = `informer-it-${randomBytes(3).toString('hex')}`;

  before(async () => {
    cluster = await startTestCluster({ bookmarkIntervalMs: 100 });
    await cluster.client.create<Namespace>(namespaces, undefined, { metadata: { name: ns } });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('converges its cache and calls handlers in order through create, update and delete', async () => {
    const { client } = cluster;
    await client.create<ConfigMap>(configmaps, ns, { metadata: { name: 'pre' }, data: { v: '0' } });
    const inf = Informer.forResource<ConfigMap>(client, configmaps, { namespace: ns }, { watchTimeoutSeconds: 30 });
    const log = record(inf);
    inf.start();
    await inf.waitForSync(5000);
    assert.deepEqual(log, ['add pre=0']);

    const a = await client.create<ConfigMap>(configmaps, ns, { metadata: { name: 'a' }, data: { v: '1' } });
    await client.update<ConfigMap>(configmaps, ns, { ...a, data: { v: '2' } });
    await client.delete(configmaps, ns, 'pre');
    await eventually(() => log.length === 4, 'four handler calls');
    assert.deepEqual(log, ['add pre=0', 'add a=1', 'update a=2', 'delete pre']);
    assert.deepEqual(inf.keys(), [`${ns}/a`]);
    assert.equal(inf.get(`${ns}/a`)?.data?.['v'], '2');
    await inf.stop();
  });

  it('advances its resourceVersion with bookmarks while nothing it watches changes', async () => {
    const { client } = cluster;
    const inf = Informer.forResource<ConfigMap>(client, configmaps, { namespace: ns, labelSelector: 'never=matches' }).start();
    await inf.waitForSync(5000);
    const synced = Number(inf.resourceVersion);
    // Writes elsewhere move the global revision; bookmarks carry it to this informer.
    await client.create<ConfigMap>(configmaps, ns, { metadata: { name: 'elsewhere' } });
    await eventually(() => Number(inf.resourceVersion) > synced, 'a bookmark');
    assert.equal(inf.list().length, 0);
    await inf.stop();
  });

  it('relists after its watch resourceVersion is compacted away (410) and emits exactly the differences', async () => {
    const { client, server } = cluster;
    const sub = `${ns}-relist`;
    await client.create<Namespace>(namespaces, undefined, { metadata: { name: sub } });
    for (const [name, v] of [['keep', '1'], ['change', '1'], ['remove', '1']] as const) {
      await client.create<ConfigMap>(configmaps, sub, { metadata: { name }, data: { v } });
    }
    // A ListerWatcher whose next watch can be held back, so changes and a compaction happen while the
    // informer is between watches.
    const real = listerWatcherFor<ConfigMap>(client, configmaps, { namespace: sub });
    let hold: Promise<void> | undefined;
    let current: { stop(): void } | undefined;
    const held: ListerWatcher<ConfigMap> = {
      list: () => real.list(),
      watch: (options) => {
        const gate = hold;
        let inner: { stop(): void } | undefined;
        let stopped = false;
        const handle = {
          stop: () => {
            stopped = true;
            inner?.stop();
          },
          async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<ConfigMap>> {
            if (gate !== undefined) await gate;
            if (stopped) return;
            const w = real.watch(options);
            inner = w;
            yield* w;
          },
        };
        current = handle;
        return handle;
      },
    };
    const inf = new Informer<ConfigMap>(held, { name: 'relist', backoff: { initialMs: 20, maxMs: 100, jitter: 0 } });
    inf.start();
    await inf.waitForSync(5000);
    const log = record(inf);
    log.length = 0;

    let release = (): void => {};
    hold = new Promise<void>((r) => (release = r));
    const firstWatch = current;
    firstWatch?.stop(); // the informer re-watches, and that watch waits at the gate
    await eventually(() => current !== firstWatch, 'the second watch');

    const change = await client.get<ConfigMap>(configmaps, sub, 'change');
    await client.update<ConfigMap>(configmaps, sub, { ...change, data: { v: '2' } });
    await client.delete(configmaps, sub, 'remove');
    await client.create<ConfigMap>(configmaps, sub, { metadata: { name: 'added' }, data: { v: '1' } });
    await server.store.compact(await server.store.revision());
    release();

    await eventually(() => inf.stats.lists === 2 && log.length === 3, 'the relist and its three differences');
    assert.equal(inf.stats.expired, 1);
    assert.deepEqual([...log].sort(), ['add added=1', 'delete remove', 'update change=2']);
    assert.deepEqual(inf.keys().sort(), [`${sub}/added`, `${sub}/change`, `${sub}/keep`]);

    // And it is watching again: a later change arrives as an ordinary event.
    await client.delete(configmaps, sub, 'keep');
    await eventually(() => log.includes('delete keep'), 'the delete after the relist');
    await inf.stop();
  });

  it('indexes pods by node name and keeps the index current as pods are bound', async () => {
    const { client } = cluster;
    const node = `${ns}-n1`;
    await client.create<Node>(nodes, undefined, { metadata: { name: node } });
    const inf = Informer.forResource<Pod>(client, pods, { namespace: ns }, { indexers: { node: indexByNodeName } }).start();
    await inf.waitForSync(5000);
    await client.create<Pod>(pods, ns, { metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.create<Pod>(pods, ns, { metadata: { name: 'p2' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await eventually(() => inf.list().length === 2, 'both pods');
    assert.equal(inf.byIndex('node', node).length, 0);
    await client.bind(ns, 'p2', node);
    await eventually(() => inf.byIndex('node', node).length === 1, 'the bound pod in the index');
    assert.equal(inf.byIndex('node', node)[0]?.metadata.name, 'p2');
    await inf.stop();
  });

  it('shares one informer per resource and scope from a factory and syncs them all', async () => {
    const factory = new InformerFactory(cluster.client);
    const a = factory.informerFor<ConfigMap>(configmaps, { namespace: ns });
    const b = factory.informerFor<ConfigMap>(configmaps, { namespace: ns });
    const n = factory.informerFor<Namespace>(namespaces);
    assert.equal(a, b);
    factory.start();
    await factory.waitForSync(5000);
    assert.ok(n.getByName(undefined, ns), 'the namespaces informer holds our namespace under its bare name');
    assert.ok(a.list().length > 0);
    await factory.stop();
  });
});
