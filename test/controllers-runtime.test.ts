// The controller shells' shared machinery: expectations, the action applier (order, first failure, event
// appendices, NotFound deletes, owner verification), the event recorder (correlation and spam filter), and
// the small pure helpers of the scheduler and LoadBalancer shells. Writes go to a real API server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../src/api/errors.ts';
import type { ConfigMap, Event, KubeObject, Service } from '../src/api/types.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import type { Action } from '../src/controllers/core/actions.ts';
import { ActionApplier, EventRecorder, Expectations, RESOURCE, mustPlural, type CacheView } from '../src/controllers/runtime.ts';
import { nodesToFind } from '../src/controllers/scheduler.ts';
import { managesService, poolRanges } from '../src/controllers/service-lb-controller.ts';
import { startApiServer, type RunningApiServer } from '../src/server/api-server.ts';

const configMaps = mustPlural('', 'configmaps');

function fakeCache(): CacheView & { rv: string; objects: Map<string, KubeObject> } {
  const objects = new Map<string, KubeObject>();
  return { rv: '10', objects, get resourceVersion() { return this.rv; }, get: (k: string) => objects.get(k) };
}

describe('Expectations', () => {
  it('waits until the informer reaches the revision of our write', () => {
    const cache = fakeCache();
    const e = new Expectations(30_000);
    e.expectRevision('rs', cache, '12');
    assert.equal(e.satisfied('rs'), false);
    cache.rv = '12';
    assert.equal(e.satisfied('rs'), true);
    assert.equal(e.satisfied('other'), true, 'a key without expectations is satisfied');
  });

  it('waits until a deleted object is gone, recreated under another uid, or terminating', () => {
    const cases: { name: string; after: KubeObject | undefined; want: boolean }[] = [
      { name: 'still there', after: { metadata: { name: 'p', uid: 'u1' } }, want: false },
      { name: 'gone', after: undefined, want: true },
      { name: 'recreated', after: { metadata: { name: 'p', uid: 'u2' } }, want: true },
      { name: 'terminating', after: { metadata: { name: 'p', uid: 'u1', deletionTimestamp: '2026-01-01T00:00:00Z' } }, want: true },
    ];
    for (const c of cases) {
      const cache = fakeCache();
      const e = new Expectations(30_000);
      e.expectGone('rs', cache, 'ns/p', 'u1');
      if (c.after !== undefined) cache.objects.set('ns/p', c.after);
      assert.equal(e.satisfied('rs'), c.want, c.name);
    }
  });

  it('expires so a lost event cannot wedge a controller', () => {
    let now = 1000;
    const e = new Expectations(5000, () => now);
    e.expectRevision('rs', fakeCache(), '99');
    assert.equal(e.satisfied('rs'), false);
    assert.equal(e.msUntilExpiry('rs'), 5000);
    now += 5000;
    assert.equal(e.satisfied('rs'), true);
  });
});

describe('scheduler and LoadBalancer helpers', () => {
  it('evaluates all nodes up to 100 and upstream\'s adaptive share above', () => {
    for (const [total, want] of [[3, 3], [100, 100], [150, 100], [500, 230], [1000, 420], [5000, 500], [20_000, 1000]] as const) {
      assert.equal(nodesToFind(total), want, `${total} nodes`);
    }
  });

  it('turns pool CIDRs into ranges without network and broadcast addresses', () => {
    assert.deepEqual(poolRanges(['10.255.255.0/24', '192.0.2.10-192.0.2.20', '198.51.100.7/32', '198.51.100.8/31']),
      ['10.255.255.1-10.255.255.254', '192.0.2.10-192.0.2.20', '198.51.100.7/32', '198.51.100.8/31']);
  });

  it('manages LoadBalancer Services without a class or with its own class only', () => {
    const mk = (type: string, cls?: string): Service => ({ metadata: { name: 's' }, spec: { type: type as 'LoadBalancer', ...(cls !== undefined ? { loadBalancerClass: cls } : {}) } });
    assert.equal(managesService(mk('LoadBalancer'), 'flatnet.io/load-balancer'), true);
    assert.equal(managesService(mk('LoadBalancer', 'flatnet.io/load-balancer'), 'flatnet.io/load-balancer'), true);
    assert.equal(managesService(mk('LoadBalancer', 'example.com/other'), 'flatnet.io/load-balancer'), false);
    assert.equal(managesService(mk('NodePort'), 'flatnet.io/load-balancer'), false);
  });
});

