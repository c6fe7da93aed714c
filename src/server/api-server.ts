// flatnet's Kubernetes API server: HTTPS with a per-cluster CA, bearer-token and client-certificate
// authentication, discovery, OpenAPI, and the REST API of every served kind, over the Registry.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { aggregatedDiscovery, aggregatedDiscoveryContentType, apiGroup, apiGroupList, apiResourceList, apiVersions } from '../api/discovery/index.ts';
import { managerOrUserAgent } from '../api/apply/index.ts';
import { apiErrors, ApiError } from '../api/errors.ts';
import { OPENAPI_V2_PROTOBUF_TYPE, openApiV2Document, openApiV2Protobuf, openApiV3Document, openApiV3Index } from '../api/openapi/openapi.ts';
import { parseRequestInfo, type ResourceRequest } from '../api/request-info.ts';
import { groupVersion, type ResourceInfo } from '../api/resources.ts';
import { toTable } from '../api/table/index.ts';
import type { KubeObject, Namespace, Service, WatchEvent } from '../api/types.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { negotiate, readBody, sendJson, sendStatus, toApiError } from './http-util.ts';
import { readBodyAsText } from './request-body.ts';
import { ensurePki, type Pki } from './pki.ts';
import { agentTarget, proxyHttp, proxyUpgrade } from './node-proxy.ts';
import { Registry, parseYamlOrJson, type DeleteOptions, type ListQuery } from './registry.ts';
import { bodyKind, checkBodyFields, requestFieldValidation, warningHeaderValues } from './strict-decoding.ts';

export const KUBERNETES_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0+flatnet' };

export interface ApiServerOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port; default 6443 when free. */
  port?: number;
  storage?: 'sqlite' | 'memory';
  clusterName?: string;
  serviceCIDR?: string;
  nodePortRange?: string;
  /** Extra addresses to put in the serving certificate (e.g. the lab address). */
  extraIPs?: readonly string[];
  /**
   * The address pods reach the API at (the lab's host-side address): the server also listens there, on
   * `advertisePort` (default 6443), and it goes into the serving certificate.
   */
  advertiseAddress?: string;
  advertisePort?: number;
  /** How often watches without traffic receive a BOOKMARK (ms). */
  bookmarkIntervalMs?: number;
  /** Compaction: keep this many revisions of history (0 disables automatic compaction). */
  compactKeepRevisions?: number;
  compactIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RunningApiServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  caCertPem: string;
  adminToken: string;
  registry: Registry;
  store: Store;
  /** How many watch streams are open (for tests and metrics). */
  activeWatches(): number;
  stop(): Promise<void>;
}

interface Principal {
  user: string;
}

function now(): Date {
  return new Date();
}

function fieldManagerFrom(url: URL, req: IncomingMessage): string {
  return managerOrUserAgent(url.searchParams.get('fieldManager') ?? undefined, req.headers['user-agent'] ?? '');
}

function queryInt(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw apiErrors.badRequest(`invalid ${name}: ${v}`);
  return n;
}

function listQuery(url: URL): ListQuery {
  const q: ListQuery = {};
  const ls = url.searchParams.get('labelSelector');
  const fs = url.searchParams.get('fieldSelector');
  const rv = url.searchParams.get('resourceVersion');
  const rvm = url.searchParams.get('resourceVersionMatch');
  const cont = url.searchParams.get('continue');
  const limit = queryInt(url, 'limit');
  if (ls) q.labelSelector = ls;
  if (fs) q.fieldSelector = fs;
  if (rv !== null) q.resourceVersion = rv;
  if (rvm) q.resourceVersionMatch = rvm;
  if (cont) q.continue = cont;
  if (limit !== undefined) q.limit = limit;
  return q;
}

/** Body media types parseBody reads. Protobuf bodies arrive here already decoded to JSON (request-body.ts); others get 415. */
export function checkBodyMediaType(contentType: string | undefined): void {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === '' || type === 'application/json' || type === 'application/yaml' || type === '*/*') return;
  throw apiErrors.unsupportedMediaType(type);
}

