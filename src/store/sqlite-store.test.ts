// SqliteStore: the conformance suite on a temporary directory, plus what only a persistent backend has:
// settings, persistence across reopen, survival of a kill -9 mid-stream, and the performance budget.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../api/types.ts';
import { SqliteStore } from './sqlite-store.ts';
import { runStoreConformance } from './store-conformance.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '..', '..');
const nodeBin = join(repoRoot, 'node_modules', '.bin', 'node');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-store-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function cm(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

runStoreConformance('SqliteStore', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(join(dir, 'state', 'flatnet.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore settings', () => {
  const cases: Array<{ name: string; opts: Parameters<typeof SqliteStore.open>[1]; synchronous: string }> = [
    { name: 'the default is WAL with synchronous=NORMAL', opts: undefined, synchronous: 'normal' },
    { name: 'synchronous full selects WAL with synchronous=FULL', opts: { synchronous: 'full' }, synchronous: 'full' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const store = SqliteStore.open(join(tempDir(), 'db.sqlite'), c.opts);
      try {
        assert.deepEqual(store.settings(), { journalMode: 'wal', synchronous: c.synchronous });
      } finally {
        await store.close();
      }
    });
  }
});

describe('SqliteStore persistence', () => {
  it('data, revision and compaction survive close and reopen, and the revision continues', async () => {
    const path = join(tempDir(), 'db.sqlite');
    let store = SqliteStore.open(path);
    await store.create('/k/a', cm('a', { v: '1' }));
    const b = await store.create('/k/b', cm('b'));
    const mid = await store.revision();
    const a2 = await store.update('/k/a', cm('a', { v: '2' }));
    await store.compact(mid);
    await store.close();

    store = SqliteStore.open(path);
    try {
      assert.equal(await store.revision(), a2.modRevision);
      assert.equal(await store.compactedRevision(), mid);
      assert.deepEqual(await store.get('/k/a'), a2);
      assert.deepEqual(await store.get('/k/b'), b);
      const c = await store.create('/k/c', cm('c'));
      assert.equal(c.modRevision, a2.modRevision + 1);
      await assert.rejects(store.list('/k/', { revision: mid - 1 }), { code: 'Compacted' });
      const atMid = await store.list('/k/', { revision: mid });
      assert.deepEqual(atMid.entries.map((e) => [e.key, e.value['data']]), [['/k/a', { v: '1' }], ['/k/b', {}]]);
    } finally {
      await store.close();
    }
  });

  it('a revision is never reused after the newest log rows are compacted away and the store reopens', async () => {
    const path = join(tempDir(), 'db.sqlite');
    let store = SqliteStore.open(path);
    await store.create('/k/a', cm('a'));
    const deleted = await store.delete('/k/a');
    await store.compact(deleted.modRevision);
    await store.close();
    const db = new DatabaseSync(path);
    const rows = db.prepare('SELECT COUNT(*) AS n FROM log').get();
    db.close();
    assert.equal(rows?.['n'], 0);

    store = SqliteStore.open(path);
    try {
      const next = await store.create('/k/a', cm('a'));
      assert.equal(next.modRevision, deleted.modRevision + 1);
    } finally {
      await store.close();
    }
  });

  it('the log holds one row per write, with event type, create and previous revisions', async () => {
    const path = join(tempDir(), 'db.sqlite');
    const store = SqliteStore.open(path);
    const a = await store.create('/k/a', cm('a'));
    const a2 = await store.update('/k/a', cm('a', { v: '2' }));
    const d = await store.delete('/k/a');
    await store.close();
    const db = new DatabaseSync(path);
    const rows = db.prepare('SELECT revision, key, event, create_revision, prev_revision, value FROM log ORDER BY revision').all();
    db.close();
    assert.deepEqual(rows.map((r) => [r['revision'], r['key'], r['event'], r['create_revision'], r['prev_revision']]), [
      [a.modRevision, '/k/a', 'ADDED', a.modRevision, 0],
      [a2.modRevision, '/k/a', 'MODIFIED', a.modRevision, a.modRevision],
      [d.modRevision, '/k/a', 'DELETED', a.modRevision, a2.modRevision],
    ]);
    const stored = JSON.parse(String(rows[2]?.['value'])) as KubeObject;
    assert.equal(stored.metadata.resourceVersion, String(d.modRevision));
  });

  it('an unreadable file is reported as Unavailable', () => {
    const dir = tempDir();
    assert.throws(() => SqliteStore.open(dir), { name: 'StoreError', code: 'Unavailable' });
  });
});

interface CrashRun {
  acked: Map<number, number>;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the crash writer, kills it with SIGKILL once `killAfter` writes were acknowledged. */
function runCrashWriter(path: string, killAfter: number, full: boolean): Promise<CrashRun> {
  return new Promise((resolvePromise, reject) => {
    const args = ['--disable-warning=ExperimentalWarning', join(here, 'testdata', 'crash-writer.ts'), path, '100000'];
    if (full) args.push('full');
    const child = spawn(nodeBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, number>();
    let buffered = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash writer timed out after ${acked.size} acknowledged writes; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr += chunk; });
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [index, revision] = line.split(' ').map(Number);
        if (index === undefined || revision === undefined || !Number.isInteger(index) || !Number.isInteger(revision)) {
          continue;
        }
        acked.set(index, revision);
      }
      if (!killed && acked.size >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolvePromise({ acked, signal, stderr });
    });
  });
}