describe('ActionApplier and EventRecorder against a real API server', () => {
  let server: RunningApiServer;
  let client: KubeClient;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flatnet-ctl-rt-'));
    server = await startApiServer({ dataDir, port: 0, storage: 'memory' });
    client = KubeClient.fromKubeconfig(server.kubeconfigPath);
  });
  after(async () => {
    client.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
  const eventsAbout = async (name: string): Promise<Event[]> =>
    (await client.listAll<Event>(RESOURCE.events, 'default')).items.filter((e) => e.involvedObject.name === name);

  it('applies actions in order, stops at the first failure and records success and failure events with their appendix', async () => {
    const recorder = new EventRecorder(client, () => {});
    const applier = new ActionApplier(client, recorder);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'owner' };
    const actions: Action[] = [
      { verb: 'create', object: { ...cm(''), metadata: { generateName: 'gen-', namespace: 'default' } },
        onSuccess: { type: 'Normal', reason: 'Made', message: 'Created configmap: ', involvedObject: ref, source: 'test', append: 'name' } },
      { verb: 'create', object: cm('Bad_Name'),
        onFailure: { type: 'Warning', reason: 'Failed', message: 'Error creating: ', involvedObject: ref, source: 'test', append: 'error' } },
      { verb: 'create', object: cm('never') },
    ];
    await assert.rejects(applier.apply(actions), (e: unknown) => e instanceof ApiError && e.code === 422);
    await assert.rejects(client.get(configMaps, 'default', 'never'), (e: unknown) => e instanceof ApiError && e.code === 404);
    await recorder.whenIdle();
    const events = await eventsAbout('owner');
    const made = events.find((e) => e.reason === 'Made');
    assert.match(made?.message ?? '', /^Created configmap: gen-[a-z0-9]{5}$/);
    const failed = events.find((e) => e.reason === 'Failed');
    assert.match(failed?.message ?? '', /^Error creating: ConfigMap "Bad_Name" is invalid/);
    assert.equal(failed?.type, 'Warning');
  });

  it('treats deleting a missing object as done and skips a delete whose owner still exists', async () => {
    const applier = new ActionApplier(client, new EventRecorder(client, () => {}));
    await applier.apply([{ verb: 'delete', target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'no-such' } }]);
    await client.create(configMaps, 'default', cm('dependent'));
    await client.create(configMaps, 'default', cm('present-owner'));
    const del = (owner: string): Action => ({
      verb: 'delete', target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'dependent' },
      verifyOwnersAbsent: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: owner }],
    });
    await applier.apply([del('present-owner')]);
    assert.equal((await client.get(configMaps, 'default', 'dependent')).metadata.name, 'dependent', 'kept: its owner exists');
    await applier.apply([del('absent-owner')]);
    await assert.rejects(client.get(configMaps, 'default', 'dependent'), (e: unknown) => e instanceof ApiError && e.code === 404);
  });

  it('correlates a repeated event into one Event with a count and drops an object\'s events beyond the spam burst', async () => {
    const recorder = new EventRecorder(client, () => {}, { spamBurst: 5 });
    const involvedObject = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'noisy', uid: 'u-noisy' };
    for (let i = 0; i < 3; i++) recorder.record({ type: 'Warning', reason: 'Same', message: 'the same thing', involvedObject, source: 'test' });
    await recorder.whenIdle();
    const same = (await eventsAbout('noisy')).filter((e) => e.reason === 'Same');
    assert.equal(same.length, 1);
    assert.equal(same[0]?.count, 3);
    for (let i = 0; i < 10; i++) recorder.record({ type: 'Normal', reason: 'Many', message: `message ${i}`, involvedObject, source: 'test' });
    await recorder.whenIdle();
    const many = (await eventsAbout('noisy')).filter((e) => e.reason === 'Many');
    assert.equal(many.length, 5, 'the burst, then nothing');
    assert.equal(recorder.stats.filtered, 5);
  });
});
