// The behaviour every Store backend must show, as a node:test suite. A backend's test file calls
// runStoreConformance(name, open) where `open` yields a fresh, empty store and a cleanup function.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { StoreError } from './store.ts';
import type { Store, StoreErrorCode, StoreEvent, StoreWatch } from './store.ts';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

function obj(name: string, extra: Record<string, unknown> = {}, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
    ...extra,
  };
}

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** Lets every queued microtask and immediate run, so asynchronously delivered events have arrived. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A watch that records events into an array. */
async function record(store: Store, prefix: string, fromRevision: number): Promise<{ events: StoreEvent[]; watch: StoreWatch }> {
  const events: StoreEvent[] = [];
  const watch = await store.watch(prefix, { fromRevision }, (e) => events.push(e));
  return { events, watch };
}

const summary = (events: readonly StoreEvent[]): string[] => events.map((e) => `${e.type} ${e.key} ${e.revision}`);

export function runStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store conformance: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    describe('create, get, update, delete', () => {
      it('a new store starts at revision 0 with nothing compacted', async () => {
        assert.equal(await store.revision(), 0);
        assert.equal(await store.compactedRevision(), 0);
        assert.equal(await store.get('/registry/configmaps/default/x'), undefined);
      });

      it('create stamps resourceVersion with the new revision and leaves the caller object untouched', async () => {
        const input = obj('a', { data: { k: 'v' } });
        const before = structuredClone(input);
        const entry = await store.create('/registry/configmaps/default/a', input);
        assert.deepEqual(input, before);
        assert.equal(entry.key, '/registry/configmaps/default/a');
        assert.ok(entry.modRevision > 0);
        assert.equal(entry.createRevision, entry.modRevision);
        assert.equal(entry.value.metadata.resourceVersion, String(entry.modRevision));
        assert.deepEqual(entry.value['data'], { k: 'v' });
        assert.equal(await store.revision(), entry.modRevision);
        const got = await store.get('/registry/configmaps/default/a');
        assert.deepEqual(got, entry);
      });

      it('create of an existing key fails with AlreadyExists naming the key and consumes no revision', async () => {
        await store.create('/k/a', obj('a'));
        const rev = await store.revision();
        await assert.rejects(store.create('/k/a', obj('a')), (err: unknown) => {
          assert.ok(err instanceof StoreError);
          assert.equal(err.code, 'AlreadyExists');
          assert.equal(err.key, '/k/a');
          return true;
        });
        assert.equal(await store.revision(), rev);
      });

      it('update replaces the value, keeps createRevision and moves modRevision forward', async () => {
        const created = await store.create('/k/a', obj('a', { data: { v: '1' } }));
        const updated = await store.update('/k/a', obj('a', { data: { v: '2' } }), created.modRevision);
        assert.ok(updated.modRevision > created.modRevision);
        assert.equal(updated.createRevision, created.createRevision);
        assert.equal(updated.value.metadata.resourceVersion, String(updated.modRevision));
        assert.deepEqual(updated.value['data'], { v: '2' });
        assert.deepEqual(await store.get('/k/a'), updated);
      });

      it('update without expectedRevision is unconditional', async () => {
        await store.create('/k/a', obj('a'));
        await store.update('/k/a', obj('a', { data: { v: '2' } }));
        const third = await store.update('/k/a', obj('a', { data: { v: '3' } }));
        assert.deepEqual((await store.get('/k/a'))?.value['data'], { v: '3' });
        assert.equal((await store.get('/k/a'))?.modRevision, third.modRevision);
      });

      const failures: Array<{ name: string; op: (s: Store, rev: number) => Promise<unknown>; code: StoreErrorCode }> = [
        { name: 'update of a missing key fails with NotFound', op: (s) => s.update('/k/missing', obj('m')), code: 'NotFound' },
        { name: 'update of a missing key with a revision guard still fails with NotFound', op: (s, rev) => s.update('/k/missing', obj('m'), rev), code: 'NotFound' },
        { name: 'update with a stale expectedRevision fails with Conflict', op: (s, rev) => s.update('/k/a', obj('a'), rev - 1), code: 'Conflict' },
        { name: 'delete of a missing key fails with NotFound', op: (s) => s.delete('/k/missing'), code: 'NotFound' },
        { name: 'delete with a stale expectedRevision fails with Conflict', op: (s, rev) => s.delete('/k/a', rev + 7), code: 'Conflict' },
      ];
      for (const f of failures) {
        it(`${f.name}, leaving the store unchanged`, async () => {
          await store.create('/k/zero', obj('zero'));
          const created = await store.create('/k/a', obj('a', { data: { v: '1' } }));
          const rev = await store.revision();
          await rejectsWith(f.op(store, created.modRevision), f.code);
          assert.equal(await store.revision(), rev);
          assert.deepEqual(await store.get('/k/a'), created);
        });
      }

      it('delete returns the last value stamped with the deletion revision and removes the key', async () => {
        const created = await store.create('/k/a', obj('a', { data: { v: '1' } }));
        const deleted = await store.delete('/k/a', created.modRevision);
        assert.ok(deleted.modRevision > created.modRevision);
        assert.equal(deleted.createRevision, created.createRevision);
        assert.equal(deleted.value.metadata.resourceVersion, String(deleted.modRevision));
        assert.deepEqual(deleted.value['data'], { v: '1' });
        assert.equal(await store.get('/k/a'), undefined);
        assert.equal(await store.revision(), deleted.modRevision);
      });

      it('a key created again after deletion gets a new createRevision', async () => {
        const first = await store.create('/k/a', obj('a'));
        await store.delete('/k/a');
        const second = await store.create('/k/a', obj('a'));
        assert.ok(second.createRevision > first.createRevision);
        assert.equal(second.createRevision, second.modRevision);
      });

      it('the revision increases strictly across keys and operations', async () => {
        const revisions: number[] = [];
        const ops: Array<(s: Store) => Promise<{ modRevision: number }>> = [
          (s) => s.create('/k/a', obj('a')),
          (s) => s.create('/k/b', obj('b')),
          (s) => s.update('/k/a', obj('a', { data: { x: '1' } })),
          (s) => s.create('/other/c', obj('c')),
          (s) => s.delete('/k/b'),
          (s) => s.update('/other/c', obj('c', { data: { y: '2' } })),
          (s) => s.create('/k/b', obj('b')),
        ];
        for (const op of ops) {
          revisions.push((await op(store)).modRevision);
          assert.equal(await store.revision(), revisions[revisions.length - 1]);
        }
        for (let i = 1; i < revisions.length; i++) {
          assert.ok((revisions[i] as number) > (revisions[i - 1] as number), `revision ${i} not increasing: ${revisions.join(',')}`);
        }
      });

      it('values handed out by the store cannot change what it stores', async () => {
        await store.create('/k/a', obj('a', { data: { v: '1' } }));
        const got = await store.get('/k/a');
        assert.ok(got !== undefined);
        try {
          (got.value.metadata as { name?: string }).name = 'changed';
          (got.value['data'] as Record<string, string>)['v'] = 'changed';
        } catch {
          // Frozen values refuse the change; either way the store must be unaffected.
        }
        const again = await store.get('/k/a');
        assert.equal(again?.value.metadata.name, 'a');
        assert.deepEqual(again?.value['data'], { v: '1' });
      });

      it('a later change to the object passed to create does not reach the store', async () => {
        const input = obj('a', { data: { v: '1' } });
        await store.create('/k/a', input);
        (input['data'] as Record<string, string>)['v'] = 'changed';
        assert.deepEqual((await store.get('/k/a'))?.value['data'], { v: '1' });
      });

      it('count counts the live keys under a prefix only', async () => {
        await store.create('/registry/pods/ns1/a', obj('a'));
        await store.create('/registry/pods/ns1/b', obj('b'));
        await store.create('/registry/pods/ns2/c', obj('c'));
        await store.create('/registry/services/ns1/a', obj('a'));
        await store.delete('/registry/pods/ns1/b');
        const cases: Array<[string, number]> = [
          ['/registry/pods/', 2],
          ['/registry/pods/ns1/', 1],
          ['/registry/pods/ns2/', 1],
          ['/registry/', 3],
          ['/registry/nodes/', 0],
          ['', 3],
        ];
        for (const [prefix, n] of cases) assert.equal(await store.count(prefix), n, `count(${prefix})`);
      });
    });

    describe('list', () => {
      it('lists keys in key order whatever the insertion order', async () => {
        const names = ['m', 'c', 'x', 'a', 'q', 'b'];
        for (const n of names) await store.create(`/registry/pods/default/${n}`, obj(n));
        const res = await store.list('/registry/pods/default/');
        assert.deepEqual(res.entries.map((e) => e.value.metadata.name), [...names].sort());
        assert.equal(res.more, false);
        assert.equal(res.revision, await store.revision());
        for (const e of res.entries) assert.equal(e.value.metadata.resourceVersion, String(e.modRevision));
      });

      it('a prefix does not match keys that merely share its characters', async () => {
        await store.create('/registry/core/pods/a/p1', obj('p1'));
        await store.create('/registry/core/pods/a/p2', obj('p2'));
        await store.create('/registry/core/pods/ab/p3', obj('p3'));
        await store.create('/registry/core/pods/a', obj('bare'));
        await store.create('/registry/core/pods/a0/p4', obj('p4'));
        const a = await store.list('/registry/core/pods/a/');
        assert.deepEqual(a.entries.map((e) => e.key), ['/registry/core/pods/a/p1', '/registry/core/pods/a/p2']);
        const ab = await store.list('/registry/core/pods/ab/');
        assert.deepEqual(ab.entries.map((e) => e.key), ['/registry/core/pods/ab/p3']);
        assert.equal(await store.count('/registry/core/pods/a/'), 2);
      });

      it('pages with limit and startAfter visit every entry exactly once and report what remains', async () => {
        const keys: string[] = [];
        for (let i = 0; i < 23; i++) {
          const key = `/registry/pods/ns/p${String(i).padStart(3, '0')}`;
          keys.push(key);
          await store.create(key, obj(`p${i}`));
        }
        await store.create('/registry/pods/nt/outside', obj('outside'));
        const seen: string[] = [];
        let startAfter: string | undefined;
        for (let page = 0; page < 10; page++) {
          const res = await store.list('/registry/pods/ns/', { limit: 5, ...(startAfter !== undefined ? { startAfter } : {}) });
          seen.push(...res.entries.map((e) => e.key));
          const left = keys.length - seen.length;
          assert.equal(res.more, left > 0);
          if (res.more) {
            assert.equal(res.entries.length, 5);
            assert.equal(res.remaining, left);
          }
          if (!res.more) break;
          startAfter = res.entries[res.entries.length - 1]?.key;
        }
        assert.deepEqual(seen, keys);
      });

      it('a limit equal to the number of entries reports no more', async () => {
        for (const n of ['a', 'b', 'c']) await store.create(`/k/${n}`, obj(n));
        const res = await store.list('/k/', { limit: 3 });
        assert.equal(res.entries.length, 3);
        assert.equal(res.more, false);
      });

      it('a filter is applied before the limit so pages are full', async () => {
        for (let i = 0; i < 20; i++) {
          await store.create(`/k/${String(i).padStart(2, '0')}`, obj(`n${i}`, {}, { parity: i % 3 === 0 ? 'three' : 'other' }));
        }
        const filter = (v: KubeObject): boolean => v.metadata.labels?.['parity'] === 'three';
        const first = await store.list('/k/', { limit: 3, filter });
        assert.deepEqual(first.entries.map((e) => e.key), ['/k/00', '/k/03', '/k/06']);
        assert.equal(first.more, true);
        const second = await store.list('/k/', { limit: 3, filter, startAfter: '/k/06' });
        assert.deepEqual(second.entries.map((e) => e.key), ['/k/09', '/k/12', '/k/15']);
        assert.equal(second.more, true);
        const third = await store.list('/k/', { limit: 3, filter, startAfter: '/k/15' });
        assert.deepEqual(third.entries.map((e) => e.key), ['/k/18']);
        assert.equal(third.more, false);
      });

      it('a list at an old revision shows the values, keys and deletions as they were then', async () => {
        await store.create('/k/a', obj('a', { data: { v: 'a1' } }));
        await store.create('/k/b', obj('b', { data: { v: 'b1' } }));
        const rev1 = await store.revision();
        const before = await store.list('/k/');
        await store.update('/k/a', obj('a', { data: { v: 'a2' } }));
        await store.delete('/k/b');
        await store.create('/k/c', obj('c', { data: { v: 'c1' } }));
        const old = await store.list('/k/', { revision: rev1 });
        assert.equal(old.revision, rev1);
        assert.deepEqual(old, before);
        const now = await store.list('/k/');
        assert.deepEqual(now.entries.map((e) => [e.key, e.value['data']]), [['/k/a', { v: 'a2' }], ['/k/c', { v: 'c1' }]]);
      });

      it('an old-revision list pages consistently while writes continue', async () => {
        const key = (i: number): string => `/k/${String(i).padStart(2, '0')}`;
        for (let i = 0; i < 12; i++) await store.create(key(i), obj(`n${i}`));
        await store.delete(key(3));
        await store.delete(key(11));
        const expected = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10].map(key);
        const first = await store.list('/k/', { limit: 4 });
        const rev = first.revision;
        assert.equal(first.remaining, expected.length - 4);
        await store.delete(key(5));
        await store.create('/k/055', obj('new'));
        await store.update(key(9), obj('n9', { data: { changed: 'yes' } }));
        const keys = first.entries.map((e) => e.key);
        let startAfter: string | undefined = keys[keys.length - 1];
        for (let page = 0; page < 10 && startAfter !== undefined; page++) {
          const res = await store.list('/k/', { revision: rev, limit: 4, startAfter });
          assert.equal(res.revision, rev);
          keys.push(...res.entries.map((e) => e.key));
          for (const e of res.entries) assert.ok(e.modRevision <= rev);
          if (res.more) assert.equal(res.remaining, expected.length - keys.length);
          startAfter = res.more ? res.entries[res.entries.length - 1]?.key : undefined;
        }
        assert.deepEqual(keys, expected);
      });

      it('a list at an old revision of a prefix untouched since then reports that revision', async () => {
        await store.create('/k/a', obj('a'));
        const rev = await store.revision();
        await store.create('/other/b', obj('b'));
        const res = await store.list('/k/', { revision: rev });
        assert.equal(res.revision, rev);
        assert.deepEqual(res.entries.map((e) => e.key), ['/k/a']);
      });

      it('a list at a revision newer than the store fails', async () => {
        await store.create('/k/a', obj('a'));
        await assert.rejects(store.list('/k/', { revision: (await store.revision()) + 10 }), StoreError);
      });
    });

    describe('watch', () => {
      it('watching from revision 0 delivers only changes made after the watch started', async () => {
        await store.create('/k/before', obj('before'));
        const { events, watch } = await record(store, '/k/', 0);
        const a = await store.create('/k/a', obj('a'));
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [`ADDED /k/a ${a.modRevision}`]);
        assert.deepEqual(events[0]?.value, a.value);
        assert.equal(events[0]?.prevValue, undefined);
      });

      it('watching from a past revision replays the history after it, then live events, in order without gaps or duplicates', async () => {
        const r1 = (await store.create('/k/a', obj('a'))).modRevision;
        const r2 = (await store.create('/k/b', obj('b'))).modRevision;
        const r3 = (await store.update('/k/a', obj('a', { data: { v: '2' } }))).modRevision;
        const r4 = (await store.delete('/k/b')).modRevision;
        const { events, watch } = await record(store, '/k/', r1);
        const r5 = (await store.create('/k/c', obj('c'))).modRevision;
        const r6 = (await store.update('/k/c', obj('c', { data: { v: '2' } }))).modRevision;
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [
          `ADDED /k/b ${r2}`,
          `MODIFIED /k/a ${r3}`,
          `DELETED /k/b ${r4}`,
          `ADDED /k/c ${r5}`,
          `MODIFIED /k/c ${r6}`,
        ]);
        for (const e of events) assert.equal(e.value.metadata.resourceVersion, String(e.revision));
      });

      it('events are delivered asynchronously, never inside the write call', async () => {
        const { events, watch } = await record(store, '/k/', 0);
        const pending = store.create('/k/a', obj('a'));
        assert.equal(events.length, 0);
        await pending;
        await settle();
        watch.stop();
        assert.equal(events.length, 1);
      });

      it('a watch sees only its prefix', async () => {
        const { events, watch } = await record(store, '/registry/core/pods/a/', 0);
        await store.create('/registry/core/pods/ab/x', obj('x'));
        await store.create('/registry/core/pods/a', obj('bare'));
        const mine = await store.create('/registry/core/pods/a/y', obj('y'));
        await store.create('/registry/core/services/a/z', obj('z'));
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [`ADDED /registry/core/pods/a/y ${mine.modRevision}`]);
      });

      it('a history replay is limited to the prefix as well', async () => {
        const start = (await store.create('/x/a/0', obj('0'))).modRevision;
        await store.create('/x/ab/1', obj('1'));
        const mine = await store.create('/x/a/2', obj('2'));
        const { events, watch } = await record(store, '/x/a/', start);
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [`ADDED /x/a/2 ${mine.modRevision}`]);
      });

      it('MODIFIED carries the previous value and DELETED carries the last value at the deletion revision', async () => {
        const { events, watch } = await record(store, '/k/', 0);
        const created = await store.create('/k/a', obj('a', { data: { v: '1' } }));
        const updated = await store.update('/k/a', obj('a', { data: { v: '2' } }));
        const deleted = await store.delete('/k/a');
        await settle();
        watch.stop();
        const [added, modified, removed] = events;
        assert.equal(added?.prevValue, undefined);
        assert.deepEqual(modified?.prevValue, created.value);
        assert.deepEqual(modified?.value, updated.value);
        assert.equal(removed?.type, 'DELETED');
        assert.equal(removed?.revision, deleted.modRevision);
        assert.equal(removed?.value.metadata.resourceVersion, String(deleted.modRevision));
        assert.deepEqual(removed?.value['data'], { v: '2' });
        assert.deepEqual(removed?.prevValue, updated.value);
      });

      it('replayed events have the same shape as live ones', async () => {
        await store.create('/elsewhere/first', obj('first'));
        const start = await store.revision();
        const live = await record(store, '/k/', 0);
        await store.create('/k/a', obj('a', { data: { v: '1' } }));
        await store.update('/k/a', obj('a', { data: { v: '2' } }));
        await store.delete('/k/a');
        await settle();
        live.watch.stop();
        const replay = await record(store, '/k/', start);
        await settle();
        replay.watch.stop();
        assert.equal(live.events.length, 3);
        assert.deepEqual(replay.events, live.events);
      });

      it('stop ends delivery, including events already queued', async () => {
        const { events, watch } = await record(store, '/k/', 0);
        await store.create('/k/a', obj('a'));
        await settle();
        const p = store.create('/k/b', obj('b'));
        watch.stop();
        await p;
        await store.create('/k/c', obj('c'));
        await settle();
        assert.deepEqual(events.map((e) => e.key), ['/k/a']);
      });

      it('two watches receive the same events independently', async () => {
        const w1 = await record(store, '/k/', 0);
        const w2 = await record(store, '/k/', 0);
        await store.create('/k/a', obj('a'));
        await settle();
        w1.watch.stop();
        await store.create('/k/b', obj('b'));
        await settle();
        w2.watch.stop();
        assert.deepEqual(w1.events.map((e) => e.key), ['/k/a']);
        assert.deepEqual(w2.events.map((e) => e.key), ['/k/a', '/k/b']);
      });

      it('a watch from the current revision delivers nothing until the next change', async () => {
        await store.create('/k/a', obj('a'));
        const { events, watch } = await record(store, '/k/', await store.revision());
        await settle();
        assert.equal(events.length, 0);
        const b = await store.create('/k/b', obj('b'));
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [`ADDED /k/b ${b.modRevision}`]);
      });
    });

    describe('compaction', () => {
      it('compaction keeps the current state and the state at the compacted revision, and refuses older reads', async () => {
        await store.create('/k/a', obj('a', { data: { v: '1' } }));
        const early = await store.revision();
        await store.update('/k/a', obj('a', { data: { v: '2' } }));
        await store.create('/k/b', obj('b'));
        await store.create('/k/gone', obj('gone'));
        await store.delete('/k/gone');
        await store.update('/k/b', obj('b', { data: { v: '2' } }));
        const mid = await store.revision();
        const atMid = await store.list('/k/');
        await store.update('/k/a', obj('a', { data: { v: '3' } }));
        await store.delete('/k/b');
        await store.create('/k/c', obj('c'));
        const latest = await store.list('/k/');

        await store.compact(mid);
        assert.equal(await store.compactedRevision(), mid);
        assert.deepEqual(await store.list('/k/'), latest);
        assert.deepEqual(await store.list('/k/', { revision: mid }), atMid);
        await rejectsWith(store.list('/k/', { revision: early }), 'Compacted');
        await rejectsWith(store.watch('/k/', { fromRevision: early }, () => undefined), 'Compacted');
        assert.equal(await store.count('/k/'), 2);
      });

      it('a watch from the compacted revision still replays everything after it, with previous values', async () => {
        const a1 = await store.create('/k/a', obj('a', { data: { v: '1' } }));
        await store.create('/k/b', obj('b'));
        const mid = await store.revision();
        const a2 = await store.update('/k/a', obj('a', { data: { v: '2' } }));
        const b = await store.delete('/k/b');
        await store.compact(mid);
        const { events, watch } = await record(store, '/k/', mid);
        await settle();
        watch.stop();
        assert.deepEqual(summary(events), [`MODIFIED /k/a ${a2.modRevision}`, `DELETED /k/b ${b.modRevision}`]);
        assert.deepEqual(events[0]?.prevValue, a1.value);
        assert.equal(events[1]?.prevValue?.metadata.name, 'b');
      });

      it('revisions keep increasing after compacting everything, including deleted keys', async () => {
        await store.create('/k/a', obj('a'));
        const last = await store.delete('/k/a');
        await store.compact(last.modRevision);
        assert.equal(await store.count('/k/'), 0);
        const next = await store.create('/k/a', obj('a'));
        assert.ok(next.modRevision > last.modRevision);
      });

      it('compacting at or below the compacted revision changes nothing', async () => {
        await store.create('/k/a', obj('a'));
        await store.update('/k/a', obj('a', { data: { v: '2' } }));
        const rev = await store.revision();
        await store.compact(rev);
        await store.compact(rev - 1);
        assert.equal(await store.compactedRevision(), rev);
        assert.equal((await store.get('/k/a'))?.modRevision, rev);
      });
    });

    describe('close', () => {
      it('a closed store refuses every operation with Closed and ends its watches', async () => {
        const { events, watch } = await record(store, '/k/', 0);
        await store.close();
        await store.close();
        const ops: Array<() => Promise<unknown>> = [
          () => store.revision(),
          () => store.compactedRevision(),
          () => store.get('/k/a'),
          () => store.list('/k/'),
          () => store.count('/k/'),
          () => store.create('/k/a', obj('a')),
          () => store.update('/k/a', obj('a')),
          () => store.delete('/k/a'),
          () => store.watch('/k/', { fromRevision: 0 }, () => undefined),
          () => store.compact(1),
        ];
        for (const op of ops) await rejectsWith(op(), 'Closed');
        watch.stop();
        assert.equal(events.length, 0);
      });
    });
  });
}
