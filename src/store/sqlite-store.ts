// The default Store: a revision log in SQLite (node:sqlite), in the style of k3s's kine. Every create,
// update and delete appends one row to `log` (its revision is the row id); `current` indexes the newest
// live row of each key so that get/list/count at the latest revision never scan history; `meta` holds the
// revision counter and the compacted revision so both survive restarts and compaction. Reads at an old
// revision and watches from a revision are served from the log. WAL mode; every write is one transaction
// and the returned promise resolves only after COMMIT. One process owns a database file at a time.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import type { KubeObject } from '../api/types.ts';
import { StoreError } from './store.ts';
import type { ListOptions, ListResult, Store, StoredEntry, StoreEvent, StoreEventType, StoreWatch, WatchOptions } from './store.ts';
import {
  assertValidKey,
  closedError,
  collectPage,
  compactedError,
  futureRevisionError,
  makeEvent,
  pageOptions,
  parseValue,
  prefixEnd,
  stampValue,
  WatchHub,
} from './store-common.ts';

export interface SqliteStoreOptions {
  /**
   * SQLite `synchronous` in WAL mode. 'normal' (default): a commit survives the process being killed
   * (kill -9) but the last commits may be lost on power failure or OS crash. 'full': the WAL is fsynced on
   * every commit, so an acknowledged write also survives power loss (slower).
   */
  synchronous?: 'normal' | 'full';
  /** How long a write waits for a lock held by another connection, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Parse every current value into the in-memory cache while opening (default true), so the first list is
   * as fast as later ones. With false, values are parsed on first read.
   */
  warmCache?: boolean;
}

