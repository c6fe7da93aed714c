// flatnet's L7 reverse proxy: serves a RoutingTable (src/ingress/core/routing-table.ts) on an HTTP port and
// an HTTPS port. Shell: node:http for plain HTTP, node:http2 (allowHTTP1) for TLS so that clients offering
// h2 by ALPN get HTTP/2 and the rest HTTP/1.1; backends are always spoken to in HTTP/1.1 with keep-alive.
//
// Per request: route by Host (or :authority) and path → optional 308 to HTTPS → pick an endpoint of the
// backend round-robin, skipping endpoints that recently failed to connect → forward with X-Forwarded-*
// headers. A connection failure before the response starts is retried once on another endpoint (on the
// same one if it is the only one); what cannot be served gets a short HTML page: 404 (no rule), 503 (the
// Service is missing, has no such port or no ready endpoint), 502 (the backend failed), 504 (the backend
// did not answer in time). WebSocket (and any HTTP/1.1 Upgrade) requests are tunnelled byte for byte.
//
// setTable() swaps the table atomically: a request uses the table it started with; keep-alive agents and
// round-robin positions live per backend pool (`namespace/service:port`) and survive swaps.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { EMPTY_TABLE, certificatesOf, matchRoute } from './core/routing-table.ts';
import type { BackendEndpoint, ResolvedBackend, RoutingTable, TlsCertificate } from './core/routing-table.ts';
import { isWildcardHost, normalizeHost, requestPathOf, wildcardSuffixOf } from './core/match.ts';

export interface CertificateProblem {
  certificate: TlsCertificate;
  reason: 'TLSCertificateInvalid' | 'TLSCertificateHostMismatch';
  message: string;
}

export interface ProxyStats {
  requests: number;
  /** Requests sent again to another endpoint after a connection failure. */
  retries: number;
  /** Answers the proxy produced itself, by status. */
  notFound: number;
  badGateway: number;
  unavailable: number;
  gatewayTimeout: number;
  redirects: number;
  upgrades: number;
}

export interface IngressProxyOptions {
  /** PEM certificate and key presented when no Ingress certificate fits the server name. */
  defaultCertificate: { cert: string; key: string };
  /** Deadline to connect to a backend (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Deadline for a backend's response headers (default 60 000 ms; checked every 100 ms). */
  responseTimeoutMs?: number;
  /** How long an endpoint that refused a connection is skipped by round-robin (default 5000 ms). */
  ejectMs?: number;
  /** Port put in HTTPS redirects (default: the HTTPS listening port; omitted when 443). */
  httpsRedirectPort?: number;
  /** Offer HTTP/2 by ALPN on the HTTPS port (default true). */
  http2?: boolean;
  /** Idle keep-alive time of client connections (default 60 000 ms). */
  keepAliveTimeoutMs?: number;
  /** Max idle sockets kept per backend endpoint (default 64). */
  maxFreeSockets?: number;
  /** Called with certificate problems found when a table is installed (also returned by setTable). */
  onCertificateProblem?: (p: CertificateProblem) => void;
}

export interface ListenOptions {
  /** Address to bind (default 0.0.0.0). */
  host?: string;
  /** Plain HTTP port (0: ephemeral; null: no HTTP listener). */
  httpPort?: number | null;
  /** HTTPS port (0: ephemeral; null: no HTTPS listener). */
  httpsPort?: number | null;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'http2-settings', 'host']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EADDRNOTAVAIL', 'FLATNET_CONNECT_TIMEOUT']);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The small HTML page the proxy answers with when it cannot forward. */
