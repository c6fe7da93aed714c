// The informer against a scripted ListerWatcher: list-then-watch, re-watch from the last version,
// relist with differences after 410, backoff on failures, indexes, sync waiting and the factory's sharing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from '../api/errors.ts';
import { resourceByPlural } from '../api/resources.ts';
import type { KubeList, Pod, WatchEvent } from '../api/types.ts';
import { KubeTransportError } from './client-errors.ts';
import { Informer, InformerError, InformerFactory } from './informer.ts';
import type { ListerWatcher } from './informer.ts';
import { KubeClient } from './kube-client.ts';
import { indexByNodeName } from './object-cache.ts';

const pod = (name: string, rv: string, nodeName?: string, uid = `uid-${name}`): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', resourceVersion: rv, uid },
  spec: { containers: [], ...(nodeName !== undefined ? { nodeName } : {}) },
});
const podList = (rv: string, ...items: Pod[]): KubeList<Pod> => ({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: rv }, items });
const expired = { kind: 'Status', apiVersion: 'v1', status: 'Failure', metadata: {}, reason: 'Expired', code: 410, message: 'too old' } as const;

/** A watch the test drives: push events, end it, or make it fail. */
type QueueItem = { ev: WatchEvent<Pod> } | { end: true } | { error: unknown };