export interface SqliteStoreSettings {
  journalMode: string;
  synchronous: 'off' | 'normal' | 'full' | 'extra';
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY,
  key             TEXT    NOT NULL,
  event           TEXT    NOT NULL CHECK (event IN ('ADDED', 'MODIFIED', 'DELETED')),
  value           TEXT    NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS current (
  key             TEXT    PRIMARY KEY,
  revision        INTEGER NOT NULL,
  create_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
`;

interface CurrentRow {
  key: string;
  revision: number;
  create_revision: number;
}

interface CachedValue {
  revision: number;
  value: KubeObject;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new StoreError('Unavailable', `store: expected a number from SQLite, got ${typeof v}`);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  throw new StoreError('Unavailable', `store: expected text from SQLite, got ${typeof v}`);
}

function eventType(v: unknown): StoreEventType {
  if (v === 'ADDED' || v === 'MODIFIED' || v === 'DELETED') return v;
  throw new StoreError('Unavailable', `store: unknown event type in log: ${String(v)}`);
}

function currentRow(r: Record<string, unknown>): CurrentRow {
  return { key: str(r['key']), revision: num(r['revision']), create_revision: num(r['create_revision']) };
}

function unavailable(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError('Unavailable', `store: sqlite: ${message}`, { cause: err });
}

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly hub = new WatchHub();
  /** Parsed values of current entries, keyed by key; valid only while `revision` matches `current`. */
  private readonly cache = new Map<string, CachedValue>();
  private rev: number;
  private compacted: number;
  private closed = false;
  private readonly stmt: Record<
    | 'getCurrent' | 'insertLog' | 'upsertCurrent' | 'deleteCurrent' | 'readRevision' | 'writeRevision'
    | 'valueAt' | 'listCurrent' | 'countCurrentAfter' | 'countCurrent' | 'changedSince' | 'listAt'
    | 'countAt' | 'historyAfter' | 'compactLog' | 'writeCompacted' | 'begin' | 'commit' | 'rollback',
    StatementSync
  >;

  private constructor(db: DatabaseSync) {
    this.db = db;
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.stmt = {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      getCurrent: p('SELECT key, revision, create_revision FROM current WHERE key = ?'),
      insertLog: p('INSERT INTO log (revision, key, event, value, create_revision, prev_revision) VALUES (?, ?, ?, ?, ?, ?)'),
      upsertCurrent: p('INSERT INTO current (key, revision, create_revision) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, create_revision = excluded.create_revision'),
      deleteCurrent: p('DELETE FROM current WHERE key = ?'),
      readRevision: p(`SELECT value FROM meta WHERE name = 'revision'`),
      writeRevision: p(`UPDATE meta SET value = ? WHERE name = 'revision'`),
      writeCompacted: p(`UPDATE meta SET value = ? WHERE name = 'compacted'`),
      valueAt: p('SELECT value FROM log WHERE revision = ?'),
      // Latest state: the current index in key order, bounded by [prefix, prefixEnd) and > startAfter.
      listCurrent: p('SELECT key, revision, create_revision FROM current WHERE key >= ? AND key > ? AND key < ? ORDER BY key'),
      countCurrentAfter: p('SELECT COUNT(*) AS n FROM current WHERE key >= ? AND key > ? AND key < ?'),
      countCurrent: p('SELECT COUNT(*) AS n FROM current WHERE key >= ? AND key < ?'),
      changedSince: p('SELECT EXISTS (SELECT 1 FROM log WHERE revision > ? AND key >= ? AND key < ?) AS changed'),
      // State at a revision: per key the newest row at or below it (SQLite takes the bare columns of a
      // single-max() aggregate from the row holding the max); deleted keys are dropped by the caller.
      listAt: p(`SELECT key, MAX(revision) AS revision, event, create_revision FROM log
                 WHERE key >= ? AND key > ? AND key < ? AND revision <= ?
                 GROUP BY key ORDER BY key`),
      countAt: p(`SELECT COUNT(*) AS n FROM (
                    SELECT MAX(revision), event FROM log
                    WHERE key >= ? AND key > ? AND key < ? AND revision <= ? GROUP BY key)
                  WHERE event != 'DELETED'`),
      historyAfter: p(`SELECT l.revision, l.key, l.event, l.value, p.value AS prev_value
                       FROM log l LEFT JOIN log p ON p.revision = l.prev_revision AND l.prev_revision > 0
                       WHERE l.revision > ? AND l.key >= ? AND l.key < ? ORDER BY l.revision`),
      // Rows at or below the target that a newer row at or below it supersedes, and deletion records at or
      // below it (the key did not exist at the target, and no later event refers to them).
      compactLog: p(`DELETE FROM log WHERE revision <= ?1 AND (event = 'DELETED' OR EXISTS (
                       SELECT 1 FROM log n WHERE n.key = log.key AND n.revision > log.revision AND n.revision <= ?1))`),
    };
    const revRow = db.prepare(`SELECT MAX((SELECT value FROM meta WHERE name = 'revision'), COALESCE((SELECT MAX(revision) FROM log), 0)) AS rev`).get();
    const compactedRow = db.prepare(`SELECT value FROM meta WHERE name = 'compacted'`).get();
    this.rev = num(revRow?.['rev']);
    this.compacted = num(compactedRow?.['value']);
  }

  /** Opens (creating if needed) the database at `path` (parent directories included; ':memory:' works). */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw unavailable(err);
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      const version = num(db.prepare('PRAGMA user_version').get()?.['user_version']);
      if (version > SCHEMA_VERSION) {
        throw new StoreError('Unavailable', `store: ${path} has schema version ${version}, newer than this flatnet (${SCHEMA_VERSION})`);
      }
      db.exec('BEGIN IMMEDIATE');
      db.exec(SCHEMA);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      db.exec('COMMIT');
      const store = new SqliteStore(db);
      if (opts.warmCache !== false) store.warm();
      return store;
    } catch (err) {
      try { db.close(); } catch { /* already failing */ }
      throw unavailable(err);
    }
  }

  /** Loads every current value into the cache with one query. */
  private warm(): void {
    const rows = this.db.prepare('SELECT c.key, c.revision, l.value FROM current c JOIN log l ON l.revision = c.revision').all();
    for (const r of rows) this.cache.set(str(r['key']), { revision: num(r['revision']), value: parseValue(str(r['value'])) });
  }

  /** The effective journal mode and synchronous level of the connection. */
  settings(): SqliteStoreSettings {
    this.ensureOpen();
    const journalMode = str(this.db.prepare('PRAGMA journal_mode').get()?.['journal_mode']);
    const level = num(this.db.prepare('PRAGMA synchronous').get()?.['synchronous']);
    const names = ['off', 'normal', 'full', 'extra'] as const;
    return { journalMode, synchronous: names[level] ?? 'full' };
  }

  async revision(): Promise<number> {
    this.ensureOpen();
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    return this.compacted;
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    this.ensureOpen();
    const r = this.stmt.getCurrent.get(key);
    if (r === undefined) return undefined;
    const row = currentRow(r);
    return this.currentEntry(row);
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.ensureOpen();
    const revision = this.readRevision(options?.revision);
    const end = prefixEnd(prefix);
    const after = options?.startAfter ?? '';
    const page = pageOptions(options);
    const latest = revision === this.rev || !this.changedSince(revision, prefix, end);
    if (latest) {
      // Without a limit every row is needed: all() is cheaper than stepping an iterator.
      const rows = page.limit > 0 ? this.stmt.listCurrent.iterate(prefix, after, end) : this.stmt.listCurrent.all(prefix, after, end);
      const candidates = (function* (store: SqliteStore): Generator<StoredEntry> {
        for (const r of rows) yield store.currentEntry(currentRow(r));
      })(this);
      const remainingAfter = (lastKey: string): number => num(this.stmt.countCurrentAfter.get(prefix, lastKey, end)?.['n']);
      return collectPage(candidates, revision, page, remainingAfter);
    }
    const remainingAfter = (lastKey: string): number => num(this.stmt.countAt.get(prefix, lastKey, end, revision)?.['n']);
    return collectPage(this.entriesAt(prefix, after, end, revision), revision, page, remainingAfter);
  }

  async count(prefix: string): Promise<number> {
    this.ensureOpen();
    return num(this.stmt.countCurrent.get(prefix, prefixEnd(prefix))?.['n']);
  }

  async create(key: string, value: KubeObject): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    return this.write(key, (cur, revision) => {
      if (cur !== undefined) throw new StoreError('AlreadyExists', `store: key ${key} already exists`, { key });
      const stamped = stampValue(value, revision);
      this.stmt.insertLog.run(revision, key, 'ADDED', stamped.json, revision, 0);
      this.stmt.upsertCurrent.run(key, revision, revision);
      return { type: 'ADDED', value: stamped.value, createRevision: revision, prevValue: undefined };
    });
  }

  async update(key: string, value: KubeObject, expectedRevision?: number): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    return this.write(key, (cur, revision) => {
      const prev = this.guard(key, cur, expectedRevision);
      const stamped = stampValue(value, revision);
      this.stmt.insertLog.run(revision, key, 'MODIFIED', stamped.json, prev.row.create_revision, prev.row.revision);
      this.stmt.upsertCurrent.run(key, revision, prev.row.create_revision);
      return { type: 'MODIFIED', value: stamped.value, createRevision: prev.row.create_revision, prevValue: prev.value };
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    return this.write(key, (cur, revision) => {
      const prev = this.guard(key, cur, expectedRevision);
      const stamped = stampValue(prev.value, revision);
      this.stmt.insertLog.run(revision, key, 'DELETED', stamped.json, prev.row.create_revision, prev.row.revision);
      this.stmt.deleteCurrent.run(key);
      return { type: 'DELETED', value: stamped.value, createRevision: prev.row.create_revision, prevValue: prev.value };
    });
  }

  async watch(prefix: string, options: WatchOptions, onEvent: (event: StoreEvent) => void): Promise<StoreWatch> {
    this.ensureOpen();
    const from = options.fromRevision;
    if (!Number.isSafeInteger(from) || from < 0) throw new TypeError('store: fromRevision must be a non-negative integer');
    if (from > 0 && from < this.compacted) throw compactedError(from, this.compacted);
    // Register first so no commit can fall between the history read and the live stream; the channel
    // holds live events until the history is queued and drops revisions it has already queued.
    const channel = this.hub.open(prefix, from, onEvent);
    try {
      if (from > 0 && from < this.rev) channel.deliverHistory(this.historyAfter(prefix, from));
    } catch (err) {
      channel.stop();
      throw unavailable(err);
    }
    channel.goLive();
    return { stop: () => channel.stop() };
  }

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    const target = Math.min(Math.floor(revision), this.rev);
    if (target <= this.compacted) return;
    try {
      this.stmt.begin.run();
      try {
        this.stmt.compactLog.run(target);
        this.stmt.writeCompacted.run(target);
        this.stmt.commit.run();
      } catch (err) {
        this.stmt.rollback.run();
        throw err;
      }
    } catch (err) {
      throw unavailable(err);
    }
    this.compacted = target;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.stopAll();
    this.cache.clear();
    this.db.close();
  }

  // ------------------------------------------------------------------------------------------ internals

  private ensureOpen(): void {
    if (this.closed) throw closedError();
  }

  private readRevision(requested: number | undefined): number {
    if (requested === undefined || requested === 0) return this.rev;
    if (requested > 0 && requested < this.compacted) throw compactedError(requested, this.compacted);
    if (requested > this.rev) throw futureRevisionError(requested, this.rev);
    return requested;
  }

  /**
   * One write transaction: reads the key's current row and the revision counter, lets `apply` append the
   * log row and fix the index, bumps the counter, commits, and only then updates the cache and tells the
   * watchers. A failed check or SQLite error rolls back and consumes no revision.
   */
  private write(
    key: string,
    apply: (cur: CurrentRow | undefined, revision: number) => { type: StoreEventType; value: KubeObject; createRevision: number; prevValue: KubeObject | undefined },
  ): StoredEntry {
    let revision: number;
    let result: ReturnType<typeof apply>;
    try {
      this.stmt.begin.run();
    } catch (err) {
      throw unavailable(err);
    }
    try {
      const r = this.stmt.getCurrent.get(key);
      const cur = r === undefined ? undefined : currentRow(r);
      revision = Math.max(num(this.stmt.readRevision.get()?.['value']), this.rev) + 1;
      result = apply(cur, revision);
      this.stmt.writeRevision.run(revision);
      this.stmt.commit.run();
    } catch (err) {
      try { this.stmt.rollback.run(); } catch { /* the transaction may already be gone */ }
      if (err instanceof StoreError || err instanceof TypeError) throw err;
      throw unavailable(err);
    }
    this.rev = revision;
    if (result.type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, { revision, value: result.value });
    this.hub.publish(makeEvent(result.type, key, result.value, revision, result.prevValue));
    return { key, value: result.value, createRevision: result.createRevision, modRevision: revision };
  }

  private guard(key: string, cur: CurrentRow | undefined, expectedRevision: number | undefined): { row: CurrentRow; value: KubeObject } {
    if (cur === undefined) throw new StoreError('NotFound', `store: key ${key} not found`, { key });
    if (expectedRevision !== undefined && cur.revision !== expectedRevision) {
      throw new StoreError('Conflict', `store: key ${key} is at revision ${cur.revision}, not ${expectedRevision}`, { key });
    }
    return { row: cur, value: this.currentValue(cur) };
  }

  private currentEntry(row: CurrentRow): StoredEntry {
    return { key: row.key, value: this.currentValue(row), createRevision: row.create_revision, modRevision: row.revision };
  }

  /** The parsed value of a current row: from the cache when it holds that revision, else from the log. */
  private currentValue(row: CurrentRow): KubeObject {
    const cached = this.cache.get(row.key);
    if (cached !== undefined && cached.revision === row.revision) return cached.value;
    const value = this.valueAt(row.revision);
    this.cache.set(row.key, { revision: row.revision, value });
    return value;
  }

  private valueAt(revision: number): KubeObject {
    const r = this.stmt.valueAt.get(revision);
    if (r === undefined) throw new StoreError('Unavailable', `store: log row ${revision} is missing`);
    return parseValue(str(r['value']));
  }

  private changedSince(revision: number, prefix: string, end: string): boolean {
    return num(this.stmt.changedSince.get(revision, prefix, end)?.['changed']) !== 0;
  }

  /** The live entries under the prefix after `startAfter`, in key order, as of `revision` (from the log). */
  private *entriesAt(prefix: string, startAfter: string, end: string, revision: number): Generator<StoredEntry> {
    for (const r of this.stmt.listAt.iterate(prefix, startAfter, end, revision)) {
      if (eventType(r['event']) === 'DELETED') continue;
      const key = str(r['key']);
      const modRevision = num(r['revision']);
      const cached = this.cache.get(key);
      const value = cached !== undefined && cached.revision === modRevision ? cached.value : this.valueAt(modRevision);
      yield { key, value, createRevision: num(r['create_revision']), modRevision };
    }
  }

  private historyAfter(prefix: string, from: number): StoreEvent[] {
    const events: StoreEvent[] = [];
    for (const r of this.stmt.historyAfter.iterate(from, prefix, prefixEnd(prefix))) {
      const key = str(r['key']);
      const revision = num(r['revision']);
      const prevText = r['prev_value'];
      const cached = this.cache.get(key);
      const value = cached !== undefined && cached.revision === revision ? cached.value : parseValue(str(r['value']));
      const prevValue = typeof prevText === 'string' ? parseValue(prevText) : undefined;
      events.push(makeEvent(eventType(r['event']), key, value, revision, prevValue));
    }
    return events;
  }
}
