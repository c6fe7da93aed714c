// Pieces shared by the Store backends: stamping values with their resourceVersion, freezing them so one
// parsed copy can be shared by every reader, the key-range arithmetic of prefixes, paging a key-ordered
// candidate sequence into a ListResult, and the per-watch delivery queue (history first, then live,
// in revision order, asynchronous, de-duplicated by revision).
import type { KubeObject } from '../api/types.ts';
import { StoreError } from './store.ts';
import type { ListOptions, ListResult, StoredEntry, StoreEvent } from './store.ts';

/** Freezes an object graph in place (values parsed from JSON: plain objects and arrays only). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export interface StampedValue {
  /** The value with metadata.resourceVersion = String(revision), deeply frozen. */
  value: KubeObject;
  /** Its JSON text, exactly what `value` was parsed from. */
  json: string;
}

/**
 * A copy of `value` with metadata.resourceVersion set to String(revision), normalised through JSON (so the
 * in-memory value equals what a reader parses back from storage) and deeply frozen. `value` is untouched.
 */
export function stampValue(value: KubeObject, revision: number): StampedValue {
  const metadata: unknown = (value as { metadata?: unknown }).metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TypeError('store: value.metadata must be an object');
  }
  const json = JSON.stringify({ ...value, metadata: { ...metadata, resourceVersion: String(revision) } });
  return { value: parseValue(json), json };
}

/** Parses a stored JSON value into a frozen KubeObject. */
export function parseValue(json: string): KubeObject {
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StoreError('Unavailable', 'store: stored value is not a JSON object');
  }
  return deepFreeze(parsed as KubeObject);
}

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('store: key must be a non-empty string');
}

/** Highest possible key: U+10FFFF is the largest code point, so its UTF-8 bytes sort after any ASCII key. */
const TOP = '\u{10FFFF}';

/**
 * The exclusive upper bound of the keys starting with `prefix` (in code-point / UTF-8 byte order):
 * the prefix with its last character incremented, or prefix + U+10FFFF when that is not possible.
 */
export function prefixEnd(prefix: string): string {
  if (prefix.length === 0) return TOP;
  const last = prefix.charCodeAt(prefix.length - 1);
  const next = last + 1;
  const isSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdfff;
  if (next <= 0xffff && !isSurrogate(last) && !isSurrogate(next)) {
    return prefix.slice(0, -1) + String.fromCharCode(next);
  }
  return prefix + TOP;
}

export interface PageOptions {
  limit: number;
  filter: ((value: KubeObject) => boolean) | undefined;
}

/** Normalises ListOptions.limit/filter. */
export function pageOptions(options: ListOptions | undefined): PageOptions {
  const limit = options?.limit;
  return {
    limit: limit !== undefined && limit > 0 ? Math.floor(limit) : 0,
    filter: options?.filter,
  };
}

/**
 * Takes entries from `candidates` (already in key order, after `startAfter`) until `limit` of them pass the
 * filter; peeks one more match to learn `more`. Without a filter `remainingAfter(lastKey)` (the number of
 * candidates whose key is greater than lastKey) supplies `remaining`; with a filter it is left unknown.
 */
export function collectPage(
  candidates: Iterable<StoredEntry>,
  revision: number,
  page: PageOptions,
  remainingAfter: (lastKey: string) => number,
): ListResult {
  const entries: StoredEntry[] = [];
  let more = false;
  for (const entry of candidates) {
    if (page.filter !== undefined && !page.filter(entry.value)) continue;
    if (page.limit > 0 && entries.length >= page.limit) {
      more = true;
      break;
    }
    entries.push(entry);
  }
  const result: ListResult = { entries, revision, more };
  if (more && page.filter === undefined) {
    const last = entries[entries.length - 1];
    if (last !== undefined) result.remaining = remainingAfter(last.key);
  }
  return result;
}

/**
 * One watch's delivery queue. While `buffering`, live events are held back; `deliverHistory` then queues
 * the history and `goLive` releases the held live events, dropping any revision already queued. Each event
 * reaches `onEvent` from a microtask, in revision order; `stop` ends delivery at once.
 */
export class WatchChannel {
  readonly prefix: string;
  private readonly onEvent: (event: StoreEvent) => void;
  private lastQueued: number;
  private buffering = true;
  private held: StoreEvent[] = [];
  private queue: StoreEvent[] = [];
  private scheduled = false;
  private stopped = false;
  private readonly onStop: (channel: WatchChannel) => void;

  constructor(prefix: string, fromRevision: number, onEvent: (event: StoreEvent) => void, onStop: (channel: WatchChannel) => void) {
    this.prefix = prefix;
    this.lastQueued = fromRevision;
    this.onEvent = onEvent;
    this.onStop = onStop;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A live event from the store (any key; the channel filters by prefix). */
  offer(event: StoreEvent): void {
    if (this.stopped || !event.key.startsWith(this.prefix)) return;
    if (this.buffering) this.held.push(event);
    else this.enqueue(event);
  }

  /** History events, in revision order, already limited to the prefix. */
  deliverHistory(events: Iterable<StoreEvent>): void {
    for (const event of events) this.enqueue(event);
  }

  goLive(): void {
    this.buffering = false;
    const held = this.held;
    this.held = [];
    for (const event of held) this.enqueue(event);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.held = [];
    this.onStop(this);
  }

  private enqueue(event: StoreEvent): void {
    if (this.stopped || event.revision <= this.lastQueued) return;
    this.lastQueued = event.revision;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (let i = 0; i < batch.length && !this.stopped; i++) {
      const event = batch[i] as StoreEvent;
      try {
        this.onEvent(event);
      } catch (err) {
        // A failing handler is a bug in the caller: surface it as an uncaught error (as an EventEmitter
        // listener's would be) without breaking the order of the remaining events.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** The set of open watches of a store; `publish` offers a committed change to each. */
export class WatchHub {
  private readonly channels = new Set<WatchChannel>();

  open(prefix: string, fromRevision: number, onEvent: (event: StoreEvent) => void): WatchChannel {
    const channel = new WatchChannel(prefix, fromRevision, onEvent, (c) => this.channels.delete(c));
    this.channels.add(channel);
    return channel;
  }

  publish(event: StoreEvent): void {
    for (const channel of this.channels) channel.offer(event);
  }

  get size(): number {
    return this.channels.size;
  }

  stopAll(): void {
    for (const channel of [...this.channels]) channel.stop();
  }
}

export function makeEvent(type: StoreEvent['type'], key: string, value: KubeObject, revision: number, prevValue: KubeObject | undefined): StoreEvent {
  const event: StoreEvent = { type, key, value, revision };
  if (prevValue !== undefined) event.prevValue = prevValue;
  return Object.freeze(event);
}

export function closedError(): StoreError {
  return new StoreError('Closed', 'store: the store is closed');
}

export function compactedError(revision: number, compacted: number): StoreError {
  return new StoreError('Compacted', `store: revision ${revision} has been compacted (compacted revision ${compacted})`);
}

export function futureRevisionError(revision: number, current: number): StoreError {
  return new StoreError('Unavailable', `store: revision ${revision} is newer than the current revision ${current}`);
}