export function errorPage(status: number, title: string, detail: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head>\n`
    + `<body><h1>${status} ${escapeHtml(title)}</h1>\n<p>${escapeHtml(detail)}</p>\n<hr><p>flatnet ingress</p></body></html>\n`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : '';
}

function endpointText(ep: BackendEndpoint): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

function isH2(req: AnyRequest): req is Http2ServerRequest {
  return 'stream' in req && req.httpVersionMajor === 2;
}

function hasBody(req: AnyRequest): boolean {
  if (isH2(req)) return !req.stream.endAfterHeaders;
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Removes hop-by-hop headers, including those named by Connection. */
function endToEndHeaders(headers: http.IncomingHttpHeaders, keepUpgrade: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connection = headerValue(headers['connection']);
  const listed = connection !== undefined ? connection.toLowerCase().split(',').map((s) => s.trim()) : [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (HOP_BY_HOP.has(name) || (listed.length > 0 && listed.includes(name))) continue;
    out[name] = headers[name];
  }
  if (keepUpgrade) {
    out['connection'] = 'Upgrade';
    const up = headers['upgrade'];
    if (up !== undefined) out['upgrade'] = up;
  }
  return out;
}

interface RequestContext {
  scheme: 'http' | 'https';
  hostHeader: string;
  clientIp: string;
  localPort: number;
}

export class IngressProxy {
  readonly #options: IngressProxyOptions;
  #table: RoutingTable = EMPTY_TABLE;
  /** Server name (exact, or `*.suffix`) → secure context, rebuilt on each setTable. */
  #sniExact = new Map<string, tls.SecureContext>();
  #sniWildcard = new Map<string, tls.SecureContext>();
  /** Secure contexts by certificate id (namespace/name@resourceVersion), kept while referenced. */
  #contexts = new Map<string, { context: tls.SecureContext | undefined; x509: X509Certificate | undefined; error: string | undefined }>();
  readonly #defaultContext: tls.SecureContext;
  readonly #agents = new Map<string, { agent: http.Agent; retireTimer: NodeJS.Timeout | undefined }>();
  readonly #rr = new Map<string, number>();
  readonly #ejected = new Map<string, number>();
  #httpServer: http.Server | undefined;
  #httpsServer: http2.Http2SecureServer | https.Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #awaitingHeaders = new Set<{ deadline: number; preq: http.ClientRequest; what: string }>();
  #sweeper: NodeJS.Timeout | undefined;
  #httpsPort = 443;
  readonly stats: ProxyStats = { requests: 0, retries: 0, notFound: 0, badGateway: 0, unavailable: 0, gatewayTimeout: 0, redirects: 0, upgrades: 0 };

  constructor(options: IngressProxyOptions) {
    this.#options = options;
    this.#defaultContext = tls.createSecureContext({ cert: options.defaultCertificate.cert, key: options.defaultCertificate.key });
  }

  get table(): RoutingTable {
    return this.#table;
  }

  /**
   * Installs a new table. Certificates are parsed here (cached by id); ones that fail to load or do not
   * cover their host are reported and leave their hosts on the default certificate. Requests already
   * routed keep going to where they were routed; new ones use the new table.
   */
  setTable(table: RoutingTable): CertificateProblem[] {
    const problems: CertificateProblem[] = [];
    const certs = certificatesOf(table);
    const live = new Set(certs.map((c) => c.id));
    for (const id of [...this.#contexts.keys()]) if (!live.has(id)) this.#contexts.delete(id);
    for (const c of certs) {
      let entry = this.#contexts.get(c.id);
      if (entry === undefined) {
        try {
          entry = { context: tls.createSecureContext({ cert: c.certPem, key: c.keyPem }), x509: new X509Certificate(c.certPem), error: undefined };
        } catch (e) {
          entry = { context: undefined, x509: undefined, error: e instanceof Error ? e.message : String(e) };
        }
        this.#contexts.set(c.id, entry);
      }
      if (entry.error !== undefined) {
        problems.push({ certificate: c, reason: 'TLSCertificateInvalid', message: `Secret ${c.namespace}/${c.secretName}: the certificate and key cannot be loaded (${entry.error}); serving the default certificate for ${c.hosts.join(', ')}` });
      }
    }
    const sniExact = new Map<string, tls.SecureContext>();
    const sniWildcard = new Map<string, tls.SecureContext>();
    const mismatched = new Map<string, { cert: TlsCertificate; hosts: string[] }>();
    const install = (host: string, cert: TlsCertificate, into: Map<string, tls.SecureContext>, key: string): void => {
      const entry = this.#contexts.get(cert.id);
      if (entry?.context === undefined || entry.x509 === undefined) return;
      const probe = isWildcardHost(host) ? `flatnet-probe.${host.slice(2)}` : host;
      if (entry.x509.checkHost(probe) === undefined) {
        const m = mismatched.get(cert.id) ?? { cert, hosts: [] };
        m.hosts.push(host);
        mismatched.set(cert.id, m);
        return;
      }
      into.set(key, entry.context);
    };
    for (const [host, cert] of table.tlsExact) install(host, cert, sniExact, host);
    for (const [suffix, cert] of table.tlsWildcard) install(`*.${suffix}`, cert, sniWildcard, suffix);
    for (const { cert, hosts } of mismatched.values()) {
      problems.push({ certificate: cert, reason: 'TLSCertificateHostMismatch', message: `Secret ${cert.namespace}/${cert.secretName}: the certificate (${this.#contexts.get(cert.id)?.x509?.subject.replace(/\n/g, ', ') ?? ''}) does not cover ${hosts.join(', ')}; serving the default certificate there` });
    }
    // One assignment each: SNI and routing switch together between two events.
    this.#sniExact = sniExact;
    this.#sniWildcard = sniWildcard;
    this.#table = table;
    this.#retireAgents(table);
    for (const p of problems) this.#options.onCertificateProblem?.(p);
    return problems;
  }

  /** The secure context for a TLS server name (the default one when no certificate fits). */
  contextFor(serverName: string | undefined): tls.SecureContext {
    const h = normalizeHost(serverName);
    if (h === '') return this.#defaultContext;
    return this.#sniExact.get(h) ?? this.#sniWildcard.get(wildcardSuffixOf(h)) ?? this.#defaultContext;
  }

  // -------------------------------------------------------------------------------------- listening

  /** Starts the listeners; resolves with the bound ports (null where none was asked for). */
  async listen(options: ListenOptions = {}): Promise<{ httpPort: number | null; httpsPort: number | null }> {
    const host = options.host ?? '0.0.0.0';
    const keepAlive = this.#options.keepAliveTimeoutMs ?? 60_000;
    let httpPort: number | null = null;
    let httpsPort: number | null = null;
    if (options.httpPort !== null && options.httpPort !== undefined) {
      const server = http.createServer({ keepAliveTimeout: keepAlive }, (req, res) => this.#handle(req, res, 'http'));
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#handleUpgrade(req, socket, head, 'http'));
      server.on('clientError', (_e, socket: Socket) => socket.destroy());
      this.#httpServer = server;
      httpPort = await listenOn(server, options.httpPort, host);
    }
    if (options.httpsPort !== null && options.httpsPort !== undefined) {
      const secure = {
        cert: this.#options.defaultCertificate.cert,
        key: this.#options.defaultCertificate.key,
        SNICallback: (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => cb(null, this.contextFor(name)),
      };
      const onRequest = (req: AnyRequest, res: AnyResponse): void => this.#handle(req, res, 'https');
      const server = this.#options.http2 === false
        ? https.createServer({ ...secure, keepAliveTimeout: keepAlive }, onRequest)
        : http2.createSecureServer({ ...secure, allowHTTP1: true }, onRequest);
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#handleUpgrade(req, socket, head, 'https'));
      server.on('secureConnection', (s: tls.TLSSocket) => {
        this.#sockets.add(s);
        s.once('close', () => this.#sockets.delete(s));
      });
      server.on('tlsClientError', () => { /* handshake failures are the client's business */ });
      this.#httpsServer = server;
      httpsPort = await listenOn(server, options.httpsPort, host);
      this.#httpsPort = httpsPort;
    }
    return { httpPort, httpsPort };
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  async close(graceMs = 2000): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const server of [this.#httpServer, this.#httpsServer]) {
      if (server === undefined) continue;
      closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    }
    const timer = setTimeout(() => {
      this.#httpServer?.closeAllConnections();
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    await Promise.all(closing);
    clearTimeout(timer);
    for (const { agent, retireTimer } of this.#agents.values()) {
      if (retireTimer !== undefined) clearTimeout(retireTimer);
      agent.destroy();
    }
    this.#agents.clear();
  }

  // ----------------------------------------------------------------------------------------- backends

  #agentFor(backend: ResolvedBackend): http.Agent {
    const existing = this.#agents.get(backend.key);
    if (existing !== undefined) {
      if (existing.retireTimer !== undefined) {
        clearTimeout(existing.retireTimer);
        existing.retireTimer = undefined;
      }
      return existing.agent;
    }
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: this.#options.maxFreeSockets ?? 64, scheduling: 'lifo' });
    this.#agents.set(backend.key, { agent, retireTimer: undefined });
    return agent;
  }

  /** Agents of pools the new table no longer has are destroyed later, once their requests are surely done. */
  #retireAgents(table: RoutingTable): void {
    const live = new Set<string>();
    const note = (routes: Iterable<readonly { backend: ResolvedBackend }[]>): void => {
      for (const list of routes) for (const r of list) live.add(r.backend.key);
    };
    note(table.exactHosts.values());
    note(table.wildcardHosts.values());
    note([table.anyHost]);
    if (table.defaultBackend !== undefined) live.add(table.defaultBackend.backend.key);
    const grace = (this.#options.responseTimeoutMs ?? 60_000) + 5_000;
    for (const [key, entry] of this.#agents) {
      if (live.has(key)) {
        if (entry.retireTimer !== undefined) clearTimeout(entry.retireTimer);
        entry.retireTimer = undefined;
        continue;
      }
      if (entry.retireTimer !== undefined) continue;
      entry.retireTimer = setTimeout(() => {
        if (this.#agents.get(key) === entry) this.#agents.delete(key);
        entry.agent.destroy();
        this.#rr.delete(key);
      }, grace);
      entry.retireTimer.unref();
    }
  }

  /** Round-robin over the endpoints, skipping recently failed ones and `avoid` while others remain. */
  /**
   * Response-header deadlines are checked by one coarse sweep (every 100 ms) rather than a timer per
   * request: per-request socket timers cost a noticeable share of the proxy's time under load.
   */
  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      if (this.#awaitingHeaders.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
        return;
      }
      const now = Date.now();
      for (const w of this.#awaitingHeaders) {
        if (w.deadline > now) continue;
        this.#awaitingHeaders.delete(w);
        w.preq.destroy(Object.assign(new Error(`${w.what} did not answer in time`), { code: 'FLATNET_RESPONSE_TIMEOUT' }));
      }
    }, 100);
    this.#sweeper.unref();
  }

  #pick(backend: ResolvedBackend, avoid: BackendEndpoint | undefined): BackendEndpoint | undefined {
    const eps = backend.endpoints;
    const n = eps.length;
    if (n === 0) return undefined;
    const start = this.#rr.get(backend.key) ?? 0;
    const now = Date.now();
    let fallback: BackendEndpoint | undefined;
    for (let i = 0; i < n; i++) {
      const idx = (start + i) % n;
      const ep = eps[idx];
      if (ep === undefined) continue;
      if (avoid !== undefined && n > 1 && ep.ip === avoid.ip && ep.port === avoid.port) continue;
      const until = this.#ejected.get(endpointText(ep));
      if (until !== undefined && until > now) {
        fallback ??= ep;
        continue;
      }
      this.#rr.set(backend.key, (idx + 1) % n);
      return ep;
    }
    // Everything is ejected (or avoided): try anyway rather than refuse.
    const ep = fallback ?? (avoid !== undefined ? eps.find((e) => e.ip !== avoid.ip || e.port !== avoid.port) : undefined) ?? eps[start % n];
    this.#rr.set(backend.key, (start + 1) % n);
    return ep;
  }

  #eject(ep: BackendEndpoint): void {
    this.#ejected.set(endpointText(ep), Date.now() + (this.#options.ejectMs ?? 5000));
    if (this.#ejected.size > 10_000) {
      const now = Date.now();
      for (const [k, until] of this.#ejected) if (until <= now) this.#ejected.delete(k);
    }
  }

  // ----------------------------------------------------------------------------------------- requests

  #context(req: AnyRequest, scheme: 'http' | 'https'): RequestContext {
    const authority = headerValue(req.headers[':authority']) ?? headerValue(req.headers['host']) ?? '';
    return { scheme, hostHeader: authority, clientIp: req.socket?.remoteAddress ?? '', localPort: req.socket?.localPort ?? 0 };
  }

  #forwardHeaders(req: AnyRequest, ctx: RequestContext, upgrade: boolean): OutgoingHttpHeaders {
    const headers = endToEndHeaders(req.headers, upgrade);
    headers['host'] = ctx.hostHeader;
    const prior = headerValue(req.headers['x-forwarded-for']);
    const ip = ctx.clientIp.startsWith('::ffff:') ? ctx.clientIp.slice(7) : ctx.clientIp;
    headers['x-forwarded-for'] = prior !== undefined && prior !== '' ? `${prior}, ${ip}` : ip;
    headers['x-forwarded-proto'] = ctx.scheme;
    headers['x-forwarded-host'] = ctx.hostHeader;
    headers['x-forwarded-port'] = String(ctx.localPort);
    headers['x-real-ip'] = ip;
    return headers;
  }

  #reply(res: AnyResponse, status: number, title: string, detail: string, reason: string): void {
    if (res.headersSent) {
      abortResponse(res);
      return;
    }
    const body = errorPage(status, title, detail);
    writeHead(res, status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-flatnet-ingress': reason });
    res.end(body);
  }

  #redirectLocation(ctx: RequestContext, url: string): string {
    const port = this.#options.httpsRedirectPort ?? this.#httpsPort;
    const host = normalizeHost(ctx.hostHeader);
    return `https://${host}${port === 443 ? '' : `:${port}`}${url.startsWith('/') ? url : '/'}`;
  }

  #handle(req: AnyRequest, res: AnyResponse, scheme: 'http' | 'https'): void {
    this.stats.requests++;
    const table = this.#table;
    const ctx = this.#context(req, scheme);
    const url = req.url ?? '/';
    const path = requestPathOf(url);
    const m = matchRoute(table, ctx.hostHeader, path);
    if (m === undefined) {
      this.stats.notFound++;
      return this.#reply(res, 404, 'Not Found', `No Ingress rule matches host "${normalizeHost(ctx.hostHeader)}" and path "${path}", and no default backend is set.`, 'NoRoute');
    }
    if (scheme === 'http' && m.sslRedirect) {
      this.stats.redirects++;
      const body = errorPage(308, 'Permanent Redirect', 'This resource is served over HTTPS.');
      writeHead(res, 308, { location: this.#redirectLocation(ctx, url), 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const backend = m.backend;
    if (backend.endpoints.length === 0) {
      this.stats.unavailable++;
      const why = backend.problem?.message ?? `Service ${backend.namespace}/${backend.service} has no ready endpoints`;
      return this.#reply(res, 503, 'Service Unavailable', `${why} (Ingress ${m.ingress.namespace}/${m.ingress.name}).`, backend.problem?.reason ?? 'NoReadyEndpoints');
    }
    const headers = this.#forwardHeaders(req, ctx, false);
    this.#forward(req, res, backend, headers, url, 0, undefined);
  }

  #forward(req: AnyRequest, res: AnyResponse, backend: ResolvedBackend, headers: OutgoingHttpHeaders, url: string, attempt: number, avoid: BackendEndpoint | undefined): void {
    const ep = this.#pick(backend, avoid);
    if (ep === undefined) {
      this.stats.unavailable++;
      return this.#reply(res, 503, 'Service Unavailable', `Service ${backend.namespace}/${backend.service} has no ready endpoints.`, 'NoReadyEndpoints');
    }
    const method = req.method ?? 'GET';
    const withBody = hasBody(req);
    const preq = http.request({ host: ep.ip, port: ep.port, method, path: url, headers, agent: this.#agentFor(backend), setHost: false });
    let connected = false;
    let bodyStarted = false;
    let responded = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const start = (): void => {
      connected = true;
      if (connectTimer !== undefined) clearTimeout(connectTimer);
      if (withBody && !bodyStarted) {
        bodyStarted = true;
        req.pipe(preq);
      }
    };
    if (!withBody) preq.end();
    preq.on('socket', (socket: Socket) => {
      if (socket.connecting) {
        connectTimer = setTimeout(() => {
          const err = Object.assign(new Error(`connect to ${endpointText(ep)} timed out`), { code: 'FLATNET_CONNECT_TIMEOUT' });
          preq.destroy(err);
        }, this.#options.connectTimeoutMs ?? 3000);
        socket.once('connect', start);
      } else start();
    });
    const waiting = { deadline: Date.now() + (this.#options.responseTimeoutMs ?? 60_000), preq, what: endpointText(ep) };
    this.#awaitingHeaders.add(waiting);
    this.#startSweeper();
    const onClientGone = (): void => {
      if (!responded || !res.writableFinished) preq.destroy();
    };
    res.once('close', onClientGone);
    preq.on('response', (pres: IncomingMessage) => {
      responded = true;
      this.#awaitingHeaders.delete(waiting);
      const status = pres.statusCode ?? 502;
      const out = endToEndHeaders(pres.headers, false);
      if (isH2(req)) delete out['keep-alive'];
      try {
        writeHead(res, status, out);
      } catch (e) {
        pres.destroy();
        this.stats.badGateway++;
        return this.#reply(res, 502, 'Bad Gateway', `The backend ${endpointText(ep)} sent a response that cannot be relayed: ${e instanceof Error ? e.message : String(e)}`, 'BadResponse');
      }
      pres.on('error', () => abortResponse(res));
      pres.pipe(res as NodeJS.WritableStream);
    });
    preq.on('error', (err: Error) => {
      if (connectTimer !== undefined) clearTimeout(connectTimer);
      this.#awaitingHeaders.delete(waiting);
      res.removeListener('close', onClientGone);
      if (responded) {
        abortResponse(res);
        return;
      }
      if (res.writableEnded || res.destroyed) return;
      const code = errorCode(err);
      const connectFailure = !connected || CONNECT_ERRORS.has(code);
      if (connectFailure) this.#eject(ep);
      const retriable = connectFailure || (IDEMPOTENT.has(method) && !bodyStarted && code !== 'FLATNET_RESPONSE_TIMEOUT');
      if (attempt === 0 && retriable && !bodyStarted) {
        this.stats.retries++;
        return this.#forward(req, res, backend, headers, url, 1, ep);
      }
      if (code === 'FLATNET_RESPONSE_TIMEOUT') {
        this.stats.gatewayTimeout++;
        return this.#reply(res, 504, 'Gateway Timeout', `The backend ${endpointText(ep)} of Service ${backend.namespace}/${backend.service} did not answer in time.`, 'BackendTimeout');
      }
      this.stats.badGateway++;
      this.#reply(res, 502, 'Bad Gateway', `The backend ${endpointText(ep)} of Service ${backend.namespace}/${backend.service} failed: ${code !== '' ? code : err.message}.`, 'BackendFailed');
    });
  }

  // ---------------------------------------------------------------------------------------- upgrades

  #handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, scheme: 'http' | 'https'): void {
    this.stats.requests++;
    socket.on('error', () => socket.destroy());
    // Upgraded sockets leave the server's bookkeeping: track them so close() can end them.
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const ctx = this.#context(req, scheme);
    const url = req.url ?? '/';
    const path = requestPathOf(url);
    const m = matchRoute(this.#table, ctx.hostHeader, path);
    if (m === undefined) {
      this.stats.notFound++;
      return rawReply(socket, 404, errorPage(404, 'Not Found', `No Ingress rule matches host "${normalizeHost(ctx.hostHeader)}" and path "${path}".`));
    }
    if (scheme === 'http' && m.sslRedirect) {
      this.stats.redirects++;
      return rawReply(socket, 308, '', { location: this.#redirectLocation(ctx, url) });
    }
    if (m.backend.endpoints.length === 0) {
      this.stats.unavailable++;
      return rawReply(socket, 503, errorPage(503, 'Service Unavailable', m.backend.problem?.message ?? 'no ready endpoints'));
    }
    const headers = this.#forwardHeaders(req, ctx, true);
    this.#tunnel(req, socket, head, m.backend, headers, url, 0, undefined);
  }

  #tunnel(req: IncomingMessage, socket: Socket, head: Buffer, backend: ResolvedBackend, headers: OutgoingHttpHeaders, url: string, attempt: number, avoid: BackendEndpoint | undefined): void {
    const ep = this.#pick(backend, avoid);
    if (ep === undefined) return rawReply(socket, 503, errorPage(503, 'Service Unavailable', 'no ready endpoints'));
    const preq = http.request({ host: ep.ip, port: ep.port, method: req.method ?? 'GET', path: url, headers, agent: false, setHost: false });
    let connected = false;
    const timer = setTimeout(() => preq.destroy(Object.assign(new Error('connect timeout'), { code: 'FLATNET_CONNECT_TIMEOUT' })), this.#options.connectTimeoutMs ?? 3000);
    preq.on('socket', (s: Socket) => s.once('connect', () => {
      connected = true;
      clearTimeout(timer);
    }));
    preq.on('upgrade', (pres: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      clearTimeout(timer);
      this.stats.upgrades++;
      let headText = `HTTP/1.1 ${pres.statusCode ?? 101} ${pres.statusMessage ?? 'Switching Protocols'}\r\n`;
      for (let i = 0; i + 1 < pres.rawHeaders.length; i += 2) headText += `${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}\r\n`;
      socket.write(headText + '\r\n');
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    preq.on('response', (pres: IncomingMessage) => {
      // The backend declined the upgrade: relay its answer and close.
      clearTimeout(timer);
      let headText = `HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}\r\n`;
      for (let i = 0; i + 1 < pres.rawHeaders.length; i += 2) {
        const name = (pres.rawHeaders[i] ?? '').toLowerCase();
        if (name === 'connection' || name === 'keep-alive') continue;
        headText += `${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}\r\n`;
      }
      socket.write(headText + 'connection: close\r\n\r\n');
      pres.pipe(socket);
    });
    preq.on('error', (err: Error) => {
      clearTimeout(timer);
      const code = errorCode(err);
      if (!connected || CONNECT_ERRORS.has(code)) {
        this.#eject(ep);
        if (attempt === 0) {
          this.stats.retries++;
          return this.#tunnel(req, socket, head, backend, headers, url, 1, ep);
        }
      }
      this.stats.badGateway++;
      rawReply(socket, 502, errorPage(502, 'Bad Gateway', `The backend ${endpointText(ep)} failed: ${code !== '' ? code : err.message}.`));
    });
    preq.end();
  }
}

function writeHead(res: AnyResponse, status: number, headers: OutgoingHttpHeaders): void {
  if ('stream' in res) res.writeHead(status, headers);
  else res.writeHead(status, headers);
}

function abortResponse(res: AnyResponse): void {
  if ('stream' in res) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}

function rawReply(socket: Socket, status: number, body: string, extra: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  let text = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n`;
  for (const [k, v] of Object.entries(extra)) text += `${k}: ${v}\r\n`;
  text += `content-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  socket.end(text);
}

function listenOn(server: http.Server | https.Server | http2.Http2SecureServer, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