describe('SqliteStore crash safety', () => {
  for (const full of [false, true]) {
    it(`every write acknowledged before a kill -9 is present after reopening (synchronous ${full ? 'full' : 'normal'})`, async () => {
      assert.ok(existsSync(nodeBin), `missing ${nodeBin}`);
      const path = join(tempDir(), 'crash.db');
      const run = await runCrashWriter(path, 300, full);
      assert.equal(run.signal, 'SIGKILL', `the writer was not killed mid-stream; stderr: ${run.stderr}`);
      assert.ok(run.acked.size >= 300, `only ${run.acked.size} writes acknowledged`);

      const store = SqliteStore.open(path);
      try {
        let maxAcked = 0;
        for (const [index, revision] of run.acked) {
          const entry = await store.get(`/registry/crash/k${String(index).padStart(6, '0')}`);
          assert.ok(entry !== undefined, `acknowledged write ${index} (revision ${revision}) is missing`);
          assert.equal(entry.modRevision, revision);
          assert.equal(entry.value['data'] !== undefined && (entry.value['data'] as Record<string, string>)['index'], String(index));
          maxAcked = Math.max(maxAcked, revision);
        }
        assert.ok((await store.revision()) >= maxAcked);
        const next = await store.create('/registry/crash/after', cm('after'));
        assert.ok(next.modRevision > maxAcked);
        assert.equal(await store.count('/registry/crash/'), (await store.list('/registry/crash/')).entries.length);
      } finally {
        await store.close();
      }
    });
  }
});

describe('SqliteStore performance', () => {
  it('10,000 creates in separate transactions take a few seconds at most and a latest list of them is fast', async () => {
    const path = join(tempDir(), 'perf.db');
    let store = SqliteStore.open(path);
    const value = (i: number): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: 'perf', labels: { app: `app-${i % 10}`, tier: 'web' }, uid: `uid-${i}` },
      spec: { nodeName: `node-${i % 4}`, containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
      status: { phase: 'Running', podIP: `10.0.${Math.floor(i / 256) % 256}.${i % 256}` },
    });
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) await store.create(`/registry/pods/perf/pod-${String(i).padStart(5, '0')}`, value(i));
    const createMs = performance.now() - t0;
    assert.ok(createMs < 8_000, `10,000 creates took ${createMs.toFixed(0)} ms`);

    const timeList = async (): Promise<number> => {
      const t = performance.now();
      const res = await store.list('/registry/pods/perf/');
      const ms = performance.now() - t;
      assert.equal(res.entries.length, 10_000);
      return ms;
    };
    const warmMs = Math.min(await timeList(), await timeList());
    assert.ok(warmMs < 100, `listing 10,000 entries took ${warmMs.toFixed(1)} ms`);

    await store.close();
    const t1 = performance.now();
    store = SqliteStore.open(path);
    const openMs = performance.now() - t1;
    try {
      const reopenedMs = await timeList();
      assert.ok(openMs + reopenedMs < 1_000, `reopening took ${openMs.toFixed(1)} ms and the first list ${reopenedMs.toFixed(1)} ms`);
    } finally {
      await store.close();
    }
    store = SqliteStore.open(path, { warmCache: false });
    try {
      const coldMs = await timeList();
      assert.ok(coldMs < 1_000, `listing 10,000 entries with a cold cache took ${coldMs.toFixed(1)} ms`);
      process.stdout.write(`# sqlite perf: 10k creates ${createMs.toFixed(0)} ms, list ${warmMs.toFixed(1)} ms, ` +
        `reopen ${openMs.toFixed(1)} ms, cold-cache list ${coldMs.toFixed(1)} ms\n`);
    } finally {
      await store.close();
    }
  });
});