function parseBody(text: string, contentType: string | undefined): KubeObject {
  checkBodyMediaType(contentType);
  if (text.trim() === '') throw apiErrors.badRequest('the request body is empty');
  let parsed: unknown;
  try {
    parsed = contentType?.includes('yaml') ? parseYamlOrJson(text) : JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw apiErrors.badRequest(contentType?.includes('yaml') ? `error converting YAML to JSON: ${detail}` : `couldn't get version/kind; json parse error: ${detail}`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw apiErrors.badRequest("Object 'Kind' is missing in the request body: the body must be a JSON object");
  }
  return parsed as KubeObject;
}

function deleteOptionsFrom(url: URL, body: string): DeleteOptions {
  let opts: DeleteOptions = {};
  if (body.trim() !== '') {
    try {
      opts = JSON.parse(body) as DeleteOptions;
    } catch (cause) {
      throw apiErrors.badRequest('the DeleteOptions body is not valid JSON', cause);
    }
  }
  const grace = queryInt(url, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const pp = url.searchParams.get('propagationPolicy');
  if (pp === 'Orphan' || pp === 'Background' || pp === 'Foreground') opts.propagationPolicy = pp;
  else if (pp) throw apiErrors.badRequest(`invalid propagationPolicy: ${pp}`);
  if (opts.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw apiErrors.invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: opts.propagationPolicy, supported: ['Foreground', 'Background', 'Orphan'] }]);
  }
  return opts;
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const log = options.log ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const clusterName = options.clusterName ?? 'flatnet';
  const serviceCIDR = options.serviceCIDR ?? '10.96.0.0/12';
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const { kubernetesServiceIP } = await import('../net/allocators.ts');
  const kubernetesIP = kubernetesServiceIP(serviceCIDR);
  const pki: Pki = ensurePki({
    dir: join(options.dataDir, 'pki'),
    clusterName,
    ipSans: [...new Set(['127.0.0.1', host, kubernetesIP, ...(options.extraIPs ?? []), ...(options.advertiseAddress ? [options.advertiseAddress] : [])])].filter((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h)),
    dnsSans: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
  });
  const tokenPath = join(options.dataDir, 'admin.token');
  if (!existsSync(tokenPath)) writeFileSync(tokenPath, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  const adminToken = readFileSync(tokenPath, 'utf8').trim();
  const tokenBuf = Buffer.from(adminToken);

  const store: Store = options.storage === 'memory' ? new MemoryStore() : SqliteStore.open(join(options.dataDir, 'state.db'));
  const registry = await Registry.open(store, { serviceCIDR, nodePortRange: options.nodePortRange ?? '30000-32767' });
  await bootstrap(registry, kubernetesIP);

  const watches = new Set<() => void>();
  const bookmarkMs = options.bookmarkIntervalMs ?? 5000;

  function authenticate(req: IncomingMessage): Principal | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      const given = Buffer.from(auth.slice(7).trim());
      if (given.length === tokenBuf.length && timingSafeEqual(given, tokenBuf)) return { user: 'flatnet-admin' };
      return undefined;
    }
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const cert = socket.getPeerCertificate();
      const cn = cert.subject?.CN;
      return { user: typeof cn === 'string' ? cn : 'client-cert' };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://flatnet');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';

    if (path === '/healthz' || path === '/livez' || path === '/readyz' || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/version') {
      sendJson(res, 200, { ...KUBERNETES_VERSION, gitCommit: 'flatnet', gitTreeState: 'clean', buildDate: '2026-11-22T00:00:00Z', goVersion: 'n/a', compiler: 'node', platform: 'linux/amd64' });
      return;
    }
    const principal = authenticate(req);
    if (!principal) {
      sendStatus(res, apiErrors.unauthorized().toStatus());
      return;
    }

    // Discovery and OpenAPI.
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/api' || path === '/apis') {
        const n = negotiate(req.headers.accept);
        if (n?.as === 'APIGroupDiscoveryList') {
          res.setHeader('Vary', 'Accept');
          sendJson(res, 200, aggregatedDiscovery(path === '/api' ? 'legacy' : 'apis', n.version), aggregatedDiscoveryContentType(n.version));
        } else {
          sendJson(res, 200, path === '/api' ? apiVersions(`${host}:${actualPort}`) : apiGroupList());
        }
        return;
      }
      const m = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)$/.exec(path);
      if (m) {
        const doc = m[1] !== undefined ? apiResourceList('', 'v1') : m[3] !== undefined ? apiResourceList(m[2] ?? '', m[3]) : apiGroup(m[2] ?? '');
        if (!doc) throw apiErrors.notFound({ group: '', resource: '', name: path });
        sendJson(res, 200, doc);
        return;
      }
      if (path === '/openapi/v2') {
        if ((req.headers.accept ?? '').includes('application/com.github.proto-openapi.spec.v2')) {
          const bytes = openApiV2Protobuf();
          res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF_TYPE, 'Content-Length': bytes.byteLength });
          res.end(bytes);
        } else sendJson(res, 200, openApiV2Document());
        return;
      }
      if (path === '/openapi/v3') {
        sendJson(res, 200, openApiV3Index());
        return;
      }
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
        if (!doc) throw apiErrors.notFound({ group: '', resource: '', name: path });
        res.setHeader('Cache-Control', url.searchParams.has('hash') ? 'public, immutable' : 'no-cache, private');
        sendJson(res, 200, doc);
        return;
      }
    }

    const info = parseRequestInfo(method, path, url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1');
    if (info.type === 'unknown-resource') {
      throw new ApiError('NotFound', 'the server could not find the requested resource', { group: info.group, kind: info.resource }, { code: 404 });
    }
    if (info.type === 'nonresource') {
      throw new ApiError('NotFound', 'the server could not find the requested resource', undefined, { code: 404 });
    }
    await handleResource(req, res, url, info);
  }

  async function handleResource(req: IncomingMessage, res: ServerResponse, url: URL, info: ResourceRequest): Promise<void> {
    const r = info.resource;
    const ns = r.namespaced ? info.namespace : undefined;
    if (r.namespaced && info.namespace === undefined && info.name !== undefined) {
      throw apiErrors.notFound(refOf(r, info.name));
    }
    const negotiated = negotiate(req.headers.accept);
    if (negotiated === undefined || negotiated.as === 'APIGroupDiscoveryList') {
      throw apiErrors.notAcceptable('only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io');
    }
    const asTable = negotiated.as === 'Table';
    const wantsYaml = (req.headers.accept ?? '').startsWith('application/yaml');
    // fieldValidation: Strict fails a write with unknown/duplicate fields, Warn (the default) answers with Warning headers.
    const fieldValidation = requestFieldValidation(info.verb, url);
    const warnings: string[] = [];
    const ctx = { manager: fieldManagerFrom(url, req), dryRun: url.searchParams.getAll('dryRun').includes('All'), now: now(), warnings, ...(fieldValidation ? { fieldValidation } : {}) };
    const sub = info.subresource;
    const respond = (code: number, obj: unknown) => {
      const warningHeaders = warningHeaderValues(warnings);
      if (warningHeaders.length > 0) res.setHeader('Warning', warningHeaders);
      if (wantsYaml && !asTable) {
        const text = toYaml(obj);
        res.writeHead(code, { 'Content-Type': 'application/yaml', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      } else sendJson(res, code, obj);
    };
    const readCheckedBody = async (): Promise<KubeObject> => {
      const { text, contentType } = await readBodyAsText(req);
      const body = parseBody(text, contentType);
      const gvk = bodyKind(r, sub);
      // Strict: 400 on unknown/duplicate fields; Warn: warnings; unknown fields are dropped, as upstream's decoder does.
      return gvk && fieldValidation ? checkBodyFields({ gvk, text, yaml: (contentType ?? '').includes('yaml'), body, directive: fieldValidation, warnings }) : body;
    };
    const tableOf = (objects: KubeObject[], listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number }) =>
      toTable(r, objects, { now: now(), includeObject: includeObjectParam(url), ...(listMeta ? { listMeta } : {}) });

    if (sub !== undefined && !r.subresources.includes(sub as never) && !(sub === 'finalize' && r.kind === 'Namespace')) {
      throw apiErrors.notFound(refOf(r, info.name));
    }
    if (r.kind === 'Pod' && sub === 'log' && info.verb === 'get') {
      const target = await agentTarget(registry, ns ?? '', info.name ?? '', 'log', url.searchParams);
      return proxyHttp(target, adminToken, req, res);
    }
    if (sub === 'exec' || sub === 'attach' || sub === 'portforward' || sub === 'proxy' || sub === 'log') {
      throw apiErrors.badRequest(sub === 'portforward' || sub === 'proxy'
        ? `${r.plural}/${sub} is not supported by flatnet yet`
        : `${r.plural}/${sub} needs a WebSocket upgrade (kubectl >= 1.30 uses one; older kubectl speaks SPDY, which flatnet does not)`);
    }

    switch (info.verb) {
      case 'get': {
        if (sub === 'scale') return respond(200, await registry.getScale(r, ns, info.name ?? ''));
        const obj = await registry.get(r, ns, info.name ?? '');
        return respond(200, asTable && sub === undefined ? tableOf([obj]) : obj);
      }
      case 'list': {
        const list = await registry.list(r, ns, listQuery(url));
        return respond(200, asTable ? tableOf(list.items, list.metadata) : list);
      }
      case 'watch':
        return serveWatch(req, res, url, r, ns, info.name, asTable);
      case 'create': {
        const body = await readCheckedBody();
        if (sub === 'binding' && r.kind === 'Pod') return respond(201, await registry.bindPod(ns ?? '', info.name ?? '', body, ctx));
        if (sub === 'eviction' && r.kind === 'Pod') {
          await registry.delete(r, ns, info.name ?? '', {}, ctx);
          return respond(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (info.name !== undefined) throw apiErrors.methodNotAllowed(`POST is not supported on ${r.plural}/${info.name}`);
        return respond(201, await registry.create(r, ns, body, ctx));
      }
      case 'update': {
        const body = await readCheckedBody();
        return respond(200, await registry.update(r, ns, info.name ?? '', body, sub, ctx));
      }
      case 'patch': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        const text = await readBody(req);
        const isApply = contentType.startsWith('application/apply-patch');
        if (isApply && !url.searchParams.get('fieldManager')) {
          throw apiErrors.badRequest('PATCH, application/apply-patch+yaml requests must supply a fieldManager query parameter');
        }
        const force = url.searchParams.get('force') === 'true';
        return respond(200, await registry.patch(r, ns, info.name ?? '', contentType, text, sub, { ...ctx, force }));
      }
      case 'delete': {
        const opts = deleteOptionsFrom(url, (await readBodyAsText(req)).text);
        const dry = ctx.dryRun || (opts.dryRun ?? []).includes('All');
        return respond(200, await registry.delete(r, ns, info.name ?? '', opts, { ...ctx, dryRun: dry }));
      }
      case 'deletecollection': {
        const opts = deleteOptionsFrom(url, (await readBodyAsText(req)).text);
        return respond(200, await registry.deleteCollection(r, ns, listQuery(url), opts, ctx));
      }
    }
  }

  async function serveWatch(req: IncomingMessage, res: ServerResponse, url: URL, r: ResourceInfo, ns: string | undefined, name: string | undefined, asTable: boolean): Promise<void> {
    const q = listQuery(url);
    let fieldSelector = q.fieldSelector;
    if (name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',');
    const timeoutSeconds = queryInt(url, 'timeoutSeconds') ?? 1800;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let first = true;
    let closed = false;
    const write = (ev: WatchEvent) => {
      if (closed) return;
      let out: WatchEvent = ev;
      if (asTable && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')) {
        const table = toTable(r, [ev.object as KubeObject], { now: now(), includeObject: includeObjectParam(url) });
        if (!first) table.columnDefinitions = [];
        first = false;
        out = { type: ev.type, object: table as unknown as KubeObject };
      }
      res.write(out === ev ? encodeWatchEvent(ev) : JSON.stringify(out) + '\n');
    };
    const handle = await registry.watch(r, ns, {
      ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
      ...(q.resourceVersion !== undefined ? { resourceVersion: q.resourceVersion } : {}),
      allowWatchBookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
      sendInitialEvents: url.searchParams.get('sendInitialEvents') === 'true',
    }, write);
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true'
      ? setInterval(() => {
          void store.revision().then((rev) => {
            const at = Math.max(rev, handle.lastRevision());
            write({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: groupVersion(r), metadata: { resourceVersion: String(at) } } });
          });
        }, bookmarkMs)
      : undefined;
    const finish = () => {
      if (closed) return;
      closed = true;
      handle.stop();
      if (bookmarks) clearInterval(bookmarks);
      clearTimeout(timer);
      watches.delete(finish);
      res.end();
    };
    const timer = setTimeout(finish, Math.max(1, timeoutSeconds) * 1000);
    watches.add(finish);
    req.on('close', finish);
    res.on('error', finish);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      const err = toApiError(e);
      if (err.code >= 500) log(`error: ${req.method} ${req.url}: ${err.message}${err.cause instanceof Error ? ` (${err.cause.stack ?? err.cause.message})` : ''}`);
      if (res.headersSent) {
        res.end();
        return;
      }
      sendStatus(res, err.toStatus());
    });
  };
  const newServer = (): Server => {
    const srv = createServer({
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: pki.caCertPem,
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 60_000,
    }, onRequest);
    srv.headersTimeout = 30_000;
    srv.requestTimeout = 0;
    srv.on('upgrade', onUpgrade);
    return srv;
  };
  const listen = (srv: Server, port: number, address: string) => new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, address, () => {
      srv.off('error', reject);
      resolve();
    });
  });
  /** WebSocket upgrades: pods/exec and pods/attach, spliced to the node agent. */
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (err: ApiError) => {
      const body = JSON.stringify(err.toStatus());
      socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    void (async () => {
      if (!authenticate(req)) return refuse(apiErrors.unauthorized());
      const url = new URL(req.url ?? '/', 'https://flatnet');
      const info = parseRequestInfo('GET', url.pathname, false);
      if (info.type !== 'resource' || info.resource.kind !== 'Pod' || (info.subresource !== 'exec' && info.subresource !== 'attach')) {
        return refuse(apiErrors.badRequest('only pods/exec and pods/attach can be upgraded'));
      }
      const target = await agentTarget(registry, info.namespace ?? '', info.name ?? '', info.subresource, url.searchParams);
      proxyUpgrade(target, adminToken, req, socket, head);
    })().catch((e: unknown) => refuse(toApiError(e)));
  };
  const server = newServer();
  const servers: Server[] = [server];
  await listen(server, options.port ?? 6443, host);
  if (options.advertiseAddress && options.advertiseAddress !== host) {
    const lab = newServer();
    await listen(lab, options.advertisePort ?? 6443, options.advertiseAddress);
    servers.push(lab);
  }
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : (options.port ?? 6443);
  const url = `https://${host}:${actualPort}`;

  const kubeconfigPath = join(options.dataDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, adminKubeconfig({ clusterName, server: url, caPem: pki.caCertPem, token: adminToken, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem }), { mode: 0o600 });

  // Periodic work: compaction and the allocation repair loop.
  const keep = options.compactKeepRevisions ?? 10_000;
  const maintenance = setInterval(() => {
    void (async () => {
      try {
        if (keep > 0) {
          const rev = await store.revision();
          const compacted = await store.compactedRevision();
          if (rev - keep > compacted) await store.compact(rev - keep);
        }
        await registry.repairAllocations();
      } catch (e) {
        log(`maintenance: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
  }, options.compactIntervalMs ?? 60_000);
  maintenance.unref();

  log(`flatnet API server listening on ${url}`);
  return {
    url,
    port: actualPort,
    kubeconfigPath,
    caCertPem: pki.caCertPem,
    adminToken,
    registry,
    store,
    activeWatches: () => watches.size,
    async stop() {
      clearInterval(maintenance);
      for (const finish of [...watches]) finish();
      for (const srv of servers) {
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
      await store.close();
    },
  };
}

/**
 * Stored objects are frozen and shared by every watcher, so each event's JSON is built once however many
 * watchers receive it (a fan-out to 100 watchers would otherwise serialize the object 100 times).
 */
const encodedObjects = new WeakMap<object, string>();
function encodeWatchEvent(ev: WatchEvent): string {
  const obj = ev.object as object;
  let json = encodedObjects.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    if (Object.isFrozen(obj)) encodedObjects.set(obj, json);
  }
  return `{"type":"${ev.type}","object":${json}}\n`;
}

function includeObjectParam(url: URL): 'None' | 'Metadata' | 'Object' {
  const v = url.searchParams.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function refOf(r: ResourceInfo, name?: string) {
  return { group: r.group, resource: r.plural, ...(name !== undefined ? { name } : {}) };
}

export function adminKubeconfig(p: { clusterName: string; server: string; caPem: string; token: string; certPem: string; keyPem: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const name = `flatnet-${p.clusterName}`;
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    users: [{ name: `${name}-admin`, user: { token: p.token, 'client-certificate-data': b64(p.certPem), 'client-key-data': b64(p.keyPem) } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** Objects every cluster has: the system namespaces and the `kubernetes` Service. */
async function bootstrap(registry: Registry, kubernetesIP: string): Promise<void> {
  const manager = 'kube-apiserver';
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await registry.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as Namespace, manager);
  }
  await registry.ensure({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: kubernetesIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None' },
  } as Service, manager);
}
