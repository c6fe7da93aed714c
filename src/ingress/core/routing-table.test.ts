import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, HTTPIngressPath, Ingress, IngressClass, IngressSpec, PathType, Secret, Service } from '../../api/types.ts';
import { claimedClassNames, isIngressClaimed } from './ingress-class.ts';
import { buildRoutingTable, loadBalancerFromService, matchRoute, selectCertificate, tlsFromSecret } from './routing-table.ts';
import type { RoutingInputs, RoutingOptions } from './routing-table.ts';

// ------------------------------------------------------------------------------------------- fixtures

const flatnetClass = (extra: { name?: string; default?: boolean; controller?: string; created?: string } = {}): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
  metadata: {
    name: extra.name ?? 'flatnet', creationTimestamp: extra.created ?? '2024-01-01T00:00:00Z',
    ...(extra.default ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
  },
  spec: { controller: extra.controller ?? 'flatnet.dev/ingress' },
});

let uid = 0;
function ingress(name: string, spec: IngressSpec, extra: { ns?: string; created?: string; annotations?: Record<string, string>; status?: Ingress['status'] } = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, namespace: extra.ns ?? 'default', uid: `ing-${++uid}`, creationTimestamp: extra.created ?? '2024-02-01T00:00:00Z', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { ingressClassName: 'flatnet', ...spec },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

const path = (p: string, pathType: PathType, service: string, port: { number?: number; name?: string } = { number: 80 }): HTTPIngressPath => ({ path: p, pathType, backend: { service: { name: service, port } } });

function service(name: string, ports: Service['spec'] = { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }, ns = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: ports };
}

function slice(svc: string, name: string, ports: EndpointSlice['ports'], endpoints: EndpointSlice['endpoints'], ns = 'default'): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports, endpoints };
}

/** A Service `name` on port 80 (named http) with one ready endpoint whose IP encodes the name's index. */
function backendFor(name: string, ip: string): { service: Service; slice: EndpointSlice } {
  return { service: service(name), slice: slice(name, `${name}-1`, [{ name: 'http', port: 8080, protocol: 'TCP' }], [{ addresses: [ip], conditions: { ready: true } }]) };
}

const b64 = (s: string): string => btoa(s);
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
function tlsSecret(name: string, extra: { type?: string; crt?: string; key?: string; rv?: string } = {}): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default', resourceVersion: extra.rv ?? '7' }, type: extra.type ?? 'kubernetes.io/tls',
    data: { 'tls.crt': extra.crt ?? b64(PEM_CERT), 'tls.key': extra.key ?? b64(PEM_KEY) },
  };
}

function inputs(partial: Partial<RoutingInputs>): RoutingInputs {
  return { ingresses: [], ingressClasses: [flatnetClass()], services: [], endpointSlices: [], secrets: [], ...partial };
}

/** Services a..e and `default-svc` with one endpoint each: 10.0.0.<n>. */
const NAMES = ['a', 'b', 'c', 'd', 'e', 'default-svc'];
const backends = NAMES.map((n, i) => backendFor(n, `10.0.0.${i + 1}`));
const withBackends = (ingresses: Ingress[], extra: Partial<RoutingInputs> = {}, options: RoutingOptions = {}) =>
  buildRoutingTable(inputs({ ingresses, services: backends.map((b) => b.service), endpointSlices: backends.map((b) => b.slice), ...extra }), options);

// -------------------------------------------------------------------------------------------- paths

