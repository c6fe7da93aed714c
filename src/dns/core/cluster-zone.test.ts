import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Pod, Service } from '../../api/types.ts';
import { ClusterZone, SERVICE_NAME_LABEL } from './cluster-zone.ts';
import type { ClusterZoneOptions } from './cluster-zone.ts';
import { RRType } from './dns-types.ts';
import type { RecordData, Resolution, ResourceRecord } from './dns-types.ts';

function svc(namespace: string, name: string, spec: Service['spec'], annotations?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name, ...(annotations ? { annotations } : {}) }, spec };
}

function slice(namespace: string, name: string, service: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = []): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace, name, labels: { [SERVICE_NAME_LABEL]: service } }, addressType: 'IPv4', endpoints, ports };
}

function pod(namespace: string, name: string, ip: string, opts: { hostname?: string; subdomain?: string; ready?: boolean; phase?: 'Running' | 'Succeeded' } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name },
    spec: { containers: [], ...(opts.hostname ? { hostname: opts.hostname } : {}), ...(opts.subdomain ? { subdomain: opts.subdomain } : {}) },
    status: { phase: opts.phase ?? 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

function fixture(options: ClusterZoneOptions = {}): ClusterZone {
  const z = new ClusterZone(options);
  z.upsertService(svc('default', 'kubernetes', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }));
  z.upsertService(svc('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 8080 }] }));
  z.upsertService(svc('ns1', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  z.upsertEndpointSlice(slice('ns1', 'db-abc', 'db', [
    { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.244.1.6'], conditions: { ready: true } },
    { addresses: ['10.244.1.7'], conditions: { ready: false } },
  ], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  z.upsertService(svc('ns1', 'late', { clusterIP: 'None', publishNotReadyAddresses: true }));
  z.upsertEndpointSlice(slice('ns1', 'late-1', 'late', [{ addresses: ['10.244.2.1'], conditions: { ready: false } }]));
  z.upsertService(svc('ns1', 'empty', { clusterIP: 'None' }));
  z.upsertService(svc('ns1', 'ext', { type: 'ExternalName', externalName: 'www.example.com.', ports: [{ name: 'http', port: 80 }] }));
  z.upsertService(svc('ns1', 'alias', { type: 'ExternalName', externalName: 'web.ns1.svc.cluster.local' }));
  z.upsertService(svc('ns2', 'dual', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20', 'fd00::20'] }));
  z.upsertService(svc('ns1', 'sub', { clusterIP: 'None' }));
  z.upsertPod(pod('ns1', 'p1', '10.244.3.1', { hostname: 'h1', subdomain: 'sub' }));
  z.upsertPod(pod('ns1', 'p2', '10.244.3.2', { hostname: 'h2', subdomain: 'sub', ready: false }));
  z.upsertPod(pod('ns1', 'web-1', '10.244.4.4'));
  return z;
}

function show(d: RecordData): string {
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return `${d.type} ${d.address}`;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return `${d.type} ${d.target}`;
    case 'SRV':
      return `SRV ${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'TXT':
      return `TXT ${d.texts.join(' ')}`;
    case 'SOA':
      return `SOA ${d.mname} ${d.rname} ${d.minimum}`;
  }
}

const rr = (r: ResourceRecord) => `${r.name} ${r.ttl} ${show(r.data)}`;

function answerOf(res: Resolution): { rcode: string; answer: string[]; soa: boolean; additional: string[] } {
  assert.equal(res.kind, 'answer');
  if (res.kind !== 'answer') throw new Error('unreachable');
  return { rcode: res.rcode, answer: res.answer.map(rr).sort(), soa: res.authority.some((r) => r.data.type === 'SOA'), additional: res.additional.map(rr).sort() };
}

const D = 'cluster.local';

describe('ClusterZone answers', () => {
  const zone = fixture();
  const cases: { what: string; name: string; type: number; rcode: 'NOERROR' | 'NXDOMAIN'; answer: string[]; additional?: string[] }[] = [
    { what: 'a ClusterIP Service has an A record with its ClusterIP', name: `kubernetes.default.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`kubernetes.default.svc.${D} 5 A 10.96.0.1`] },
    { what: 'a dual-stack Service has an AAAA record for its IPv6 ClusterIP', name: `dual.ns2.svc.${D}`, type: RRType.AAAA, rcode: 'NOERROR', answer: [`dual.ns2.svc.${D} 5 AAAA fd00::20`] },
    { what: 'a named ClusterIP port has an SRV record targeting the service name', name: `_http._tcp.web.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NOERROR', answer: [`_http._tcp.web.ns1.svc.${D} 5 SRV 0 100 80 web.ns1.svc.${D}`], additional: [`web.ns1.svc.${D} 5 A 10.96.0.10`] },
    { what: 'a UDP port is under _udp', name: `_dns._udp.web.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NOERROR', answer: [`_dns._udp.web.ns1.svc.${D} 5 SRV 0 100 53 web.ns1.svc.${D}`] },
    { what: 'a port under the wrong protocol does not exist', name: `_dns._tcp.web.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NXDOMAIN', answer: [] },
    { what: 'the protocol label of a service with such ports exists without records', name: `_tcp.web.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NOERROR', answer: [] },
    { what: 'a headless Service answers every ready endpoint', name: `db.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`db.ns1.svc.${D} 5 A 10.244.1.5`, `db.ns1.svc.${D} 5 A 10.244.1.6`] },
    { what: 'a headless endpoint with a hostname has its own A record', name: `db-0.db.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`db-0.db.ns1.svc.${D} 5 A 10.244.1.5`] },
    { what: 'a headless endpoint without hostname is named by its dashed IP', name: `10-244-1-6.db.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`10-244-1-6.db.ns1.svc.${D} 5 A 10.244.1.6`] },
    { what: 'a not-ready headless endpoint has no record', name: `10-244-1-7.db.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'headless SRV records target each ready endpoint name', name: `_pg._tcp.db.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NOERROR', answer: [`_pg._tcp.db.ns1.svc.${D} 5 SRV 0 50 5432 10-244-1-6.db.ns1.svc.${D}`, `_pg._tcp.db.ns1.svc.${D} 5 SRV 0 50 5432 db-0.db.ns1.svc.${D}`], additional: [`10-244-1-6.db.ns1.svc.${D} 5 A 10.244.1.6`, `db-0.db.ns1.svc.${D} 5 A 10.244.1.5`] },
    { what: 'publishNotReadyAddresses publishes not-ready endpoints', name: `late.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`late.ns1.svc.${D} 5 A 10.244.2.1`] },
    { what: 'a headless Service without ready endpoints does not exist', name: `empty.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'a pod hostname under its subdomain Service resolves to the pod IP', name: `h1.sub.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`h1.sub.ns1.svc.${D} 5 A 10.244.3.1`] },
    { what: 'a not-ready pod hostname is not published', name: `h2.sub.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'a headless Service with only pod hostnames below it exists without records', name: `sub.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [] },
    { what: 'an ExternalName Service is a CNAME to be chased outside the zone', name: `ext.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`ext.ns1.svc.${D} 5 CNAME www.example.com`] },
    { what: 'a CNAME question for an ExternalName gets just the CNAME', name: `ext.ns1.svc.${D}`, type: RRType.CNAME, rcode: 'NOERROR', answer: [`ext.ns1.svc.${D} 5 CNAME www.example.com`] },
    { what: 'an in-zone ExternalName target is followed inside the zone', name: `alias.ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`alias.ns1.svc.${D} 5 CNAME web.ns1.svc.${D}`, `web.ns1.svc.${D} 5 A 10.96.0.10`] },
    { what: 'a named port of an ExternalName Service targets the external name', name: `_http._tcp.ext.ns1.svc.${D}`, type: RRType.SRV, rcode: 'NOERROR', answer: [`_http._tcp.ext.ns1.svc.${D} 5 SRV 0 100 80 www.example.com`] },
    { what: 'a pod A record is answered for a dashed IP (pods insecure)', name: `10-244-9-9.anyns.pod.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [`10-244-9-9.anyns.pod.${D} 5 A 10.244.9.9`] },
    { what: 'a malformed dashed pod name does not exist', name: `10-244-9-300.ns1.pod.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'the schema version TXT record is served', name: `dns-version.${D}`, type: RRType.TXT, rcode: 'NOERROR', answer: [`dns-version.${D} 5 TXT 1.1.0`] },
    { what: 'a Service name without the asked type is NOERROR with no answer', name: `web.ns1.svc.${D}`, type: RRType.AAAA, rcode: 'NOERROR', answer: [] },
    { what: 'a namespace with Services exists as an intermediate name', name: `ns1.svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [] },
    { what: 'the svc label exists as an intermediate name', name: `svc.${D}`, type: RRType.A, rcode: 'NOERROR', answer: [] },
    { what: 'a namespace without Services does not exist', name: `nope.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'an unknown Service does not exist', name: `nope.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'a host label under a ClusterIP Service does not exist', name: `x.web.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'an unknown label under the zone does not exist', name: `foo.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'the zone apex answers its SOA', name: D, type: RRType.SOA, rcode: 'NOERROR', answer: [`${D} 5 SOA ns.dns.${D} hostmaster.${D} 5`] },
    { what: 'the zone apex answers NS ns.dns.<zone>', name: D, type: RRType.NS, rcode: 'NOERROR', answer: [`${D} 5 NS ns.dns.${D}`] },
    { what: 'too deep a name under a Service does not exist', name: `a.b.c.web.ns1.svc.${D}`, type: RRType.A, rcode: 'NXDOMAIN', answer: [] },
    { what: 'ANY returns every record at the name', name: `dual.ns2.svc.${D}`, type: RRType.ANY, rcode: 'NOERROR', answer: [`dual.ns2.svc.${D} 5 A 10.96.0.20`, `dual.ns2.svc.${D} 5 AAAA fd00::20`] },
    { what: 'a ClusterIP has a PTR record to its Service', name: '1.0.96.10.in-addr.arpa', type: RRType.PTR, rcode: 'NOERROR', answer: [`1.0.96.10.in-addr.arpa 5 PTR kubernetes.default.svc.${D}`] },
    { what: 'a headless endpoint IP has a PTR record to its endpoint name', name: '5.1.244.10.in-addr.arpa', type: RRType.PTR, rcode: 'NOERROR', answer: [`5.1.244.10.in-addr.arpa 5 PTR db-0.db.ns1.svc.${D}`] },
    { what: 'an IPv6 ClusterIP has an ip6.arpa PTR record', name: '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', type: RRType.PTR, rcode: 'NOERROR', answer: [`0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa 5 PTR dual.ns2.svc.${D}`] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const got = answerOf(zone.resolve({ name: c.name, type: c.type }));
      assert.equal(got.rcode, c.rcode);
      assert.deepEqual(got.answer, [...c.answer].sort());
      assert.equal(got.soa, c.answer.length === 0, 'negative answers (and only those) carry the SOA');
      if (c.additional !== undefined) assert.deepEqual(got.additional, [...c.additional].sort());
    });
  }

  it('matches names case-insensitively and answers with the question\'s spelling', () => {
    const got = answerOf(zone.resolve({ name: 'KuberNetes.Default.SVC.Cluster.Local.', type: RRType.A }));
    assert.deepEqual(got.answer, ['KuberNetes.Default.SVC.Cluster.Local 5 A 10.96.0.1']);
  });

  it('asks the shell to chase an out-of-zone CNAME target with the original type', () => {
    const res = zone.resolve({ name: `ext.ns1.svc.${D}`, type: RRType.AAAA });
    assert.equal(res.kind, 'answer');
    if (res.kind === 'answer') assert.deepEqual(res.chase, { name: 'www.example.com', type: RRType.AAAA });
  });

  it('negative answers carry the SOA with the negative TTL as TTL and MINIMUM', () => {
    const z = fixture({ negativeTtl: 30, ttl: 7 });
    const res = z.resolve({ name: `nope.ns1.svc.${D}`, type: RRType.A });
    assert.ok(res.kind === 'answer');
    const soa = res.authority[0];
    assert.equal(soa?.ttl, 30);
    assert.equal(soa?.data.type === 'SOA' ? soa.data.minimum : -1, 30);
    assert.equal(answerOf(z.resolve({ name: `web.ns1.svc.${D}`, type: RRType.A })).answer[0], `web.ns1.svc.${D} 7 A 10.96.0.10`);
  });

  const forwards: [string, string, number][] = [
    ['a name outside the cluster domain is forwarded', 'www.example.com', RRType.A],
    ['a name that merely ends like the domain is forwarded', 'evilcluster.local', RRType.A],
    ['a PTR for an unknown address falls through to the forwarder', '9.9.9.9.in-addr.arpa', RRType.PTR],
    ['a partial reverse name falls through to the forwarder', '10.in-addr.arpa', RRType.PTR],
    ['the root is forwarded', '', RRType.NS],
  ];
  for (const [what, name, type] of forwards) it(what, () => assert.equal(zone.resolve({ name, type }).kind, 'forward'));
});

describe('ClusterZone options', () => {
  it('serves a configured cluster domain and nothing under the default one', () => {
    const z = fixture({ domain: 'Corp.Example.' });
    assert.deepEqual(answerOf(z.resolve({ name: 'web.ns1.svc.corp.example', type: RRType.A })).answer, ['web.ns1.svc.corp.example 5 A 10.96.0.10']);
    assert.equal(z.resolve({ name: `web.ns1.svc.${D}`, type: RRType.A }).kind, 'forward');
    assert.ok(z.isInZone('X.CORP.EXAMPLE.'));
  });

  it('verified pod mode answers only addresses of pods in that namespace', () => {
    const z = fixture({ podMode: 'verified' });
    assert.equal(answerOf(z.resolve({ name: `10-244-4-4.ns1.pod.${D}`, type: RRType.A })).answer.length, 1);
    assert.equal(answerOf(z.resolve({ name: `10-244-4-4.ns2.pod.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
    assert.equal(answerOf(z.resolve({ name: `10-244-9-9.ns1.pod.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
  });

  it('disabled pod mode answers no pod records', () => {
    const z = fixture({ podMode: 'disabled' });
    assert.equal(answerOf(z.resolve({ name: `10-244-4-4.ns1.pod.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
  });

  it('serves the configured nameserver addresses at ns.dns.<zone> and in the additional section of NS', () => {
    const z = fixture({ nameserverAddresses: ['10.96.0.10'] });
    assert.deepEqual(answerOf(z.resolve({ name: `ns.dns.${D}`, type: RRType.A })).answer, [`ns.dns.${D} 5 A 10.96.0.10`]);
    assert.deepEqual(answerOf(z.resolve({ name: D, type: RRType.NS })).additional, [`ns.dns.${D} 5 A 10.96.0.10`]);
  });

  it('a CNAME loop inside the zone stops after the configured chain length', () => {
    const z = new ClusterZone({ maxCnameChain: 4 });
    z.upsertService(svc('a', 'x', { type: 'ExternalName', externalName: `y.a.svc.${D}` }));
    z.upsertService(svc('a', 'y', { type: 'ExternalName', externalName: `x.a.svc.${D}` }));
    const got = answerOf(z.resolve({ name: `x.a.svc.${D}`, type: RRType.A }));
    assert.equal(got.answer.length, 4);
  });
});

describe('ClusterZone incremental updates', () => {
  it('deleting a Service removes its A and PTR records', () => {
    const z = fixture();
    z.deleteService(svc('ns1', 'web', {}));
    assert.equal(answerOf(z.resolve({ name: `web.ns1.svc.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
    assert.equal(z.resolve({ name: '10.0.96.10.in-addr.arpa', type: RRType.PTR }).kind, 'forward');
  });

  it('changing a ClusterIP moves the PTR record', () => {
    const z = fixture();
    z.upsertService(svc('ns1', 'web', { clusterIP: '10.96.0.11' }));
    assert.equal(z.resolve({ name: '10.0.96.10.in-addr.arpa', type: RRType.PTR }).kind, 'forward');
    assert.equal(answerOf(z.resolve({ name: '11.0.96.10.in-addr.arpa', type: RRType.PTR })).answer.length, 1);
  });

  it('an endpoint turning ready appears in the headless answer', () => {
    const z = fixture();
    z.upsertEndpointSlice(slice('ns1', 'db-abc', 'db', [{ addresses: ['10.244.1.7'], conditions: { ready: true } }]));
    assert.deepEqual(answerOf(z.resolve({ name: `db.ns1.svc.${D}`, type: RRType.A })).answer, [`db.ns1.svc.${D} 5 A 10.244.1.7`]);
    assert.equal(z.resolve({ name: '5.1.244.10.in-addr.arpa', type: RRType.PTR }).kind, 'forward');
  });

  it('endpoints from several slices of one Service are merged and deduplicated', () => {
    const z = fixture();
    z.upsertEndpointSlice(slice('ns1', 'db-xyz', 'db', [{ addresses: ['10.244.1.8'] }, { addresses: ['10.244.1.5'], hostname: 'db-0' }]));
    assert.equal(answerOf(z.resolve({ name: `db.ns1.svc.${D}`, type: RRType.A })).answer.length, 3);
    z.deleteEndpointSlice({ namespace: 'ns1', name: 'db-abc' });
    assert.deepEqual(answerOf(z.resolve({ name: `db.ns1.svc.${D}`, type: RRType.A })).answer, [`db.ns1.svc.${D} 5 A 10.244.1.5`, `db.ns1.svc.${D} 5 A 10.244.1.8`]);
    assert.equal(answerOf(z.resolve({ name: '5.1.244.10.in-addr.arpa', type: RRType.PTR })).answer.length, 1);
  });

  it('a slice that arrives before its Service is used once the Service appears', () => {
    const z = new ClusterZone();
    z.upsertEndpointSlice(slice('a', 'h-1', 'h', [{ addresses: ['10.1.0.1'] }]));
    assert.equal(answerOf(z.resolve({ name: `h.a.svc.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
    z.upsertService(svc('a', 'h', { clusterIP: 'None' }));
    assert.equal(answerOf(z.resolve({ name: `h.a.svc.${D}`, type: RRType.A })).answer.length, 1);
  });

  it('turning on publishNotReadyAddresses republishes not-ready endpoints', () => {
    const z = fixture();
    z.upsertService(svc('ns1', 'db', { clusterIP: 'None', publishNotReadyAddresses: true }));
    assert.equal(answerOf(z.resolve({ name: `db.ns1.svc.${D}`, type: RRType.A })).answer.length, 3);
  });

  it('deleting or finishing a pod removes its hostname record', () => {
    const z = fixture();
    z.upsertPod(pod('ns1', 'p1', '10.244.3.1', { hostname: 'h1', subdomain: 'sub', phase: 'Succeeded' }));
    assert.equal(answerOf(z.resolve({ name: `h1.sub.ns1.svc.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
    const z2 = fixture({ podMode: 'verified' });
    z2.deletePod({ namespace: 'ns1', name: 'web-1' });
    assert.equal(answerOf(z2.resolve({ name: `10-244-4-4.ns1.pod.${D}`, type: RRType.A })).rcode, 'NXDOMAIN');
  });

  it('every change increments the SOA serial', () => {
    const z = new ClusterZone({ initialSerial: 100 });
    z.upsertService(svc('a', 'b', { clusterIP: '10.0.0.1' }));
    z.deleteService({ namespace: 'a', name: 'b' });
    assert.equal(z.serial, 102);
    const soa = z.soa().data;
    assert.equal(soa.type === 'SOA' ? soa.serial : 0, 102);
  });

  it('stats count what is indexed', () => {
    const s = fixture().stats();
    assert.deepEqual({ ...s, serial: 0 }, { services: 9, endpointSlices: 2, pods: 3, headlessViews: 2, ptrAddresses: 7, serial: 0 });
  });
});
