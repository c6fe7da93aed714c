// The routing table of flatnet's Ingress controller, built from API objects. Pure: data in, data out.
//
//   Ingresses ─ claimed by class (ingress-class.ts) ─► rules merged across Ingresses, oldest first
//   Services + EndpointSlices ─► each backend resolved to ready IP:port endpoints (or a problem)
//   Secrets ─► host → certificate for spec.tls (or a problem; the proxy then serves its default certificate)
//   ─► RoutingTable + Warning events to record + status.loadBalancer writes
//
// Lookup (`matchRoute`): candidates are the routes of the exact request host, then those of the wildcard
// host `*.<host minus its first label>`, then host-less rules; within each group the longest path wins and,
// at equal length, Exact beats Prefix. The first group with a matching path answers; when none does, the
// default backend (the oldest claimed Ingress's spec.defaultBackend) serves the request.
//
// Conflicts: two claimed Ingresses defining the same host + path (+ match kind), the same TLS host, or a
// default backend: the Ingress with the oldest creationTimestamp (then namespace/name) wins; the others get
// a `RuleConflict` warning.
import type {
  EndpointSlice, Ingress, IngressBackend, IngressClass, LoadBalancerIngress, PathType, Secret, Service, ServicePort,
} from '../../api/types.ts';
import { isIngressClaimed } from './ingress-class.ts';
import type { ClassPolicy } from './ingress-class.ts';
import { isWildcardHost, matchKindOf, matchPath, normalizeHost, pathMatches, wildcardSuffixOf } from './match.ts';
import type { PathMatchKind } from './match.ts';

export const SSL_REDIRECT_ANNOTATION = 'flatnet.dev/ssl-redirect';
export const NGINX_SSL_REDIRECT_ANNOTATION = 'nginx.ingress.kubernetes.io/ssl-redirect';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export interface IngressRef {
  namespace: string;
  name: string;
  uid?: string;
}

export interface BackendEndpoint {
  ip: string;
  port: number;
}

export type BackendProblemReason = 'ServiceNotFound' | 'ServicePortNotFound' | 'NoReadyEndpoints' | 'UnsupportedBackend';

export interface ResolvedBackend {
  /** Identity of the endpoint pool: `namespace/service:port` (port as written: number or name). */
  key: string;
  namespace: string;
  service: string;
  port: string;
  /** Ready endpoints, deduplicated, in a stable order. */
  endpoints: readonly BackendEndpoint[];
  /** Why the backend cannot serve (then `endpoints` is empty): the proxy answers 503 with this message. */
  problem?: { reason: BackendProblemReason; message: string };
}

export interface Route {
  /** The rule host as written: a name, `*.suffix`, or '' (any host). */
  host: string;
  path: string;
  pathType: PathType;
  match: PathMatchKind;
  /** The compared path (Prefix: without trailing slashes); its length ranks the route. */
  matchPath: string;
  backend: ResolvedBackend;
  ingress: IngressRef;
  /** Plain-HTTP requests are redirected to HTTPS (308). */
  sslRedirect: boolean;
}

export type TlsProblemReason = 'TLSSecretNotFound' | 'TLSSecretInvalid';

export interface TlsCertificate {
  /** `namespace/secretName@resourceVersion`: changes whenever the Secret does. */
  id: string;
  namespace: string;
  secretName: string;
  /** PEM, decoded from the Secret's tls.crt / tls.key. */
  certPem: string;
  keyPem: string;
  /** The hosts (names or `*.suffix`) this certificate is selected for, and the Ingresses that asked. */
  hosts: readonly string[];
  ingresses: readonly IngressRef[];
}