describe('path precedence within one host (the Ingress documentation examples)', () => {
  const cases: { name: string; paths: HTTPIngressPath[]; request: string; want: string | undefined }[] = [
    { name: 'with Prefix / and /aaa, /aaa/ccc goes to /aaa', paths: [path('/', 'Prefix', 'a'), path('/aaa', 'Prefix', 'b')], request: '/aaa/ccc', want: 'b' },
    { name: 'with Prefix /, /aaa and /aaa/bbb, /aaa/bbb goes to /aaa/bbb', paths: [path('/', 'Prefix', 'a'), path('/aaa', 'Prefix', 'b'), path('/aaa/bbb', 'Prefix', 'c')], request: '/aaa/bbb', want: 'c' },
    { name: 'with Prefix /, /aaa and /aaa/bbb, /ccc goes to /', paths: [path('/', 'Prefix', 'a'), path('/aaa', 'Prefix', 'b'), path('/aaa/bbb', 'Prefix', 'c')], request: '/ccc', want: 'a' },
    { name: 'with only Prefix /aaa, /ccc goes to the default backend', paths: [path('/aaa', 'Prefix', 'b')], request: '/ccc', want: 'default-svc' },
    { name: 'with Prefix /foo and Exact /foo, /foo goes to the Exact rule', paths: [path('/foo', 'Prefix', 'a'), path('/foo', 'Exact', 'b')], request: '/foo', want: 'b' },
    { name: 'with Prefix /foo and Exact /foo, /foo/x goes to the Prefix rule', paths: [path('/foo', 'Exact', 'b'), path('/foo', 'Prefix', 'a')], request: '/foo/x', want: 'a' },
    { name: 'with Exact /foo/ and Prefix /foo, /foo/ goes to the longer Exact rule', paths: [path('/foo', 'Prefix', 'a'), path('/foo/', 'Exact', 'b')], request: '/foo/', want: 'b' },
    { name: 'with Prefix /aaa/bb, /aaa/bbb does not match and goes to the default backend', paths: [path('/aaa/bb', 'Prefix', 'a')], request: '/aaa/bbb', want: 'default-svc' },
    { name: 'an ImplementationSpecific rule matches like a Prefix rule', paths: [path('/api', 'ImplementationSpecific', 'a')], request: '/api/v1', want: 'a' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ing = ingress('web', { defaultBackend: { service: { name: 'default-svc', port: { number: 80 } } }, rules: [{ host: 'foo.example.com', http: { paths: c.paths } }] });
      const { table } = withBackends([ing]);
      assert.equal(matchRoute(table, 'foo.example.com', c.request)?.backend.service, c.want);
    });
  }

  it('a request matching no rule and with no default backend finds no route', () => {
    const { table } = withBackends([ingress('web', { rules: [{ host: 'foo.example.com', http: { paths: [path('/aaa', 'Prefix', 'a')] } }] })]);
    assert.equal(matchRoute(table, 'foo.example.com', '/ccc'), undefined);
  });
});

// -------------------------------------------------------------------------------------------- hosts

describe('host precedence', () => {
  const ing = ingress('hosts', {
    rules: [
      { host: 'a.example.com', http: { paths: [path('/', 'Prefix', 'a')] } },
      { host: 'n.example.com', http: { paths: [path('/narrow', 'Prefix', 'a')] } },
      { host: '*.example.com', http: { paths: [path('/', 'Prefix', 'b'), path('/wild', 'Prefix', 'b')] } },
      { http: { paths: [path('/', 'Prefix', 'c')] } },
    ],
  });
  const { table } = withBackends([ing]);
  const cases: [string, string, string, string][] = [
    ['an exact host beats a wildcard host', 'a.example.com', '/', 'a'],
    ['the Host header is matched without its port and case', 'A.Example.com:8080', '/', 'a'],
    ['a wildcard matches a host with one more label', 'z.example.com', '/', 'b'],
    ['a wildcard does not match two more labels: the host-less rule answers', 'x.y.example.com', '/', 'c'],
    ['a wildcard does not match the bare domain: the host-less rule answers', 'example.com', '/', 'c'],
    ['an exact host without a matching path falls through to the wildcard host', 'n.example.com', '/wild/x', 'b'],
    ['an exact host with a matching path keeps the request', 'n.example.com', '/narrow/x', 'a'],
    ['an unknown host goes to the host-less rule', 'other.org', '/x', 'c'],
    ['a request without a Host goes to the host-less rule', '', '/', 'c'],
  ];
  for (const [name, host, p, want] of cases) it(name, () => assert.equal(matchRoute(table, host, p)?.backend.service, want));
});

// ------------------------------------------------------------------------------------------ classes

