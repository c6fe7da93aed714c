// The typed Kubernetes REST client flatnet's own components (controllers, node agents, DNS, ingress) use
// to talk to the API server. Generic over the resource registry: every call names a `ResourceInfo` from
// src/api/resources.ts plus a namespace (and a name where one applies), so one client serves every kind.
//
// Transport: node:https (or node:http for a plain URL) over one keep-alive Agent carrying the cluster CA
// and the client certificate; a bearer token travels in the Authorization header. Every non-watch request
// has a deadline (`requestTimeoutMs`). Failures are typed: an `ApiError` rebuilt from the server's Status,
// or a `KubeTransportError` (see client-errors.ts).
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../api/errors.ts';
import { groupVersion, resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { Event, KubeList, KubeObject, ObjectReference, Scale, Status, WatchEvent } from '../api/types.ts';
import { KubeTransportError, apiErrorFromStatus, transportCodeOf } from './client-errors.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import type { ResolvedKubeconfig } from './kubeconfig.ts';

export interface KubeClientOptions {
  /** Base URL of the API server, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM CA bundle trusted for the server's certificate (default: the system store). */
  ca?: string;
  clientCertificate?: string;
  clientKey?: string;
  token?: string;
  username?: string;
  password?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** Namespace used by callers that ask for `client.namespace` (the kubeconfig context's). */
  namespace?: string;
  /** Deadline of each non-watch request, in milliseconds (default 30 000). */
  requestTimeoutMs?: number;
  /** Sent as User-Agent (default `flatnet-client`). */
  userAgent?: string;
  /** Upper bound on concurrent sockets to the server (default: unbounded; watches each hold one). */
  maxSockets?: number;
}

/** Per-call controls shared by all requests. */
export interface CallOptions {
  /** Overrides the client's request deadline for this call. */
  timeoutMs?: number;
  /** Cancels the call; it then fails with KubeTransportError code `Aborted`. */
  signal?: AbortSignal;
}

export interface GetOptions extends CallOptions {
  resourceVersion?: string;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Deliver changes after this version ('' or absent: the server's choice, usually "now" plus synthetic ADDs). */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  allowWatchBookmarks?: boolean;
  /** Server-side duration of the watch; the client also gives up this long plus its request timeout later. */
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** json: RFC 6902 op list; merge: RFC 7386; strategic: Kubernetes strategic merge; apply: server-side apply. */
  type: PatchType;
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
  subresource?: string;
}

export interface DeleteOptions extends CallOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The component reporting (Event.source.component / reportingComponent), e.g. `flatnet-scheduler`. */
  component: string;
  /** The reporting host / instance (Event.source.host / reportingInstance). */
  host?: string;
  action?: string;
  /** Where to store the Event; default: the involved object's namespace, or `default` for cluster-scoped objects. */
  namespace?: string;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The REST path of a resource collection, object or subresource. */
export function resourcePath(resource: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
  let path = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  if (resource.namespaced && namespace !== undefined && namespace !== '') path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${resource.plural}`;
  if (name !== undefined) {
    if (name === '') throw new TypeError(`${resource.plural}: an object name is required`);
    path += `/${encodeURIComponent(name)}`;
    if (subresource !== undefined) path += `/${subresource}`;
  }
  return path;
}

type QueryValue = string | number | boolean | undefined;

function queryString(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function writeQuery(opts: WriteOptions | undefined): Record<string, QueryValue> {
  return {
    dryRun: opts?.dryRun === true ? 'All' : undefined,
    fieldManager: opts?.fieldManager,
    fieldValidation: opts?.fieldValidation,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface RawResponse {
  status: number;
  text: string;
  contentType: string;
}

interface OpenRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  /** Deadline for the whole exchange (non-watch) or for the response headers (watch). */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** One watch: an async iterable of events (single consumer) that can be stopped from anywhere. */
export class WatchStream<T extends KubeObject = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  readonly #events: AsyncGenerator<WatchEvent<T>, void, undefined>;
  #taken = false;

  /** @internal Built by KubeClient.watch. */
  constructor(open: (signal: AbortSignal) => Promise<IncomingMessage>, outer?: AbortSignal) {
    this.#signal = outer === undefined ? this.#controller.signal : AbortSignal.any([outer, this.#controller.signal]);
    this.#events = readEvents<T>(open, this.#signal);
  }

  /** Ends the watch: the iterator finishes (without error) and the connection closes. Idempotent. */
  stop(): void {
    this.#controller.abort();
  }

  get stopped(): boolean {
    return this.#signal.aborted;
  }

  [Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.#taken) throw new Error('a WatchStream can be iterated only once');
    this.#taken = true;
    return this.#events;
  }
}

function parseWatchLine<T>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new KubeTransportError('Decode', `watch: undecodable event: ${line.slice(0, 200)}`, { cause });
  }
  if (!isRecord(parsed) || typeof parsed['type'] !== 'string' || !isRecord(parsed['object'])) {
    throw new KubeTransportError('Decode', `watch: not a watch event: ${line.slice(0, 200)}`);
  }
  const type = parsed['type'];
  if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED' && type !== 'BOOKMARK' && type !== 'ERROR') {
    throw new KubeTransportError('Decode', `watch: unknown event type ${type}`);
  }
  return parsed as unknown as WatchEvent<T>;
}

async function* readEvents<T>(open: (signal: AbortSignal) => Promise<IncomingMessage>, signal: AbortSignal): AsyncGenerator<WatchEvent<T>, void, undefined> {
  let res: IncomingMessage;
  try {
    res = await open(signal);
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
  res.setEncoding('utf8');
  let buffer = '';
  try {
    for await (const chunk of res) {
      buffer += String(chunk);
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== '') yield parseWatchLine<T>(line);
        if (signal.aborted) return;
      }
    }
    if (buffer.trim() !== '' && !signal.aborted) yield parseWatchLine<T>(buffer.trim());
  } catch (e) {
    if (signal.aborted) return;
    if (e instanceof KubeTransportError) throw e;
    throw new KubeTransportError(transportCodeOf(e), `watch: stream failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    res.destroy();
  }
}

let eventCounter = 0;

export class KubeClient {
  readonly server: string;
  /** The namespace of the kubeconfig context (or `default`). */
  readonly namespace: string;
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: KubeClientOptions) {
    this.#url = new URL(options.server);
    this.server = options.server.replace(/\/+$/, '');
    this.namespace = options.namespace ?? 'default';
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? Infinity };
    if (this.#url.protocol === 'https:') {
      if (options.ca !== undefined) agentOptions.ca = options.ca;
      if (options.clientCertificate !== undefined) agentOptions.cert = options.clientCertificate;
      if (options.clientKey !== undefined) agentOptions.key = options.clientKey;
      if (options.insecureSkipTlsVerify === true) agentOptions.rejectUnauthorized = false;
      if (options.tlsServerName !== undefined) agentOptions.servername = options.tlsServerName;
      this.#agent = new https.Agent(agentOptions);
      this.#request = https.request;
    } else if (this.#url.protocol === 'http:') {
      this.#agent = new http.Agent(agentOptions);
      this.#request = http.request;
    } else {
      throw new TypeError(`unsupported server URL scheme ${this.#url.protocol}`);
    }
    this.#headers = { 'User-Agent': options.userAgent ?? 'flatnet-client', Accept: 'application/json' };
    if (options.token !== undefined) this.#headers['Authorization'] = `Bearer ${options.token}`;
    else if (options.username !== undefined) {
      this.#headers['Authorization'] = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  /** A client for a kubeconfig file's current (or named) context. */
  static fromKubeconfig(path: string, context?: string, overrides?: Partial<KubeClientOptions>): KubeClient {
    return KubeClient.fromConfig(loadKubeconfig(path, context), overrides);
  }

  /** A client for an already resolved kubeconfig context. */
  static fromConfig(config: ResolvedKubeconfig, overrides?: Partial<KubeClientOptions>): KubeClient {
    const options: KubeClientOptions = { server: config.server, namespace: config.namespace, insecureSkipTlsVerify: config.insecureSkipTlsVerify };
    if (config.ca !== undefined) options.ca = config.ca;
    if (config.clientCertificate !== undefined) options.clientCertificate = config.clientCertificate;
    if (config.clientKey !== undefined) options.clientKey = config.clientKey;
    if (config.token !== undefined) options.token = config.token;
    if (config.username !== undefined) options.username = config.username;
    if (config.password !== undefined) options.password = config.password;
    if (config.tlsServerName !== undefined) options.tlsServerName = config.tlsServerName;
    return new KubeClient({ ...options, ...overrides });
  }

  /** Closes idle keep-alive connections and refuses to reuse sockets. Open watches are not affected. */
  close(): void {
    this.#agent.destroy();
  }

  // ------------------------------------------------------------------------------------------ transport

  /** Opens a request and resolves with the response once its headers arrive. */
  #open(req: OpenRequest, onRequest?: (kill: (err: Error) => void) => void): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { ...this.#headers };
      if (req.body !== undefined) {
        headers['Content-Type'] = req.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(req.body));
      }
      const url = new URL(req.path, this.#url);
      const clientReq = this.#request(url, { method: req.method, agent: this.#agent, headers });
      let settled = false;
      let killedWith: Error | undefined;
      const kill = (err: Error): void => {
        if (killedWith !== undefined) return;
        killedWith = err;
        clientReq.destroy(err);
      };
      const timer = setTimeout(() => kill(new KubeTransportError('Timeout', `${req.method} ${req.path}: no response within ${req.timeoutMs}ms`)), req.timeoutMs);
      const onAbort = (): void => kill(new KubeTransportError('Aborted', `${req.method} ${req.path}: cancelled`));
      if (req.signal?.aborted) onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      };
      clientReq.on('error', (err: Error) => {
        if (settled) return;
        done();
        if (killedWith !== undefined) return reject(killedWith);
        // A keep-alive socket the server closed while idle: the request never reached it; send it again once.
        if (clientReq.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && req.method !== 'POST') {
          resolve(this.#open(req, onRequest));
          return;
        }
        reject(new KubeTransportError(transportCodeOf(err), `${req.method} ${req.path}: ${err.message}`, { cause: err }));
      });
      clientReq.on('response', (res: IncomingMessage) => {
        if (settled) {
          res.destroy();
          return;
        }
        done();
        resolve(res);
      });
      onRequest?.(kill);
      clientReq.end(req.body);
    });
  }

  /** Sends a request and reads the whole response within the deadline. */
  async #roundTrip(req: OpenRequest): Promise<RawResponse> {
    const started = Date.now();
    let kill: ((err: Error) => void) | undefined;
    const res = await this.#open(req, (k) => (kill = k));
    const remaining = Math.max(1, req.timeoutMs - (Date.now() - started));
    return new Promise<RawResponse>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let failure: Error | undefined;
      const fail = (err: Error): void => {
        if (failure !== undefined) return;
        failure = err;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        res.destroy();
        kill?.(err);
        reject(err);
      };
      const timer = setTimeout(() => fail(new KubeTransportError('Timeout', `${req.method} ${req.path}: response not complete within ${req.timeoutMs}ms`)), remaining);
      const onAbort = (): void => fail(new KubeTransportError('Aborted', `${req.method} ${req.path}: cancelled`));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: Error) => fail(err instanceof KubeTransportError ? err : new KubeTransportError(transportCodeOf(err), `${req.method} ${req.path}: ${err.message}`, { cause: err })));
      res.on('aborted', () => fail(new KubeTransportError('ConnectionReset', `${req.method} ${req.path}: connection closed mid-response`)));
      res.on('end', () => {
        if (failure !== undefined) return;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') });
      });
    });
  }

  /**
   * The low-level call under every method: sends `body` (JSON-encoded unless a string), returns the decoded
   * JSON of a 2xx answer, throws ApiError for any other status.
   */
  async request<R = unknown>(method: string, path: string, options: CallOptions & { body?: unknown; contentType?: string } = {}): Promise<R> {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const open: OpenRequest = { method, path, timeoutMs: options.timeoutMs ?? this.#timeoutMs, signal: options.signal };
    if (body !== undefined) open.body = body;
    if (options.contentType !== undefined) open.contentType = options.contentType;
    const raw = await this.#roundTrip(open);
    let decoded: unknown = raw.text;
    if (raw.text !== '' && (raw.contentType.includes('json') || /^\s*[[{]/.test(raw.text))) {
      try {
        decoded = JSON.parse(raw.text);
      } catch (cause) {
        if (raw.status >= 200 && raw.status < 300) throw new KubeTransportError('Decode', `${method} ${path}: the response is not valid JSON`, { cause });
      }
    }
    if (raw.status < 200 || raw.status > 299) throw apiErrorFromStatus(raw.status, decoded);
    return decoded as R;
  }

  // ------------------------------------------------------------------------------------------- verbs

  #objectNamespace(resource: ResourceInfo, namespace: string | undefined, body?: KubeObject): string | undefined {
    if (!resource.namespaced) return undefined;
    const ns = namespace ?? body?.metadata.namespace;
    if (ns === undefined || ns === '') throw new TypeError(`${resource.plural} are namespaced: a namespace is required`);
    return ns;
  }

  async get<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, name: string, options: GetOptions = {}): Promise<T> {
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace), name) + queryString({ resourceVersion: options.resourceVersion });
    return this.request<T>('GET', path, options);
  }

  /** One page of a list. `namespace` undefined lists across all namespaces. */
  async list<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList<T>> {
    const path = resourcePath(resource, namespace) + queryString({
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
      continue: options.continue,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
    });
    const list = await this.request<KubeList<T>>('GET', path, options);
    if (!isRecord(list) || !Array.isArray(list.items)) throw new KubeTransportError('Decode', `GET ${path}: the response is not a list`);
    list.metadata ??= {};
    return list;
  }

  /**
   * Every matching object, fetched `pageSize` at a time through continue tokens. If a continue token
   * expires mid-way (410), falls back to one unpaginated list. The result's resourceVersion is the
   * snapshot the pages were served from.
   */
  async listAll<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, options: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {}): Promise<KubeList<T>> {
    const { pageSize = 500, ...rest } = options;
    const first = await this.list<T>(resource, namespace, { ...rest, limit: pageSize });
    const items = [...first.items];
    let last = first;
    for (let page = 0; last.metadata.continue !== undefined && last.metadata.continue !== ''; page++) {
      if (page > 100_000) throw new KubeTransportError('Decode', 'list: the server keeps returning continue tokens');
      try {
        last = await this.list<T>(resource, namespace, { ...rest, resourceVersion: undefined, resourceVersionMatch: undefined, limit: pageSize, continue: last.metadata.continue });
      } catch (e) {
        if (e instanceof ApiError && e.code === 410) return this.list<T>(resource, namespace, { ...rest });
        throw e;
      }
      items.push(...last.items);
    }
    const metadata = { ...first.metadata };
    delete metadata.continue;
    delete metadata.remainingItemCount;
    return { ...first, metadata, items };
  }

  async create<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace, body)) + queryString(writeQuery(options));
    return this.request<T>('POST', path, { ...options, body: withTypeMeta(resource, body) });
  }

  /** Replaces the object named by body.metadata.name; a stale metadata.resourceVersion fails with 409 Conflict. */
  async update<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    return this.updateSubresource<T>(resource, namespace, undefined, body, options);
  }

  async updateStatus<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    return this.updateSubresource<T>(resource, namespace, 'status', body, options);
  }

  async updateSubresource<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, subresource: string | undefined, body: T, options: WriteOptions = {}): Promise<T> {
    const name = body.metadata.name;
    if (name === undefined || name === '') throw new TypeError(`${resource.plural}: update needs metadata.name`);
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace, body), name, subresource) + queryString(writeQuery(options));
    return this.request<T>('PUT', path, { ...options, body: subresource === undefined || subresource === 'status' ? withTypeMeta(resource, body) : body });
  }

  async patch<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, name: string, patch: unknown, options: PatchOptions): Promise<T> {
    if (options.type === 'apply' && (options.fieldManager === undefined || options.fieldManager === '')) {
      throw new TypeError('server-side apply needs a fieldManager');
    }
    if (options.type === 'json' && !Array.isArray(patch)) throw new TypeError('a JSON patch is a list of operations');
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace), name, options.subresource)
      + queryString({ ...writeQuery(options), force: options.type === 'apply' && options.force === true ? true : undefined });
    return this.request<T>('PATCH', path, { ...options, body: patch, contentType: PATCH_CONTENT_TYPES[options.type] });
  }

  /** Deletes; resolves with the object when deletion is pending (finalizers, grace) or the server's Status. */
  async delete<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<T | Status> {
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace), name);
    return this.request<T | Status>('DELETE', path, { ...options, body: deleteBody(options) });
  }

  /** Deletes every object matching the selectors in one namespace (or cluster-wide for cluster-scoped kinds). */
  async deleteCollection(resource: ResourceInfo, namespace: string | undefined, options: DeleteOptions & { labelSelector?: string; fieldSelector?: string } = {}): Promise<Status | KubeList> {
    const path = resourcePath(resource, namespace) + queryString({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector });
    return this.request<Status | KubeList>('DELETE', path, { ...options, body: deleteBody(options) });
  }

  /**
   * Starts a watch. Iterate the result with `for await`; ERROR events (e.g. a 410 Expired Status when
   * `resourceVersion` is too old) are delivered as events. An HTTP error before streaming starts is thrown
   * from the first iteration as ApiError.
   */
  watch<T extends KubeObject = KubeObject>(resource: ResourceInfo, namespace: string | undefined, options: WatchOptions = {}): WatchStream<T> {
    const path = resourcePath(resource, namespace) + queryString({
      watch: 1,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
      allowWatchBookmarks: options.allowWatchBookmarks === true ? true : undefined,
      timeoutSeconds: options.timeoutSeconds,
      sendInitialEvents: options.sendInitialEvents,
    });
    const open = async (signal: AbortSignal): Promise<IncomingMessage> => {
      let kill: ((err: Error) => void) | undefined;
      const res = await this.#open({ method: 'GET', path, timeoutMs: this.#timeoutMs, signal }, (k) => (kill = k));
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        let decoded: unknown = text;
        try { decoded = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        throw apiErrorFromStatus(status, decoded);
      }
      // Bound the stream: the server should end it after timeoutSeconds; give it the request timeout on top.
      const onAbort = (): void => {
        res.destroy();
        kill?.(new KubeTransportError('Aborted', `watch ${path}: stopped`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
        timer = setTimeout(() => res.destroy(new KubeTransportError('Timeout', `watch ${path}: the server did not end the watch after ${options.timeoutSeconds}s`)),
          options.timeoutSeconds * 1000 + this.#timeoutMs);
      }
      res.once('close', () => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      });
      return res;
    };
    return new WatchStream<T>(open, options.signal);
  }

  // ------------------------------------------------------------------------------------- subresources

  async getSubresource<T = unknown>(resource: ResourceInfo, namespace: string | undefined, name: string, subresource: string, options: CallOptions = {}): Promise<T> {
    return this.request<T>('GET', resourcePath(resource, this.#objectNamespace(resource, namespace), name, subresource), options);
  }

  /** POSTs `body` to a subresource (binding, eviction, ...). */
  async createSubresource<R = unknown>(resource: ResourceInfo, namespace: string | undefined, name: string, subresource: string, body: unknown, options: WriteOptions = {}): Promise<R> {
    const path = resourcePath(resource, this.#objectNamespace(resource, namespace), name, subresource) + queryString(writeQuery(options));
    return this.request<R>('POST', path, { ...options, body });
  }

  async getScale(resource: ResourceInfo, namespace: string | undefined, name: string, options: CallOptions = {}): Promise<Scale> {
    return this.getSubresource<Scale>(resource, namespace, name, 'scale', options);
  }

  /** Sets replicas through the scale subresource; pass a Scale (with resourceVersion) to make it conditional. */
  async updateScale(resource: ResourceInfo, namespace: string | undefined, name: string, replicas: number | Scale, options: WriteOptions = {}): Promise<Scale> {
    const ns = this.#objectNamespace(resource, namespace);
    const scale: Scale = typeof replicas === 'number'
      ? { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, ...(ns !== undefined ? { namespace: ns } : {}) }, spec: { replicas } }
      : { apiVersion: 'autoscaling/v1', kind: 'Scale', ...replicas, metadata: { ...replicas.metadata, name } };
    const path = resourcePath(resource, ns, name, 'scale') + queryString(writeQuery(options));
    return this.request<Scale>('PUT', path, { ...options, body: scale });
  }

  /** Binds a pod to a node: POST pods/<name>/binding with a Binding body, as the scheduler does. */
  async bind(namespace: string, podName: string, nodeName: string, options: WriteOptions & { podUid?: string } = {}): Promise<Status> {
    const pods = resourceByPlural('', 'v1', 'pods');
    if (pods === undefined) throw new Error('the resource registry has no pods');
    const metadata: Record<string, string> = { name: podName, namespace };
    if (options.podUid !== undefined) metadata['uid'] = options.podUid;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    return this.createSubresource<Status>(pods, namespace, podName, 'binding', binding, options);
  }

  /** Records a core/v1 Event about `involved`, the way kubectl describe shows them. */
  async createEvent(involved: KubeObject | ObjectReference, event: EventSpec, options: CallOptions = {}): Promise<Event> {
    const events = resourceByPlural('', 'v1', 'events');
    if (events === undefined) throw new Error('the resource registry has no events');
    const ref = objectReference(involved);
    const namespace = event.namespace ?? (ref.namespace !== undefined && ref.namespace !== '' ? ref.namespace : 'default');
    const now = new Date();
    const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const unique = (BigInt(now.getTime()) * 1_000_000n + BigInt(eventCounter++ % 1_000_000)).toString(16);
    const body: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${ref.name ?? 'object'}.${unique}`, namespace },
      involvedObject: ref,
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: event.component, ...(event.host !== undefined ? { host: event.host } : {}) },
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
      reportingComponent: event.component,
      reportingInstance: event.host ?? '',
    };
    if (event.action !== undefined) body.action = event.action;
    return this.create<Event>(events, namespace, body, options);
  }

  /** GET /version. */
  async serverVersion(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>('GET', '/version', options);
  }
}

function withTypeMeta<T extends KubeObject>(resource: ResourceInfo, body: T): T {
  if (body.apiVersion !== undefined && body.kind !== undefined) return body;
  return { ...body, apiVersion: body.apiVersion ?? groupVersion(resource), kind: body.kind ?? resource.kind };
}

function deleteBody(options: DeleteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (options.propagationPolicy !== undefined) body['propagationPolicy'] = options.propagationPolicy;
  if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
  if (options.preconditions !== undefined) body['preconditions'] = options.preconditions;
  if (options.dryRun === true) body['dryRun'] = ['All'];
  return body;
}

/** An ObjectReference to an object (or the reference itself). */
export function objectReference(o: KubeObject | ObjectReference): ObjectReference {
  if (!('metadata' in o) || !isRecord(o.metadata)) return o as ObjectReference;
  const obj = o as KubeObject;
  const ref: ObjectReference = {};
  if (obj.kind !== undefined) ref.kind = obj.kind;
  if (obj.apiVersion !== undefined) ref.apiVersion = obj.apiVersion;
  if (obj.metadata.name !== undefined) ref.name = obj.metadata.name;
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid !== undefined) ref.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion !== undefined) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}