export interface RoutingTable {
  readonly exactHosts: ReadonlyMap<string, readonly Route[]>;
  /** Keyed by the suffix after `*.`. */
  readonly wildcardHosts: ReadonlyMap<string, readonly Route[]>;
  readonly anyHost: readonly Route[];
  readonly defaultBackend: { backend: ResolvedBackend; ingress: IngressRef } | undefined;
  readonly tlsExact: ReadonlyMap<string, TlsCertificate>;
  /** Keyed by the suffix after `*.`. */
  readonly tlsWildcard: ReadonlyMap<string, TlsCertificate>;
  /** The claimed Ingresses, oldest first. */
  readonly ingresses: readonly IngressRef[];
}

export interface IngressWarning {
  ingress: IngressRef;
  reason: BackendProblemReason | TlsProblemReason | 'RuleConflict';
  message: string;
}

export interface IngressStatusUpdate {
  ingress: IngressRef;
  loadBalancer: { ingress?: LoadBalancerIngress[] };
}

export interface RoutingInputs {
  ingresses: readonly Ingress[];
  ingressClasses: readonly IngressClass[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  secrets: readonly Secret[];
}

export interface RoutingOptions extends ClassPolicy {
  /** The addresses to publish in each claimed Ingress's status.loadBalancer (none: no status writes). */
  loadBalancer?: readonly LoadBalancerIngress[];
}

export interface RoutingResult {
  table: RoutingTable;
  warnings: IngressWarning[];
  /** Claimed Ingresses whose status.loadBalancer differs from the wanted one. */
  statusUpdates: IngressStatusUpdate[];
}

export const EMPTY_TABLE: RoutingTable = {
  exactHosts: new Map(), wildcardHosts: new Map(), anyHost: [], defaultBackend: undefined, tlsExact: new Map(), tlsWildcard: new Map(), ingresses: [],
};

// ------------------------------------------------------------------------------------------- helpers

function refOf(ing: Ingress): IngressRef {
  const ref: IngressRef = { namespace: ing.metadata.namespace ?? 'default', name: ing.metadata.name ?? '' };
  if (ing.metadata.uid !== undefined) ref.uid = ing.metadata.uid;
  return ref;
}

function refText(ref: IngressRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** Oldest creationTimestamp first, then namespace/name: the conflict order. */
function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/** flatnet's annotation wins over ingress-nginx's when both are set. */
export function wantsSslRedirect(ing: Ingress): boolean {
  const a = ing.metadata.annotations ?? {};
  const own = a[SSL_REDIRECT_ANNOTATION];
  if (own !== undefined) return isTrue(own);
  return isTrue(a[NGINX_SSL_REDIRECT_ANNOTATION]);
}

/** Decodes base64 Secret data to text; undefined when it is not valid base64. */
function decodeBase64(data: string): string | undefined {
  const clean = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  try {
    const binary = atob(clean);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN ((RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/**
 * A `kubernetes.io/tls` Secret's certificate and key, or why it cannot be used. Only the shape is checked
 * here (type, keys, base64, PEM blocks); the proxy shell parses them and reports what fails there.
 */
export function tlsFromSecret(secret: Secret | undefined, namespace: string, name: string): { certPem: string; keyPem: string } | { reason: TlsProblemReason; message: string } {
  if (secret === undefined) return { reason: 'TLSSecretNotFound', message: `Secret ${namespace}/${name} not found` };
  if (secret.type !== TLS_SECRET_TYPE) {
    return { reason: 'TLSSecretInvalid', message: `Secret ${namespace}/${name} has type "${secret.type ?? 'Opaque'}", not "${TLS_SECRET_TYPE}"` };
  }
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (crt === undefined || crt === '' || key === undefined || key === '') {
    return { reason: 'TLSSecretInvalid', message: `Secret ${namespace}/${name} lacks ${crt === undefined || crt === '' ? 'tls.crt' : 'tls.key'}` };
  }
  const certPem = decodeBase64(crt);
  const keyPem = decodeBase64(key);
  if (certPem === undefined || !PEM_CERT.test(certPem)) {
    return { reason: 'TLSSecretInvalid', message: `Secret ${namespace}/${name}: tls.crt is not a PEM certificate` };
  }
  if (keyPem === undefined || !PEM_KEY.test(keyPem)) {
    return { reason: 'TLSSecretInvalid', message: `Secret ${namespace}/${name}: tls.key is not a PEM private key` };
  }
  return { certPem, keyPem };
}

/** The addresses a controller Service publishes: its status.loadBalancer.ingress, else its externalIPs. */
export function loadBalancerFromService(service: Service | undefined): LoadBalancerIngress[] {
  if (service === undefined) return [];
  const lb = service.status?.loadBalancer?.ingress ?? [];
  const out: LoadBalancerIngress[] = [];
  for (const i of lb) {
    if (i.ip !== undefined && i.ip !== '') out.push({ ip: i.ip });
    else if (i.hostname !== undefined && i.hostname !== '') out.push({ hostname: i.hostname });
  }
  if (out.length > 0) return out;
  return (service.spec?.externalIPs ?? []).map((ip) => ({ ip }));
}

function sameLoadBalancer(current: { ingress?: { ip?: string; hostname?: string }[] } | undefined, wanted: readonly LoadBalancerIngress[]): boolean {
  const have = (current?.ingress ?? []).map((i) => `${i.ip ?? ''}|${i.hostname ?? ''}`).sort();
  const want = wanted.map((i) => `${i.ip ?? ''}|${i.hostname ?? ''}`).sort();
  return have.length === want.length && have.every((v, i) => v === want[i]);
}

// ------------------------------------------------------------------------------------ backend resolution

interface ServiceIndex {
  services: Map<string, Service>;
  slices: Map<string, EndpointSlice[]>;
}

function indexServices(inputs: RoutingInputs): ServiceIndex {
  const services = new Map<string, Service>();
  for (const s of inputs.services) services.set(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`, s);
  const slices = new Map<string, EndpointSlice[]>();
  for (const sl of inputs.endpointSlices) {
    const svc = sl.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${sl.metadata.namespace ?? ''}/${svc}`;
    const list = slices.get(key);
    if (list === undefined) slices.set(key, [sl]);
    else list.push(sl);
  }
  for (const list of slices.values()) list.sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  return { services, slices };
}

/** The EndpointSlice port serving `sp`: the slice port of the same name; a port-less slice falls back to a numeric targetPort. */
function slicePortFor(slice: EndpointSlice, sp: ServicePort): number | undefined {
  const ports = slice.ports ?? [];
  if (ports.length === 0) {
    if (typeof sp.targetPort === 'number') return sp.targetPort;
    return sp.targetPort === undefined ? sp.port : undefined;
  }
  const wanted = sp.name ?? '';
  const found = ports.find((p) => (p.name ?? '') === wanted && (p.protocol ?? 'TCP') === 'TCP');
  return found?.port ?? undefined;
}

/** Resolves an Ingress backend to ready endpoints, or a problem. */
function resolveBackend(backend: IngressBackend, namespace: string, index: ServiceIndex): ResolvedBackend {
  const svcRef = backend.service;
  if (svcRef === undefined) {
    const what = backend.resource !== undefined ? `${backend.resource.kind} ${backend.resource.name}` : 'an empty backend';
    return { key: `${namespace}/<resource>:${what}`, namespace, service: '', port: '', endpoints: [], problem: { reason: 'UnsupportedBackend', message: `resource backends (${what}) are not supported by flatnet's ingress` } };
  }
  const portText = svcRef.port?.number !== undefined ? String(svcRef.port.number) : (svcRef.port?.name ?? '');
  const base = { key: `${namespace}/${svcRef.name}:${portText}`, namespace, service: svcRef.name, port: portText };
  const svc = index.services.get(`${namespace}/${svcRef.name}`);
  if (svc === undefined) {
    return { ...base, endpoints: [], problem: { reason: 'ServiceNotFound', message: `Service ${namespace}/${svcRef.name} not found` } };
  }
  if (svc.spec?.type === 'ExternalName') {
    return { ...base, endpoints: [], problem: { reason: 'UnsupportedBackend', message: `Service ${namespace}/${svcRef.name} is of type ExternalName, which flatnet's ingress does not proxy to` } };
  }
  const ports = svc.spec?.ports ?? [];
  const sp = svcRef.port?.number !== undefined ? ports.find((p) => p.port === svcRef.port?.number) : ports.find((p) => (p.name ?? '') === (svcRef.port?.name ?? ''));
  if (sp === undefined) {
    return { ...base, endpoints: [], problem: { reason: 'ServicePortNotFound', message: `Service ${namespace}/${svcRef.name} has no port ${portText === '' ? '(unnamed)' : portText}` } };
  }
  const seen = new Set<string>();
  const endpoints: BackendEndpoint[] = [];
  for (const slice of index.slices.get(`${namespace}/${svcRef.name}`) ?? []) {
    if (slice.addressType === 'FQDN') continue;
    const port = slicePortFor(slice, sp);
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      for (const ip of ep.addresses) {
        const id = `${ip}|${port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        endpoints.push({ ip, port });
      }
    }
  }
  if (endpoints.length === 0) {
    return { ...base, endpoints, problem: { reason: 'NoReadyEndpoints', message: `Service ${namespace}/${svcRef.name} has no ready endpoints for port ${portText}` } };
  }
  return { ...base, endpoints };
}

// -------------------------------------------------------------------------------------------- build

/** Sorts routes so that the first match is the winner: longest compared path first, Exact before Prefix. */
function rankRoutes(routes: Route[]): Route[] {
  return routes.sort((a, b) => {
    if (a.matchPath.length !== b.matchPath.length) return b.matchPath.length - a.matchPath.length;
    if (a.match !== b.match) return a.match === 'Exact' ? -1 : 1;
    return 0;
  });
}

/** Builds the routing table, the warnings to record and the status writes. Deterministic for equal inputs. */
export function buildRoutingTable(inputs: RoutingInputs, options: RoutingOptions = {}): RoutingResult {
  const claimed = inputs.ingresses
    .filter((i) => i.metadata.deletionTimestamp === undefined && isIngressClaimed(i, inputs.ingressClasses, options))
    .sort(byAge);
  const index = indexServices(inputs);
  const secrets = new Map<string, Secret>();
  for (const s of inputs.secrets) secrets.set(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`, s);

  const warnings: IngressWarning[] = [];
  const warn = (ingress: IngressRef, reason: IngressWarning['reason'], message: string): void => {
    if (!warnings.some((w) => w.ingress.namespace === ingress.namespace && w.ingress.name === ingress.name && w.reason === reason && w.message === message)) {
      warnings.push({ ingress, reason, message });
    }
  };

  const exact = new Map<string, Route[]>();
  const wildcard = new Map<string, Route[]>();
  const anyHost: Route[] = [];
  const owners = new Map<string, IngressRef>(); // host|kind|path -> first Ingress
  let defaultBackend: RoutingTable['defaultBackend'];
  const tlsOwners = new Map<string, { cert: TlsCertificate | undefined; owner: IngressRef; secret: string }>();
  const certs = new Map<string, { cert: TlsCertificate; hosts: Set<string>; ingresses: IngressRef[] }>();

  const resolve = (ref: IngressRef, backend: IngressBackend): ResolvedBackend => {
    const resolved = resolveBackend(backend, ref.namespace, index);
    if (resolved.problem !== undefined) warn(ref, resolved.problem.reason, `${resolved.problem.message}; requests routed to it get 503`);
    return resolved;
  };

  for (const ing of claimed) {
    const ref = refOf(ing);
    const sslRedirect = wantsSslRedirect(ing);

    if (ing.spec?.defaultBackend !== undefined) {
      if (defaultBackend === undefined) defaultBackend = { backend: resolve(ref, ing.spec.defaultBackend), ingress: ref };
      else warn(ref, 'RuleConflict', `the default backend is already set by the older Ingress ${refText(defaultBackend.ingress)}; this one is ignored`);
    }

    for (const rule of ing.spec?.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      for (const p of rule.http?.paths ?? []) {
        const path = p.path === undefined || p.path === '' ? '/' : p.path;
        const match = matchKindOf(p.pathType);
        const mp = matchPath(path, match);
        const ownerKey = `${host}|${match}|${mp}`;
        const owner = owners.get(ownerKey);
        if (owner !== undefined) {
          if (owner.namespace !== ref.namespace || owner.name !== ref.name) {
            warn(ref, 'RuleConflict', `host "${host === '' ? '*' : host}" path "${path}" (${match}) is already served by the older Ingress ${refText(owner)}; this rule is ignored`);
          }
          continue;
        }
        owners.set(ownerKey, ref);
        const route: Route = { host, path, pathType: p.pathType, match, matchPath: mp, backend: resolve(ref, p.backend), ingress: ref, sslRedirect };
        if (host === '') anyHost.push(route);
        else if (isWildcardHost(host)) {
          const suffix = host.slice(2);
          const list = wildcard.get(suffix);
          if (list === undefined) wildcard.set(suffix, [route]);
          else list.push(route);
        } else {
          const list = exact.get(host);
          if (list === undefined) exact.set(host, [route]);
          else list.push(route);
        }
      }
    }

    for (const tls of ing.spec?.tls ?? []) {
      const secretName = tls.secretName ?? '';
      // No hosts: the entry covers every host of this Ingress's rules.
      const hosts = (tls.hosts !== undefined && tls.hosts.length > 0 ? tls.hosts : (ing.spec?.rules ?? []).map((r) => r.host ?? ''))
        .map((h) => h.toLowerCase()).filter((h) => h !== '');
      if (hosts.length === 0) continue;
      if (secretName === '') {
        warn(ref, 'TLSSecretInvalid', `spec.tls for ${hosts.join(', ')} names no secretName; serving the default certificate`);
        continue;
      }
      const secretKey = `${ref.namespace}/${secretName}`;
      const decoded = tlsFromSecret(secrets.get(secretKey), ref.namespace, secretName);
      let cert: TlsCertificate | undefined;
      if ('reason' in decoded) {
        warn(ref, decoded.reason, `${decoded.message}; serving the default certificate for ${hosts.join(', ')}`);
      } else {
        const rv = secrets.get(secretKey)?.metadata.resourceVersion ?? '';
        const id = `${secretKey}@${rv}`;
        let entry = certs.get(id);
        if (entry === undefined) {
          entry = { cert: { id, namespace: ref.namespace, secretName, certPem: decoded.certPem, keyPem: decoded.keyPem, hosts: [], ingresses: [] }, hosts: new Set(), ingresses: [] };
          certs.set(id, entry);
        }
        cert = entry.cert;
        if (!entry.ingresses.some((r) => r.namespace === ref.namespace && r.name === ref.name)) entry.ingresses.push(ref);
      }
      for (const h of hosts) {
        const owner = tlsOwners.get(h);
        if (owner !== undefined) {
          if (owner.secret !== secretKey) warn(ref, 'RuleConflict', `TLS host "${h}" already uses Secret ${owner.secret} from the older Ingress ${refText(owner.owner)}; Secret ${secretKey} is ignored for it`);
          continue;
        }
        tlsOwners.set(h, { cert, owner: ref, secret: secretKey });
        if (cert !== undefined) certs.get(cert.id)?.hosts.add(h);
      }
    }
  }

  const tlsExact = new Map<string, TlsCertificate>();
  const tlsWildcard = new Map<string, TlsCertificate>();
  const finalCerts = new Map<string, TlsCertificate>();
  for (const [id, entry] of certs) finalCerts.set(id, { ...entry.cert, hosts: [...entry.hosts].sort(), ingresses: entry.ingresses });
  for (const [host, owner] of tlsOwners) {
    if (owner.cert === undefined) continue;
    const cert = finalCerts.get(owner.cert.id);
    if (cert === undefined) continue;
    if (isWildcardHost(host)) tlsWildcard.set(host.slice(2), cert);
    else tlsExact.set(host, cert);
  }

  for (const list of exact.values()) rankRoutes(list);
  for (const list of wildcard.values()) rankRoutes(list);
  rankRoutes(anyHost);

  const table: RoutingTable = {
    exactHosts: exact, wildcardHosts: wildcard, anyHost, defaultBackend, tlsExact, tlsWildcard, ingresses: claimed.map(refOf),
  };

  const statusUpdates: IngressStatusUpdate[] = [];
  const lb = options.loadBalancer ?? [];
  if (lb.length > 0) {
    for (const ing of claimed) {
      if (sameLoadBalancer(ing.status?.loadBalancer, lb)) continue;
      statusUpdates.push({ ingress: refOf(ing), loadBalancer: { ingress: lb.map((i) => ({ ...i })) } });
    }
  }
  return { table, warnings, statusUpdates };
}

// ------------------------------------------------------------------------------------------- lookup

export interface RouteMatch {
  backend: ResolvedBackend;
  ingress: IngressRef;
  sslRedirect: boolean;
  /** The matched rule, or undefined when the default backend answers. */
  route: Route | undefined;
}

function firstMatch(routes: readonly Route[] | undefined, path: string): Route | undefined {
  if (routes === undefined) return undefined;
  for (const r of routes) if (pathMatches(r.matchPath, r.match, path)) return r;
  return undefined;
}

/**
 * The route for a request: `host` as the client sent it (Host header or :authority; port and case are
 * ignored), `path` without the query string. Undefined when nothing matches and there is no default backend.
 */
export function matchRoute(table: RoutingTable, host: string, path: string): RouteMatch | undefined {
  const h = normalizeHost(host);
  const route = (h !== '' ? firstMatch(table.exactHosts.get(h), path) : undefined)
    ?? (h !== '' ? firstMatch(table.wildcardHosts.get(wildcardSuffixOf(h)), path) : undefined)
    ?? firstMatch(table.anyHost, path);
  if (route !== undefined) return { backend: route.backend, ingress: route.ingress, sslRedirect: route.sslRedirect, route };
  if (table.defaultBackend !== undefined) return { backend: table.defaultBackend.backend, ingress: table.defaultBackend.ingress, sslRedirect: false, route: undefined };
  return undefined;
}

/** The certificate to present for a TLS server name (SNI), or undefined for the default certificate. */
export function selectCertificate(table: RoutingTable, serverName: string | undefined): TlsCertificate | undefined {
  const h = normalizeHost(serverName);
  if (h === '') return undefined;
  return table.tlsExact.get(h) ?? table.tlsWildcard.get(wildcardSuffixOf(h));
}

/** Every distinct certificate of the table. */
export function certificatesOf(table: RoutingTable): TlsCertificate[] {
  const out = new Map<string, TlsCertificate>();
  for (const c of table.tlsExact.values()) out.set(c.id, c);
  for (const c of table.tlsWildcard.values()) out.set(c.id, c);
  return [...out.values()];
}

/** Every distinct backend of the table (rules and default backend). */
export function backendsOf(table: RoutingTable): ResolvedBackend[] {
  const out = new Map<string, ResolvedBackend>();
  const add = (routes: Iterable<readonly Route[]>): void => {
    for (const list of routes) for (const r of list) out.set(r.backend.key, r.backend);
  };
  add(table.exactHosts.values());
  add(table.wildcardHosts.values());
  add([table.anyHost]);
  if (table.defaultBackend !== undefined) out.set(table.defaultBackend.backend.key, table.defaultBackend.backend);
  return [...out.values()];
}