describe('IngressClass claims', () => {
  const other = flatnetClass({ name: 'nginx', controller: 'k8s.io/ingress-nginx' });
  const cases: { name: string; classes: IngressClass[]; spec: IngressSpec; annotations?: Record<string, string>; className?: string; want: boolean }[] = [
    { name: 'an Ingress naming the flatnet class is claimed', classes: [flatnetClass(), other], spec: { ingressClassName: 'flatnet' }, want: true },
    { name: 'an Ingress naming another controller\'s class is not claimed', classes: [flatnetClass(), other], spec: { ingressClassName: 'nginx' }, want: false },
    { name: 'an Ingress naming a class that does not exist is not claimed', classes: [other], spec: { ingressClassName: 'flatnet' }, want: false },
    { name: 'a class-less Ingress is claimed when flatnet is the default class', classes: [flatnetClass({ default: true }), other], spec: {}, want: true },
    { name: 'a class-less Ingress is not claimed when there is no default class', classes: [flatnetClass(), other], spec: {}, want: false },
    { name: 'a class-less Ingress is not claimed when another controller\'s class is the newer default',
      classes: [flatnetClass({ default: true, created: '2024-01-01T00:00:00Z' }), flatnetClass({ name: 'nginx', controller: 'k8s.io/ingress-nginx', default: true, created: '2024-06-01T00:00:00Z' })], spec: {}, want: false },
    { name: 'the deprecated kubernetes.io/ingress.class annotation names a class', classes: [flatnetClass(), other], spec: {}, annotations: { 'kubernetes.io/ingress.class': 'flatnet' }, want: true },
    { name: 'with a class name set, another class of our controller is not claimed', classes: [flatnetClass(), flatnetClass({ name: 'internal' })], spec: { ingressClassName: 'internal' }, className: 'flatnet', want: false },
    { name: 'without a class name set, every class of our controller is claimed', classes: [flatnetClass(), flatnetClass({ name: 'internal' })], spec: { ingressClassName: 'internal' }, want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ing: Ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'default', ...(c.annotations ? { annotations: c.annotations } : {}) }, spec: c.spec };
      assert.equal(isIngressClaimed(ing, c.classes, { className: c.className }), c.want);
    });
  }

  it('unclaimed Ingresses contribute no routes', () => {
    const mine = ingress('mine', { rules: [{ host: 'mine.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }] });
    const theirs = ingress('theirs', { ingressClassName: 'nginx', rules: [{ host: 'theirs.example.com', http: { paths: [path('/', 'Prefix', 'b')] } }] });
    const { table } = withBackends([mine, theirs], { ingressClasses: [flatnetClass(), other] });
    assert.deepEqual([...table.exactHosts.keys()], ['mine.example.com']);
    assert.deepEqual(claimedClassNames([flatnetClass(), other]), new Set(['flatnet']));
  });
});

// ------------------------------------------------------------------------------------------- merging

describe('rules merged across Ingresses', () => {
  it('paths of one host from two Ingresses are merged', () => {
    const one = ingress('one', { rules: [{ host: 'h.example.com', http: { paths: [path('/a', 'Prefix', 'a')] } }] });
    const two = ingress('two', { rules: [{ host: 'h.example.com', http: { paths: [path('/b', 'Prefix', 'b')] } }] });
    const { table, warnings } = withBackends([one, two]);
    assert.equal(matchRoute(table, 'h.example.com', '/a')?.backend.service, 'a');
    assert.equal(matchRoute(table, 'h.example.com', '/b')?.backend.service, 'b');
    assert.deepEqual(warnings, []);
  });

  it('on the same host and path the oldest Ingress wins and the newer one gets a RuleConflict warning', () => {
    const newer = ingress('newer', { rules: [{ host: 'h.example.com', http: { paths: [path('/', 'Prefix', 'b')] } }] }, { created: '2024-05-01T00:00:00Z' });
    const older = ingress('older', { rules: [{ host: 'h.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }] }, { created: '2024-03-01T00:00:00Z' });
    const { table, warnings } = withBackends([newer, older]);
    assert.equal(matchRoute(table, 'h.example.com', '/')?.backend.service, 'a');
    assert.deepEqual(warnings.map((w) => [w.ingress.name, w.reason]), [['newer', 'RuleConflict']]);
    assert.match(warnings[0]?.message ?? '', /default\/older/);
  });

  it('Prefix /foo and Prefix /foo/ of two Ingresses are the same rule', () => {
    const older = ingress('older', { rules: [{ host: 'h.example.com', http: { paths: [path('/foo', 'Prefix', 'a')] } }] }, { created: '2024-03-01T00:00:00Z' });
    const newer = ingress('newer', { rules: [{ host: 'h.example.com', http: { paths: [path('/foo/', 'Prefix', 'b')] } }] }, { created: '2024-05-01T00:00:00Z' });
    const { table, warnings } = withBackends([older, newer]);
    assert.equal(matchRoute(table, 'h.example.com', '/foo/x')?.backend.service, 'a');
    assert.equal(warnings[0]?.reason, 'RuleConflict');
  });

  it('with equal creation times the namespace/name order decides', () => {
    const x = ingress('x', { rules: [{ host: 'h.example.com', http: { paths: [path('/', 'Prefix', 'b')] } }] });
    const w = ingress('w', { rules: [{ host: 'h.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }] });
    const { table } = withBackends([x, w]);
    assert.equal(matchRoute(table, 'h.example.com', '/')?.ingress.name, 'w');
  });

  it('the oldest Ingress\'s default backend is used and a newer one is reported', () => {
    const older = ingress('older', { defaultBackend: { service: { name: 'a', port: { number: 80 } } } }, { created: '2024-03-01T00:00:00Z' });
    const newer = ingress('newer', { defaultBackend: { service: { name: 'b', port: { number: 80 } } } }, { created: '2024-05-01T00:00:00Z' });
    const { table, warnings } = withBackends([newer, older]);
    assert.equal(matchRoute(table, 'any.host', '/x')?.backend.service, 'a');
    assert.equal(matchRoute(table, 'any.host', '/x')?.route, undefined);
    assert.deepEqual(warnings.map((w) => [w.ingress.name, w.reason]), [['newer', 'RuleConflict']]);
  });

  it('an Ingress being deleted contributes nothing', () => {
    const ing = ingress('gone', { rules: [{ host: 'h.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }] });
    ing.metadata.deletionTimestamp = '2024-06-01T00:00:00Z';
    assert.equal(withBackends([ing]).table.exactHosts.size, 0);
  });
});

// ----------------------------------------------------------------------------------------- backends

describe('backend resolution', () => {
  const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9090, targetPort: 9090 }] });
  const slices = [
    slice('web', 'web-1', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9091, protocol: 'TCP' }], [
      { addresses: ['10.1.0.1'], conditions: { ready: true } },
      { addresses: ['10.1.0.2'], conditions: { ready: false } },
      { addresses: ['10.1.0.3'] },
      { addresses: ['10.1.0.4'], conditions: { ready: true, terminating: true } },
    ]),
    slice('web', 'web-2', [{ name: 'http', port: 8080, protocol: 'TCP' }], [{ addresses: ['10.1.0.1'], conditions: { ready: true } }, { addresses: ['10.1.0.5'], conditions: { ready: true } }]),
    slice('other', 'other-1', [{ name: 'http', port: 1, protocol: 'TCP' }], [{ addresses: ['10.9.9.9'] }]),
  ];
  const resolve = (port: { number?: number; name?: string }, extra: Partial<RoutingInputs> = {}) => {
    const ing = ingress('web', { rules: [{ host: 'h', http: { paths: [path('/', 'Prefix', 'web', port)] } }] });
    const r = buildRoutingTable(inputs({ ingresses: [ing], services: [svc], endpointSlices: slices, ...extra }));
    return { backend: matchRoute(r.table, 'h', '/')?.backend, warnings: r.warnings };
  };

  it('a port number selects the Service port, whose name picks the EndpointSlice port; not-ready and terminating endpoints are left out', () => {
    const { backend, warnings } = resolve({ number: 80 });
    assert.deepEqual(backend?.endpoints, [{ ip: '10.1.0.1', port: 8080 }, { ip: '10.1.0.3', port: 8080 }, { ip: '10.1.0.5', port: 8080 }]);
    assert.equal(backend?.key, 'default/web:80');
    assert.deepEqual(warnings, []);
  });

  it('a port name selects the Service port of that name', () => {
    assert.deepEqual(resolve({ name: 'metrics' }).backend?.endpoints, [{ ip: '10.1.0.1', port: 9091 }, { ip: '10.1.0.3', port: 9091 }]);
  });

  it('a slice without ports serves a numeric targetPort', () => {
    const bare = [slice('web', 'web-bare', null, [{ addresses: ['10.2.0.1'] }])];
    assert.deepEqual(resolve({ name: 'metrics' }, { endpointSlices: bare }).backend?.endpoints, [{ ip: '10.2.0.1', port: 9090 }]);
  });

  const problems: { name: string; port: { number?: number; name?: string }; extra: Partial<RoutingInputs>; reason: string }[] = [
    { name: 'a missing Service', port: { number: 80 }, extra: { services: [] }, reason: 'ServiceNotFound' },
    { name: 'a port the Service does not have', port: { number: 81 }, extra: {}, reason: 'ServicePortNotFound' },
    { name: 'a Service without ready endpoints', port: { number: 80 }, extra: { endpointSlices: [slice('web', 'w', [{ name: 'http', port: 8080 }], [{ addresses: ['10.1.0.2'], conditions: { ready: false } }])] }, reason: 'NoReadyEndpoints' },
    { name: 'an ExternalName Service', port: { number: 80 }, extra: { services: [service('web', { type: 'ExternalName', externalName: 'example.org', ports: [{ port: 80 }] })] }, reason: 'UnsupportedBackend' },
  ];
  for (const p of problems) {
    it(`${p.name} gives a backend without endpoints, a ${p.reason} problem and a warning on the Ingress`, () => {
      const { backend, warnings } = resolve(p.port, p.extra);
      assert.deepEqual(backend?.endpoints, []);
      assert.equal(backend?.problem?.reason, p.reason);
      assert.deepEqual(warnings.map((w) => [w.ingress.name, w.reason]), [['web', p.reason]]);
    });
  }

  it('a resource backend is unsupported', () => {
    const ing = ingress('res', { defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'static' } } });
    const r = buildRoutingTable(inputs({ ingresses: [ing] }));
    assert.equal(matchRoute(r.table, 'h', '/')?.backend.problem?.reason, 'UnsupportedBackend');
  });
});

// ---------------------------------------------------------------------------------------------- TLS

describe('TLS certificates', () => {
  const rules = [{ host: 'secure.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }, { host: 'plain.example.com', http: { paths: [path('/', 'Prefix', 'a')] } }];

  it('a host listed in spec.tls gets its Secret\'s certificate; other hosts get none (the default)', () => {
    const ing = ingress('tls', { tls: [{ hosts: ['secure.example.com'], secretName: 'cert' }], rules });
    const { table, warnings } = withBackends([ing], { secrets: [tlsSecret('cert')] });
    const cert = selectCertificate(table, 'SECURE.example.com');
    assert.equal(cert?.certPem, PEM_CERT);
    assert.equal(cert?.keyPem, PEM_KEY);
    assert.equal(cert?.id, 'default/cert@7');
    assert.deepEqual(cert?.hosts, ['secure.example.com']);
    assert.equal(selectCertificate(table, 'plain.example.com'), undefined);
    assert.equal(selectCertificate(table, undefined), undefined);
    assert.deepEqual(warnings, []);
  });

  it('a wildcard TLS host covers one extra label only', () => {
    const ing = ingress('tls', { tls: [{ hosts: ['*.example.com'], secretName: 'cert' }], rules });
    const { table } = withBackends([ing], { secrets: [tlsSecret('cert')] });
    assert.equal(selectCertificate(table, 'x.example.com')?.secretName, 'cert');
    assert.equal(selectCertificate(table, 'x.y.example.com'), undefined);
  });

  it('a TLS entry without hosts covers the hosts of the Ingress\'s rules', () => {
    const ing = ingress('tls', { tls: [{ secretName: 'cert' }], rules });
    const { table } = withBackends([ing], { secrets: [tlsSecret('cert')] });
    assert.equal(selectCertificate(table, 'plain.example.com')?.secretName, 'cert');
  });

  const bad: [string, Secret[], string][] = [
    ['a missing Secret', [], 'TLSSecretNotFound'],
    ['a Secret of the wrong type', [tlsSecret('cert', { type: 'Opaque' })], 'TLSSecretInvalid'],
    ['a Secret whose tls.crt is not base64', [tlsSecret('cert', { crt: '%%%' })], 'TLSSecretInvalid'],
    ['a Secret whose tls.key is not PEM', [tlsSecret('cert', { key: b64('hello') })], 'TLSSecretInvalid'],
  ];
  for (const [name, secrets, reason] of bad) {
    it(`${name} leaves the host on the default certificate with a ${reason} warning`, () => {
      const ing = ingress('tls', { tls: [{ hosts: ['secure.example.com'], secretName: 'cert' }], rules });
      const { table, warnings } = withBackends([ing], { secrets });
      assert.equal(selectCertificate(table, 'secure.example.com'), undefined);
      assert.deepEqual(warnings.map((w) => [w.ingress.name, w.reason]), [['tls', reason]]);
      assert.match(warnings[0]?.message ?? '', /default certificate/);
    });
  }

  it('decoding a valid Secret yields the PEM text', () => {
    assert.deepEqual(tlsFromSecret(tlsSecret('c'), 'default', 'c'), { certPem: PEM_CERT, keyPem: PEM_KEY });
  });
});

// -------------------------------------------------------------------------------- redirect and status

describe('ssl-redirect annotations', () => {
  const cases: [Record<string, string> | undefined, boolean][] = [
    [undefined, false],
    [{ 'flatnet.dev/ssl-redirect': 'true' }, true],
    [{ 'nginx.ingress.kubernetes.io/ssl-redirect': 'true' }, true],
    [{ 'flatnet.dev/ssl-redirect': 'false', 'nginx.ingress.kubernetes.io/ssl-redirect': 'true' }, false],
  ];
  for (const [annotations, want] of cases) {
    it(`annotations ${JSON.stringify(annotations ?? {})} ${want ? 'redirect' : 'do not redirect'} plain HTTP`, () => {
      const ing = ingress('r', { rules: [{ host: 'h', http: { paths: [path('/', 'Prefix', 'a')] } }] }, annotations ? { annotations } : {});
      assert.equal(matchRoute(withBackends([ing]).table, 'h', '/')?.sslRedirect, want);
    });
  }
});

describe('status.loadBalancer', () => {
  const rules = [{ host: 'h', http: { paths: [path('/', 'Prefix', 'a')] } }];
  it('every claimed Ingress whose status differs gets an update; an up-to-date one does not', () => {
    const stale = ingress('stale', { rules });
    const current = ingress('current', { rules }, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } });
    const foreign = ingress('foreign', { ingressClassName: 'other', rules });
    const { statusUpdates } = withBackends([stale, current, foreign], {}, { loadBalancer: [{ ip: '192.0.2.10' }] });
    assert.deepEqual(statusUpdates.map((u) => [u.ingress.name, u.loadBalancer]), [['stale', { ingress: [{ ip: '192.0.2.10' }] }]]);
  });

  it('without a known address no status is written', () => {
    assert.deepEqual(withBackends([ingress('x', { rules })]).statusUpdates, []);
  });

  it('a controller Service publishes its load-balancer ingress, else its external IPs', () => {
    const lb = service('ctl', { ports: [{ port: 80 }], externalIPs: ['198.51.100.1'] });
    assert.deepEqual(loadBalancerFromService(lb), [{ ip: '198.51.100.1' }]);
    lb.status = { loadBalancer: { ingress: [{ ip: '203.0.113.5' }, { hostname: 'lb.example.com' }] } };
    assert.deepEqual(loadBalancerFromService(lb), [{ ip: '203.0.113.5' }, { hostname: 'lb.example.com' }]);
    assert.deepEqual(loadBalancerFromService(undefined), []);
  });
});
