// The storage contract of the API server: a key/value store with a single, strictly increasing revision
// counter (the resourceVersion of every object), multi-version reads and watches from a revision, and
// compaction. Implementations: MemoryStore (unit tests), SqliteStore (default, node:sqlite revision log in
// the style of k3s's kine), and later etcd. One conformance suite (store-conformance.ts) runs on all.
import type { KubeObject } from '../api/types.ts';

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Compacted' | 'Closed' | 'Unavailable';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly key: string | undefined;
  constructor(code: StoreErrorCode, message: string, options?: { key?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'StoreError';
    this.code = code;
    this.key = options?.key;
  }
}

export interface StoredEntry {
  key: string;
  /** The object as stored, with metadata.resourceVersion equal to String(modRevision). */
  value: KubeObject;
  createRevision: number;
  modRevision: number;
}

export interface ListOptions {
  /** Serve the list as of this revision (0 or undefined: the latest). Older than compaction -> Compacted. */
  revision?: number;
  /** At most this many entries (0 or undefined: all). */
  limit?: number;
  /** Exclusive lower bound on keys, for pagination. */
  startAfter?: string;
  /** Optional filter applied before `limit` is counted, so pages are full. */
  filter?: (value: KubeObject) => boolean;
}

export interface ListResult {
  entries: StoredEntry[];
  /** The revision the list reflects. */
  revision: number;
  /** True when more entries matched after the last one returned. */
  more: boolean;
  /** How many more matching entries remain (when cheaply known). */
  remaining?: number;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  /** For DELETED: the last state, with resourceVersion set to the deletion revision. */
  value: KubeObject;
  /** The state before this event (absent for ADDED). */
  prevValue?: KubeObject;
  revision: number;
}

export interface WatchOptions {
  /** Deliver every event with revision > fromRevision (0: only new events). Throws Compacted if too old. */
  fromRevision: number;
}

export interface StoreWatch {
  stop(): void;
}

export interface Store {
  /** The newest committed revision. */
  revision(): Promise<number>;
  /** The oldest revision still readable (everything at or below it has been compacted away). */
  compactedRevision(): Promise<number>;

  get(key: string): Promise<StoredEntry | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;

  /** Creates the key; sets value.metadata.resourceVersion; throws AlreadyExists. Durable on return. */
  create(key: string, value: KubeObject): Promise<StoredEntry>;
  /**
   * Replaces the value. With expectedRevision, fails with Conflict unless the current modRevision equals it.
   * Throws NotFound when the key does not exist.
   */
  update(key: string, value: KubeObject, expectedRevision?: number): Promise<StoredEntry>;
  /** Deletes the key (optionally guarded by revision); returns the deleted entry. Throws NotFound / Conflict. */
  delete(key: string, expectedRevision?: number): Promise<StoredEntry>;

  /**
   * Calls `onEvent` for each change under `prefix` after `fromRevision`, in revision order, first the
   * history from the log then live changes, with no gap and no duplicate. Throws Compacted when
   * fromRevision is older than the compacted revision.
   */
  watch(prefix: string, options: WatchOptions, onEvent: (event: StoreEvent) => void): Promise<StoreWatch>;

  /** Drops history at or below `revision` (never the current state). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