class FakeWatch implements AsyncIterable<WatchEvent<Pod>> {
  readonly options: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number };
  #queue: QueueItem[] = [];
  #wake: (() => void) | undefined;
  stopped = false;
  constructor(options: FakeWatch['options']) {
    this.options = options;
  }
  #put(item: QueueItem): void {
    this.#queue.push(item);
    this.#wake?.();
  }
  push(type: WatchEvent['type'], object: WatchEvent<Pod>['object']): void {
    this.#put({ ev: { type, object } });
  }
  end(): void {
    this.#put({ end: true });
  }
  fail(error: unknown): void {
    this.#put({ error });
  }
  stop(): void {
    this.stopped = true;
    this.end();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<Pod>> {
    for (;;) {
      const item = this.#queue.shift();
      if (item === undefined) {
        await new Promise<void>((r) => (this.#wake = r));
        continue;
      }
      if ('end' in item) return;
      if ('error' in item) throw item.error;
      yield item.ev;
    }
  }
}

/** Lists answer from `lists` in turn (the last one repeats; an Error entry is thrown); watches are recorded. */
class FakeSource implements ListerWatcher<Pod> {
  lists: (KubeList<Pod> | Error)[];
  listCalls = 0;
  readonly watches: FakeWatch[] = [];
  #watchWaiters: (() => void)[] = [];
  constructor(...lists: (KubeList<Pod> | Error)[]) {
    this.lists = lists;
  }
  async list(): Promise<KubeList<Pod>> {
    const answer = this.lists[Math.min(this.listCalls, this.lists.length - 1)];
    this.listCalls++;
    if (answer === undefined) throw new Error('no list scripted');
    if (answer instanceof Error) throw answer;
    return structuredClone(answer);
  }
  watch(options: FakeWatch['options']): FakeWatch {
    const w = new FakeWatch(options);
    this.watches.push(w);
    for (const wake of this.#watchWaiters.splice(0)) wake();
    return w;
  }
  /** Resolves with watch number `n` (0-based) once it has been opened. */
  async watchNumber(n: number): Promise<FakeWatch> {
    for (let i = 0; i < 200 && this.watches.length <= n; i++) await new Promise<void>((r) => this.#watchWaiters.push(r));
    const w = this.watches[n];
    if (w === undefined) throw new Error(`watch ${n} never opened`);
    return w;
  }
}

/** Records handler calls as readable strings. */
function recorder(informer: Informer<Pod>): string[] {
  const log: string[] = [];
  informer.addEventHandler({
    onAdd: (o, initial) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? ' (initial)' : ''}`),
    onUpdate: (a, b) => log.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
  });
  return log;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const fastBackoff = { initialMs: 10, maxMs: 40, jitter: 0 };

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion, applying events to the cache and handlers in order', async () => {
    const src = new FakeSource(podList('10', pod('a', '5'), pod('b', '6')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff, watchTimeoutSeconds: 60 });
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync(1000);
    assert.equal(inf.hasSynced(), true);
    const w = await src.watchNumber(0);
    assert.deepEqual(w.options, { resourceVersion: '10', allowWatchBookmarks: true, timeoutSeconds: 60 });
    w.push('ADDED', pod('c', '11'));
    w.push('MODIFIED', pod('a', '12'));
    w.push('DELETED', pod('b', '13'));
    await eventually(() => log.length === 5, 'five handler calls');
    assert.deepEqual(log, ['add a@5 (initial)', 'add b@6 (initial)', 'add c@11', 'update a 5->12', 'delete b@13']);
    assert.deepEqual(inf.keys().sort(), ['ns/a', 'ns/c']);
    assert.equal(inf.get('ns/a')?.metadata.resourceVersion, '12');
    assert.equal(inf.getByName('ns', 'c')?.metadata.name, 'c');
    assert.equal(inf.resourceVersion, '13');
    await inf.stop();
    assert.equal(w.stopped, true);
  });

  it('re-watches from the last seen resourceVersion, advanced by bookmarks, when a watch ends', async () => {
    const src = new FakeSource(podList('10', pod('a', '5')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff }).start();
    const w0 = await src.watchNumber(0);
    w0.push('MODIFIED', pod('a', '11'));
    w0.push('BOOKMARK', { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '20' } });
    w0.end();
    const w1 = await src.watchNumber(1);
    assert.equal(w1.options.resourceVersion, '20');
    assert.equal(src.listCalls, 1, 'a normal watch end does not relist');
    assert.equal(inf.list().length, 1, 'a bookmark adds nothing to the cache');
    await inf.stop();
  });

  const expiryKinds: { name: string; expire: (w: FakeWatch) => void }[] = [
    { name: 'an ERROR event carrying 410 Expired', expire: (w) => w.push('ERROR', expired) },
    { name: 'a watch request failing with HTTP 410', expire: (w) => w.fail(new ApiError('Gone', 'gone', undefined, { code: 410 })) },
  ];
  for (const k of expiryKinds) {
    it(`relists after ${k.name} and emits only the differences against the cache`, async () => {
      const src = new FakeSource(
        podList('10', pod('keep', '1'), pod('change', '2'), pod('gone', '3'), pod('recreated', '4', undefined, 'uid-old')),
        podList('50', pod('keep', '1'), pod('change', '40'), pod('new', '41'), pod('recreated', '42', undefined, 'uid-new')),
      );
      const inf = new Informer<Pod>(src, { backoff: fastBackoff }).start();
      await inf.waitForSync(1000);
      const log = recorder(inf);
      log.length = 0; // drop the replay of the initial objects
      k.expire(await src.watchNumber(0));
      const w1 = await src.watchNumber(1);
      assert.equal(src.listCalls, 2);
      assert.equal(w1.options.resourceVersion, '50');
      assert.deepEqual(log.sort(), ['add new@41', 'add recreated@42', 'delete gone@3', 'delete recreated@4', 'update change 2->40'].sort());
      assert.deepEqual(inf.keys().sort(), ['ns/change', 'ns/keep', 'ns/new', 'ns/recreated']);
      assert.equal(inf.stats.expired, 1);
      await inf.stop();
    });
  }

  it('backs off and re-watches from the same resourceVersion after a transport failure, reporting the error', async () => {
    const src = new FakeSource(podList('10'));
    const errors: string[] = [];
    const inf = new Informer<Pod>(src, { backoff: { initialMs: 60, maxMs: 60, jitter: 0 }, onError: (e, phase) => errors.push(`${phase}:${(e as KubeTransportError).code}`) }).start();
    const w0 = await src.watchNumber(0);
    w0.push('ADDED', pod('a', '11'));
    await eventually(() => inf.list().length === 1, 'the add');
    const failedAt = Date.now();
    w0.fail(new KubeTransportError('ConnectionReset', 'reset'));
    const w1 = await src.watchNumber(1);
    assert.ok(Date.now() - failedAt >= 55, 'waited the backoff before re-watching');
    assert.equal(w1.options.resourceVersion, '11');
    assert.deepEqual(errors, ['watch:ConnectionReset']);
    assert.equal(src.listCalls, 1);
    await inf.stop();
  });

  it('retries a failing list with backoff and syncs once it succeeds', async () => {
    const src = new FakeSource(new KubeTransportError('ConnectionFailed', 'refused'), new KubeTransportError('ConnectionFailed', 'refused'), podList('3', pod('a', '2')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff, onError: () => {} }).start();
    await inf.waitForSync(2000);
    assert.equal(src.listCalls, 3);
    assert.equal(inf.stats.failures, 2);
    assert.equal(inf.list().length, 1);
    await inf.stop();
  });

  it('rejects waitForSync with SyncTimeout while the list keeps failing, and with Stopped on stop', async () => {
    const src = new FakeSource(new KubeTransportError('ConnectionFailed', 'refused'));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff, onError: () => {} }).start();
    await assert.rejects(inf.waitForSync(50), (e: unknown) => e instanceof InformerError && e.code === 'SyncTimeout');
    const pending = inf.waitForSync(5000);
    await inf.stop();
    await assert.rejects(pending, (e: unknown) => e instanceof InformerError && e.code === 'Stopped');
  });

  it('maintains custom indexes as objects move between index values and are deleted', async () => {
    const src = new FakeSource(podList('10', pod('p1', '1', 'n1'), pod('p2', '2', 'n1'), pod('p3', '3')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff, indexers: { node: indexByNodeName } }).start();
    await inf.waitForSync(1000);
    const names = (node: string): string[] => inf.byIndex('node', node).map((p) => p.metadata.name ?? '').sort();
    assert.deepEqual(names('n1'), ['p1', 'p2']);
    const w = await src.watchNumber(0);
    w.push('MODIFIED', pod('p2', '11', 'n2'));
    w.push('MODIFIED', pod('p3', '12', 'n2'));
    w.push('DELETED', pod('p1', '13', 'n1'));
    await eventually(() => inf.resourceVersion === '13', 'the delete');
    assert.deepEqual(names('n1'), []);
    assert.deepEqual(names('n2'), ['p2', 'p3']);
    inf.addIndexer('name', (p) => [p.metadata.name ?? '']);
    assert.deepEqual(inf.byIndex('name', 'p3').length, 1, 'an indexer added later covers cached objects');
    assert.throws(() => inf.byIndex('nope', 'x'));
    await inf.stop();
  });

  it('freezes cached objects so a handler cannot corrupt the cache', async () => {
    const src = new FakeSource(podList('1', pod('a', '1', 'n1')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff }).start();
    await inf.waitForSync(1000);
    const cached = inf.get('ns/a') as Pod;
    assert.throws(() => {
      (cached.spec as { nodeName?: string }).nodeName = 'other';
    }, TypeError);
    const copy = structuredClone(cached);
    copy.metadata.labels = { a: 'b' };
    assert.equal(inf.get('ns/a')?.metadata.labels, undefined);
    await inf.stop();
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const src = new FakeSource(podList('1', pod('a', '1')));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff, onHandlerError: () => {} });
    inf.onAdd(() => {
      throw new Error('bad handler');
    });
    const seen: string[] = [];
    inf.onAdd((o) => seen.push(o.metadata.name ?? ''));
    inf.start();
    await inf.waitForSync(1000);
    assert.deepEqual(seen, ['a']);
    await inf.stop();
  });

  it('stops delivering to a handler after it unsubscribes', async () => {
    const src = new FakeSource(podList('1'));
    const inf = new Informer<Pod>(src, { backoff: fastBackoff }).start();
    const seen: string[] = [];
    const off = inf.onAdd((o) => seen.push(o.metadata.name ?? ''));
    const w = await src.watchNumber(0);
    w.push('ADDED', pod('a', '2'));
    await eventually(() => seen.length === 1, 'the first add');
    off();
    w.push('ADDED', pod('b', '3'));
    await eventually(() => inf.list().length === 2, 'the second add in the cache');
    assert.deepEqual(seen, ['a']);
    await inf.stop();
  });
});

describe('InformerFactory', () => {
  const pods = resourceByPlural('', 'v1', 'pods');
  const nodes = resourceByPlural('', 'v1', 'nodes');
  if (pods === undefined || nodes === undefined) throw new Error('registry lacks pods or nodes');
  // Never started, so never contacted.
  const client = new KubeClient({ server: 'http://127.0.0.1:9' });

  it('returns one shared informer per resource, namespace and selector', () => {
    const f = new InformerFactory(client);
    const a = f.informerFor(pods, { namespace: 'ns' });
    const b = f.informerFor(pods, { namespace: 'ns' }, { node: indexByNodeName });
    const c = f.informerFor(pods, { namespace: 'other' });
    const d = f.informerFor(pods, { namespace: 'ns', labelSelector: 'app=x' });
    const e = f.informerFor(nodes);
    assert.equal(a, b);
    assert.equal(new Set([a, c, d, e]).size, 4);
    assert.equal(a.hasIndexer('node'), true, 'a later caller\'s indexers are added to the shared informer');
    assert.equal(f.informers.length, 4);
    assert.equal(a.started, false);
  });
});
