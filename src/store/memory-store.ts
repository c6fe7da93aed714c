// An in-memory Store with the full semantics of the contract: one revision counter, a per-key history
// for reads at an old revision, a global log for watches from a revision, and compaction. Meant for unit
// tests and embedding; nothing survives the process.
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
  stampValue,
  WatchHub,
} from './store-common.ts';

interface Row {
  revision: number;
  key: string;
  type: StoreEventType;
  /** The value at this revision; for DELETED the last value with resourceVersion = this revision. */
  value: KubeObject;
  createRevision: number;
  /** The value this row replaced (absent for ADDED). */
  prevValue: KubeObject | undefined;
}

/** Index of the first element of sorted `keys` that is >= key (or > key when `strict`). */
function lowerBound(keys: readonly string[], key: string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid] as string;
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryStore implements Store {
  private rev = 0;
  private compacted = 0;
  private closed = false;
  /** Every retained row, in revision order. */
  private log: Row[] = [];
  /** Retained rows per key, in revision order. */
  private readonly history = new Map<string, Row[]>();
  /** Keys that have retained rows, sorted. */
  private keys: string[] = [];
  /** The live (not deleted) newest row of each key. */
  private readonly current = new Map<string, Row>();
  private readonly hub = new WatchHub();

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
    const row = this.current.get(key);
    return row === undefined ? undefined : toEntry(row);
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.ensureOpen();
    const revision = this.readRevision(options?.revision);
    const startAfter = options?.startAfter;
    const candidates = (after: string | undefined): Generator<StoredEntry> => this.entriesAt(prefix, after, revision);
    const remainingAfter = (lastKey: string): number => {
      let n = 0;
      for (const _ of candidates(lastKey)) n++;
      return n;
    };
    return collectPage(candidates(startAfter), revision, pageOptions(options), remainingAfter);
  }

  async count(prefix: string): Promise<number> {
    this.ensureOpen();
    let n = 0;
    for (let i = lowerBound(this.keys, prefix, false); i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      if (this.current.has(key)) n++;
    }
    return n;
  }

  async create(key: string, value: KubeObject): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    if (this.current.has(key)) throw new StoreError('AlreadyExists', `store: key ${key} already exists`, { key });
    const revision = this.rev + 1;
    const stamped = stampValue(value, revision);
    return toEntry(this.append({ revision, key, type: 'ADDED', value: stamped.value, createRevision: revision, prevValue: undefined }));
  }

  async update(key: string, value: KubeObject, expectedRevision?: number): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    const cur = this.guard(key, expectedRevision);
    const revision = this.rev + 1;
    const stamped = stampValue(value, revision);
    return toEntry(this.append({ revision, key, type: 'MODIFIED', value: stamped.value, createRevision: cur.createRevision, prevValue: cur.value }));
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredEntry> {
    this.ensureOpen();
    assertValidKey(key);
    const cur = this.guard(key, expectedRevision);
    const revision = this.rev + 1;
    const stamped = stampValue(cur.value, revision);
    return toEntry(this.append({ revision, key, type: 'DELETED', value: stamped.value, createRevision: cur.createRevision, prevValue: cur.value }));
  }

  async watch(prefix: string, options: WatchOptions, onEvent: (event: StoreEvent) => void): Promise<StoreWatch> {
    this.ensureOpen();
    const from = options.fromRevision;
    if (!Number.isSafeInteger(from) || from < 0) throw new TypeError('store: fromRevision must be a non-negative integer');
    if (from > 0 && from < this.compacted) throw compactedError(from, this.compacted);
    const channel = this.hub.open(prefix, from, onEvent);
    if (from > 0) {
      const history: StoreEvent[] = [];
      for (let i = this.firstLogIndexAfter(from); i < this.log.length; i++) {
        const row = this.log[i] as Row;
        if (row.key.startsWith(prefix)) history.push(rowEvent(row));
      }
      channel.deliverHistory(history);
    }
    channel.goLive();
    return { stop: () => channel.stop() };
  }

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    const target = Math.min(Math.floor(revision), this.rev);
    if (target <= this.compacted) return;
    const dropped = new Set<Row>();
    const emptied: string[] = [];
    for (const [key, rows] of this.history) {
      let last = -1;
      while (last + 1 < rows.length && (rows[last + 1] as Row).revision <= target) last++;
      if (last < 0) continue;
      // Everything before the newest row at or below the target is superseded; that row survives unless
      // it records a deletion (then the key did not exist at the target).
      const keepFrom = (rows[last] as Row).type === 'DELETED' ? last + 1 : last;
      for (let i = 0; i < keepFrom; i++) dropped.add(rows[i] as Row);
      if (keepFrom > 0) {
        const kept = rows.slice(keepFrom);
        if (kept.length === 0) emptied.push(key);
        else this.history.set(key, kept);
      }
    }
    for (const key of emptied) this.history.delete(key);
    if (emptied.length > 0) {
      const gone = new Set(emptied);
      this.keys = this.keys.filter((k) => !gone.has(k));
    }
    this.log = this.log.filter((row) => !dropped.has(row));
    this.compacted = target;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.stopAll();
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

  private guard(key: string, expectedRevision: number | undefined): Row {
    const cur = this.current.get(key);
    if (cur === undefined) throw new StoreError('NotFound', `store: key ${key} not found`, { key });
    if (expectedRevision !== undefined && cur.revision !== expectedRevision) {
      throw new StoreError('Conflict', `store: key ${key} is at revision ${cur.revision}, not ${expectedRevision}`, { key });
    }
    return cur;
  }

  private append(row: Row): Row {
    this.rev = row.revision;
    this.log.push(row);
    let rows = this.history.get(row.key);
    if (rows === undefined) {
      rows = [];
      this.history.set(row.key, rows);
      this.keys.splice(lowerBound(this.keys, row.key, false), 0, row.key);
    }
    rows.push(row);
    if (row.type === 'DELETED') this.current.delete(row.key);
    else this.current.set(row.key, row);
    this.hub.publish(rowEvent(row));
    return row;
  }

  /** The live entries under `prefix` after `startAfter`, in key order, as of `revision`. */
  private *entriesAt(prefix: string, startAfter: string | undefined, revision: number): Generator<StoredEntry> {
    const start = startAfter !== undefined && startAfter >= prefix
      ? lowerBound(this.keys, startAfter, true)
      : lowerBound(this.keys, prefix, false);
    for (let i = start; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) return;
      const row = this.rowAt(key, revision);
      if (row !== undefined) yield toEntry(row);
    }
  }

  /** The row holding `key`'s live value at `revision`, if the key existed then. */
  private rowAt(key: string, revision: number): Row | undefined {
    const rows = this.history.get(key);
    if (rows === undefined) return undefined;
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i] as Row;
      if (row.revision <= revision) return row.type === 'DELETED' ? undefined : row;
    }
    return undefined;
  }

  private firstLogIndexAfter(revision: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as Row).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function toEntry(row: Row): StoredEntry {
  return { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.revision };
}

function rowEvent(row: Row): StoreEvent {
  return makeEvent(row.type, row.key, row.value, row.revision, row.prevValue);
}
