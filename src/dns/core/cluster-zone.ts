// The cluster DNS zone (Kubernetes DNS-Based Service Discovery, schema 1.1.0) as an incrementally updated
// index over Services, EndpointSlices and Pods, and the answers it gives.
//
// Names are not materialised into one big table: each object updates a few small indexes (services per
// namespace, slices per service, a per-headless-service view of its endpoints, pod IPs and hostnames per
// namespace, PTR targets per IP), and a question is answered by reading its labels right to left, as
// CoreDNS's kubernetes plugin does. An update costs O(that object) (for a headless Service: O(its
// endpoints)); nothing is rebuilt as a whole.
//
// Names under <zone>:
//   <zone>                                   SOA, NS ns.dns.<zone>
//   dns-version.<zone>                       TXT "1.1.0"
//   ns.dns.<zone>                            A/AAAA of the configured nameserver addresses
//   <svc>.<ns>.svc.<zone>                    A/AAAA ClusterIPs | A/AAAA ready endpoints (headless) | CNAME (ExternalName)
//   <host>.<svc>.<ns>.svc.<zone>             A/AAAA of a headless endpoint (hostname, else dashed IP) or of a
//                                            pod with spec.hostname=<host>, spec.subdomain=<svc>
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>   SRV per named port (ClusterIP: -> the service name; headless:
//                                            -> each endpoint's name; ExternalName: -> the external name)
//   <a-b-c-d>.<ns>.pod.<zone>                A (pods insecure: any address; verified: a pod in <ns> has it)
// and PTR records under in-addr.arpa / ip6.arpa for ClusterIPs and headless endpoint addresses.
// Intermediate names (svc.<zone>, <ns>.svc.<zone>, _tcp.<svc>...) exist without records: NOERROR, no answer.
// A headless Service without ready endpoints does not exist (NXDOMAIN), as the specification says.
import type { EndpointSlice, Pod, Service } from '../../api/types.ts';
import { RRType } from './dns-types.ts';
import type { AuthoritativeAnswer, DnsQuestion, RecordData, Resolution, ResourceRecord } from './dns-types.ts';
import { canonicalName, dashedIP, ipFromReverseLabels, isReverseName, normalizeIP, parseDashedIP, splitLabels } from './names.ts';
import type { IpFamily } from './names.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const TOLERATE_UNREADY_ANNOTATION = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';
export const DNS_SCHEMA_VERSION = '1.1.0';

export type PodRecordMode = 'insecure' | 'verified' | 'disabled';

export interface ClusterZoneOptions {
  /** The cluster domain (default `cluster.local`). */
  domain?: string;
  /** TTL of every positive record, seconds (default 5, as CoreDNS's kubernetes plugin). */
  ttl?: number;
  /** TTL and MINIMUM of the SOA sent with negative answers (default: `ttl`). */
  negativeTtl?: number;
  /** `<a-b-c-d>.<ns>.pod.<zone>` records (default `insecure`, as CoreDNS `pods insecure`). */
  podMode?: PodRecordMode;
  /** Addresses answered for `ns.dns.<zone>` (the cluster DNS Service IP). */
  nameserverAddresses?: readonly string[];
  /** First SOA serial (default 1); every change increments it. The shell may pass the start time. */
  initialSerial?: number;
  /** Longest chain of in-zone CNAMEs followed in one answer (default 8). */
  maxCnameChain?: number;
}

export interface ClusterZoneStats {
  services: number;
  endpointSlices: number;
  pods: number;
  headlessViews: number;
  ptrAddresses: number;
  serial: number;
}

interface Address {
  ip: string;
  family: IpFamily;
}

interface PortEntry {
  /** Lower-cased port name (only named ports are kept). */
  name: string;
  /** `tcp`, `udp` or `sctp`. */
  proto: string;
  port: number;
}

type ServiceKind = 'clusterIP' | 'headless' | 'externalName' | 'pending';

interface ServiceEntry {
  namespace: string;
  name: string;
  kind: ServiceKind;
  addresses: Address[];
  externalName: string;
  ports: PortEntry[];
  publishNotReady: boolean;
}

interface SliceEndpoint {
  addresses: Address[];
  hostname: string | undefined;
  ready: boolean;
}

interface SliceEntry {
  namespace: string;
  service: string | undefined;
  endpoints: SliceEndpoint[];
  ports: PortEntry[];
}

interface SrvTarget {
  port: number;
  /** A label under the service (`web-0`, `10-0-0-1`). */
  host: string;
}

/** What a headless Service answers, derived from its slices whenever the Service or one of them changes. */
interface HeadlessView {
  addresses: Address[];
  hosts: Map<string, Address[]>;
  /** `_port._proto` -> targets. */
  srv: Map<string, SrvTarget[]>;
}

interface PodEntry {
  namespace: string;
  addresses: Address[];
  hostname: string | undefined;
  subdomain: string | undefined;
  ready: boolean;
}

interface NameNode {
  records: RecordData[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EMPTY: NameNode = { records: [] };

function addressesOf(texts: readonly (string | undefined)[]): Address[] {
  const out: Address[] = [];
  const seen = new Set<string>();
  for (const t of texts) {
    if (t === undefined) continue;
    const a = normalizeIP(t);
    if (a === undefined || seen.has(a.ip)) continue;
    seen.add(a.ip);
    out.push(a);
  }
  return out;
}

function addressRecord(a: Address): RecordData {
  return a.family === 4 ? { type: 'A', address: a.ip } : { type: 'AAAA', address: a.ip };
}

function protoLabel(protocol: string | undefined): string {
  return (protocol ?? 'TCP').toLowerCase();
}

function namedPorts(ports: readonly { name?: string; protocol?: string; port?: number }[] | null | undefined): PortEntry[] {
  const out: PortEntry[] = [];
  for (const p of ports ?? []) {
    if (p.name === undefined || p.name === '' || p.port === undefined) continue;
    out.push({ name: p.name.toLowerCase(), proto: protoLabel(p.protocol), port: p.port });
  }
  return out;
}

function srvWeight(count: number): number {
  return Math.max(1, Math.floor(100 / Math.max(1, count)));
}

function podIsReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function podIsTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export class ClusterZone {
  readonly domain: string;
  readonly ttl: number;
  readonly negativeTtl: number;
  readonly podMode: PodRecordMode;
  readonly #zoneLabels: string[];
  readonly #nameservers: Address[];
  readonly #maxChain: number;
  #serial: number;

  /** namespace -> service name -> entry. */
  readonly #services = new Map<string, Map<string, ServiceEntry>>();
  /** `ns/slice` -> entry. */
  readonly #slices = new Map<string, SliceEntry>();
  /** `ns/service` -> slice keys. */
  readonly #slicesByService = new Map<string, Set<string>>();
  /** `ns/service` -> view, for headless Services with at least one published endpoint. */
  readonly #views = new Map<string, HeadlessView>();
  /** `ns/pod` -> entry. */
  readonly #pods = new Map<string, PodEntry>();
  /** namespace -> pod IP -> number of pods with it. */
  readonly #podIPs = new Map<string, Map<string, number>>();
  /** `ns/subdomain` -> hostname -> pod keys. */
  readonly #podHosts = new Map<string, Map<string, Set<string>>>();
  /** IP -> PTR target -> references. */
  readonly #ptr = new Map<string, Map<string, number>>();
  /** `ns/service` -> the (ip, target) pairs it contributed to #ptr. */
  readonly #ptrBySource = new Map<string, [string, string][]>();

  constructor(options: ClusterZoneOptions = {}) {
    this.domain = canonicalName(options.domain ?? 'cluster.local');
    this.#zoneLabels = splitLabels(this.domain);
    this.ttl = options.ttl ?? 5;
    this.negativeTtl = options.negativeTtl ?? this.ttl;
    this.podMode = options.podMode ?? 'insecure';
    this.#nameservers = addressesOf(options.nameserverAddresses ?? []);
    this.#serial = (options.initialSerial ?? 1) >>> 0;
    this.#maxChain = options.maxCnameChain ?? 8;
  }

  get serial(): number {
    return this.#serial;
  }

  #touch(): void {
    this.#serial = (this.#serial + 1) >>> 0;
  }

  stats(): ClusterZoneStats {
    let services = 0;
    for (const m of this.#services.values()) services += m.size;
    return { services, endpointSlices: this.#slices.size, pods: this.#pods.size, headlessViews: this.#views.size, ptrAddresses: this.#ptr.size, serial: this.#serial };
  }

  // ------------------------------------------------------------------------------------------- updates

  upsertService(svc: Service): void {
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    if (name === undefined) return;
    const spec = svc.spec ?? {};
    let kind: ServiceKind;
    let addresses: Address[] = [];
    if (spec.type === 'ExternalName') kind = 'externalName';
    else if (spec.clusterIP === 'None') kind = 'headless';
    else {
      addresses = addressesOf(spec.clusterIPs !== undefined && spec.clusterIPs.length > 0 ? spec.clusterIPs : [spec.clusterIP]);
      kind = addresses.length > 0 ? 'clusterIP' : 'pending';
    }
    const entry: ServiceEntry = {
      namespace,
      name,
      kind,
      addresses,
      externalName: kind === 'externalName' ? canonicalName(spec.externalName ?? '') : '',
      ports: namedPorts(spec.ports),
      publishNotReady: spec.publishNotReadyAddresses === true || svc.metadata.annotations?.[TOLERATE_UNREADY_ANNOTATION] === 'true',
    };
    let inNs = this.#services.get(namespace);
    if (inNs === undefined) this.#services.set(namespace, (inNs = new Map()));
    inNs.set(name, entry);
    this.#refreshService(namespace, name);
    this.#touch();
  }

  deleteService(svc: Service | { namespace: string; name: string }): void {
    const { namespace, name } = 'metadata' in svc ? { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name ?? '' } : svc;
    const inNs = this.#services.get(namespace);
    if (inNs?.delete(name) !== true) return;
    if (inNs.size === 0) this.#services.delete(namespace);
    this.#refreshService(namespace, name);
    this.#touch();
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const namespace = slice.metadata.namespace ?? 'default';
    const sliceName = slice.metadata.name;
    if (sliceName === undefined) return;
    const key = `${namespace}/${sliceName}`;
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const endpoints: SliceEndpoint[] = [];
    if (slice.addressType !== 'FQDN') {
      for (const ep of slice.endpoints ?? []) {
        const addresses = addressesOf(ep.addresses);
        if (addresses.length === 0) continue;
        endpoints.push({ addresses, hostname: ep.hostname?.toLowerCase(), ready: ep.conditions?.ready !== false });
      }
    }
    const entry: SliceEntry = { namespace, service, endpoints, ports: namedPorts(slice.ports) };
    const previous = this.#slices.get(key);
    this.#slices.set(key, entry);
    if (previous?.service !== undefined && previous.service !== service) {
      this.#unlinkSlice(namespace, previous.service, key);
      this.#refreshService(namespace, previous.service);
    }
    if (service !== undefined) {
      const svcKey = `${namespace}/${service}`;
      let set = this.#slicesByService.get(svcKey);
      if (set === undefined) this.#slicesByService.set(svcKey, (set = new Set()));
      set.add(key);
      this.#refreshService(namespace, service);
    }
    this.#touch();
  }

  deleteEndpointSlice(slice: EndpointSlice | { namespace: string; name: string }): void {
    const { namespace, name } = 'metadata' in slice ? { namespace: slice.metadata.namespace ?? 'default', name: slice.metadata.name ?? '' } : slice;
    const key = `${namespace}/${name}`;
    const previous = this.#slices.get(key);
    if (previous === undefined) return;
    this.#slices.delete(key);
    if (previous.service !== undefined) {
      this.#unlinkSlice(namespace, previous.service, key);
      this.#refreshService(namespace, previous.service);
    }
    this.#touch();
  }

  upsertPod(pod: Pod): void {
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    if (name === undefined) return;
    const key = `${namespace}/${name}`;
    this.#removePod(key);
    if (podIsTerminal(pod)) {
      this.#touch();
      return;
    }
    const podIPs = pod.status?.podIPs?.map((p) => p.ip) ?? [];
    const entry: PodEntry = {
      namespace,
      addresses: addressesOf(podIPs.length > 0 ? podIPs : [pod.status?.podIP]),
      hostname: pod.spec?.hostname?.toLowerCase(),
      subdomain: pod.spec?.subdomain?.toLowerCase(),
      ready: podIsReady(pod),
    };
    this.#pods.set(key, entry);
    let ips = this.#podIPs.get(namespace);
    if (ips === undefined) this.#podIPs.set(namespace, (ips = new Map()));
    for (const a of entry.addresses) ips.set(a.ip, (ips.get(a.ip) ?? 0) + 1);
    if (entry.hostname !== undefined && entry.subdomain !== undefined) {
      const sub = `${namespace}/${entry.subdomain}`;
      let hosts = this.#podHosts.get(sub);
      if (hosts === undefined) this.#podHosts.set(sub, (hosts = new Map()));
      let keys = hosts.get(entry.hostname);
      if (keys === undefined) hosts.set(entry.hostname, (keys = new Set()));
      keys.add(key);
    }
    this.#touch();
  }

  deletePod(pod: Pod | { namespace: string; name: string }): void {
    const { namespace, name } = 'metadata' in pod ? { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' } : pod;
    if (this.#removePod(`${namespace}/${name}`)) this.#touch();
  }

  /** Drops everything (e.g. before a full relist by a caller that does not diff). */
  clear(): void {
    this.#services.clear();
    this.#slices.clear();
    this.#slicesByService.clear();
    this.#views.clear();
    this.#pods.clear();
    this.#podIPs.clear();
    this.#podHosts.clear();
    this.#ptr.clear();
    this.#ptrBySource.clear();
    this.#touch();
  }

  #removePod(key: string): boolean {
    const entry = this.#pods.get(key);
    if (entry === undefined) return false;
    this.#pods.delete(key);
    const ips = this.#podIPs.get(entry.namespace);
    if (ips !== undefined) {
      for (const a of entry.addresses) {
        const n = (ips.get(a.ip) ?? 0) - 1;
        if (n <= 0) ips.delete(a.ip);
        else ips.set(a.ip, n);
      }
      if (ips.size === 0) this.#podIPs.delete(entry.namespace);
    }
    if (entry.hostname !== undefined && entry.subdomain !== undefined) {
      const sub = `${entry.namespace}/${entry.subdomain}`;
      const hosts = this.#podHosts.get(sub);
      const keys = hosts?.get(entry.hostname);
      keys?.delete(key);
      if (keys !== undefined && keys.size === 0) hosts?.delete(entry.hostname);
      if (hosts !== undefined && hosts.size === 0) this.#podHosts.delete(sub);
    }
    return true;
  }

  #unlinkSlice(namespace: string, service: string, sliceKey: string): void {
    const svcKey = `${namespace}/${service}`;
    const set = this.#slicesByService.get(svcKey);
    set?.delete(sliceKey);
    if (set !== undefined && set.size === 0) this.#slicesByService.delete(svcKey);
  }

  /** Rebuilds the headless view and the PTR contributions of one Service from its entry and slices. */
  #refreshService(namespace: string, name: string): void {
    const svcKey = `${namespace}/${name}`;
    const svc = this.#services.get(namespace)?.get(name);
    const fqdn = `${name}.${namespace}.svc.${this.domain}`;
    const ptrs: [string, string][] = [];
    this.#views.delete(svcKey);
    if (svc?.kind === 'clusterIP') {
      for (const a of svc.addresses) ptrs.push([a.ip, fqdn]);
    } else if (svc?.kind === 'headless') {
      const view: HeadlessView = { addresses: [], hosts: new Map(), srv: new Map() };
      const seenAddress = new Set<string>();
      const seenTarget = new Set<string>();
      for (const sliceKey of this.#slicesByService.get(svcKey) ?? []) {
        const slice = this.#slices.get(sliceKey);
        if (slice === undefined) continue;
        for (const ep of slice.endpoints) {
          if (!ep.ready && !svc.publishNotReady) continue;
          const hostsOfEndpoint: string[] = [];
          for (const a of ep.addresses) {
            const host = ep.hostname ?? dashedIP(a.ip);
            if (!hostsOfEndpoint.includes(host)) hostsOfEndpoint.push(host);
            let hostAddrs = view.hosts.get(host);
            if (hostAddrs === undefined) view.hosts.set(host, (hostAddrs = []));
            if (!hostAddrs.some((x) => x.ip === a.ip)) {
              hostAddrs.push(a);
              ptrs.push([a.ip, `${host}.${fqdn}`]);
            }
            if (!seenAddress.has(a.ip)) {
              seenAddress.add(a.ip);
              view.addresses.push(a);
            }
          }
          for (const p of slice.ports) {
            const srvKey = `_${p.name}._${p.proto}`;
            let targets = view.srv.get(srvKey);
            if (targets === undefined) view.srv.set(srvKey, (targets = []));
            for (const host of hostsOfEndpoint) {
              const targetKey = `${srvKey}|${host}|${p.port}`;
              if (seenTarget.has(targetKey)) continue;
              seenTarget.add(targetKey);
              targets.push({ port: p.port, host });
            }
          }
        }
      }
      if (view.addresses.length > 0) this.#views.set(svcKey, view);
    }
    // Replace this Service's PTR contributions.
    for (const [ip, target] of this.#ptrBySource.get(svcKey) ?? []) {
      const targets = this.#ptr.get(ip);
      if (targets === undefined) continue;
      const n = (targets.get(target) ?? 0) - 1;
      if (n <= 0) targets.delete(target);
      else targets.set(target, n);
      if (targets.size === 0) this.#ptr.delete(ip);
    }
    if (ptrs.length === 0) this.#ptrBySource.delete(svcKey);
    else {
      this.#ptrBySource.set(svcKey, ptrs);
      for (const [ip, target] of ptrs) {
        let targets = this.#ptr.get(ip);
        if (targets === undefined) this.#ptr.set(ip, (targets = new Map()));
        targets.set(target, (targets.get(target) ?? 0) + 1);
      }
    }
  }

  // ------------------------------------------------------------------------------------------- answers

  /** Whether a name (any case, trailing dot optional) is at or under the cluster domain. */
  isInZone(name: string): boolean {
    return this.#relative(splitLabels(name)) !== undefined;
  }

  /** The SOA record of the zone (also sent in the authority section of negative answers). */
  soa(): ResourceRecord {
    return {
      name: this.domain,
      ttl: this.negativeTtl,
      data: { type: 'SOA', mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: this.#serial, refresh: 7200, retry: 1800, expire: 86400, minimum: this.negativeTtl },
    };
  }

  resolve(question: DnsQuestion): Resolution {
    const labels = splitLabels(question.name);
    const rel = this.#relative(labels);
    if (rel !== undefined) return this.#answerInZone(question, rel);
    if (isReverseName(labels) && (question.type === RRType.PTR || question.type === RRType.ANY)) {
      const ip = ipFromReverseLabels(labels);
      const targets = ip === undefined ? undefined : this.#ptr.get(ip);
      if (targets !== undefined && targets.size > 0) {
        const owner = stripDot(question.name);
        const answer: ResourceRecord[] = [...targets.keys()].sort().map((target) => ({ name: owner, ttl: this.ttl, data: { type: 'PTR', target } }));
        return { kind: 'answer', rcode: 'NOERROR', answer, authority: [], additional: [] };
      }
    }
    return { kind: 'forward' };
  }

  /** Labels below the zone, or undefined when the name is not in it. */
  #relative(labels: string[]): string[] | undefined {
    const z = this.#zoneLabels;
    if (labels.length < z.length) return undefined;
    const offset = labels.length - z.length;
    for (let i = 0; i < z.length; i++) if (labels[offset + i] !== z[i]) return undefined;
    return labels.slice(0, offset);
  }

  #answerInZone(question: DnsQuestion, firstRel: string[]): AuthoritativeAnswer {
    const chain: ResourceRecord[] = [];
    let owner = stripDot(question.name);
    let rel = firstRel;
    const type = question.type;
    for (let hop = 0; ; hop++) {
      const node = this.#node(rel);
      if (node === undefined) return { kind: 'answer', rcode: 'NXDOMAIN', answer: chain, authority: [this.soa()], additional: [] };
      const cname = node.records.find((r) => r.type === 'CNAME');
      if (cname !== undefined && cname.type === 'CNAME' && type !== RRType.CNAME && type !== RRType.ANY) {
        chain.push({ name: owner, ttl: this.ttl, data: cname });
        const targetRel = this.#relative(splitLabels(cname.target));
        if (targetRel === undefined) {
          const answer: AuthoritativeAnswer = { kind: 'answer', rcode: 'NOERROR', answer: chain, authority: [], additional: [] };
          if (cname.target !== '') answer.chase = { name: cname.target, type };
          return answer;
        }
        if (hop + 1 >= this.#maxChain) return { kind: 'answer', rcode: 'NOERROR', answer: chain, authority: [], additional: [] };
        owner = cname.target;
        rel = targetRel;
        continue;
      }
      const matching = type === RRType.ANY ? node.records : node.records.filter((r) => RRType[r.type] === type);
      if (matching.length === 0) return { kind: 'answer', rcode: 'NOERROR', answer: chain, authority: [this.soa()], additional: [] };
      const answer = [...chain, ...matching.map((data) => ({ name: owner, ttl: data.type === 'SOA' ? this.negativeTtl : this.ttl, data }))];
      return { kind: 'answer', rcode: 'NOERROR', answer, authority: [], additional: this.#additionalFor(matching) };
    }
  }

  /** A/AAAA records of in-zone SRV and NS targets, for the additional section. */
  #additionalFor(records: readonly RecordData[]): ResourceRecord[] {
    const out: ResourceRecord[] = [];
    const done = new Set<string>();
    for (const r of records) {
      if (r.type !== 'SRV' && r.type !== 'NS') continue;
      if (done.has(r.target)) continue;
      done.add(r.target);
      const rel = this.#relative(splitLabels(r.target));
      if (rel === undefined) continue;
      const node = this.#node(rel);
      for (const d of node?.records ?? []) if (d.type === 'A' || d.type === 'AAAA') out.push({ name: r.target, ttl: this.ttl, data: d });
    }
    return out;
  }

  /** The records at a name given by its labels below the zone; undefined when the name does not exist. */
  #node(rel: readonly string[]): NameNode | undefined {
    const n = rel.length;
    if (n === 0) return { records: [this.soa().data, { type: 'NS', target: `ns.dns.${this.domain}` }] };
    const top = rel[n - 1];
    if (n === 1 && top === 'dns-version') return { records: [{ type: 'TXT', texts: [DNS_SCHEMA_VERSION] }] };
    if (top === 'dns') {
      if (n === 1) return EMPTY;
      if (n === 2 && rel[0] === 'ns') return { records: this.#nameservers.map(addressRecord) };
      return undefined;
    }
    if (top === 'svc') return this.#serviceNode(rel);
    if (top === 'pod') return this.#podNode(rel);
    return undefined;
  }

  #serviceNode(rel: readonly string[]): NameNode | undefined {
    const n = rel.length;
    if (n === 1) return EMPTY;
    const namespace = rel[n - 2] ?? '';
    const inNs = this.#services.get(namespace);
    if (inNs === undefined) return undefined;
    if (n === 2) return EMPTY;
    const name = rel[n - 3] ?? '';
    const svc = inNs.get(name);
    if (svc === undefined) return undefined;
    const svcKey = `${namespace}/${name}`;
    const fqdn = `${name}.${namespace}.svc.${this.domain}`;
    const view = svc.kind === 'headless' ? this.#views.get(svcKey) : undefined;
    if (n === 3) {
      switch (svc.kind) {
        case 'clusterIP':
          return { records: svc.addresses.map(addressRecord) };
        case 'externalName':
          return { records: svc.externalName === '' ? [] : [{ type: 'CNAME', target: svc.externalName }] };
        case 'pending':
          return EMPTY;
        case 'headless':
          if (view !== undefined) return { records: view.addresses.map(addressRecord) };
          return this.#podHostsOf(svc).size > 0 ? EMPTY : undefined;
      }
    }
    const label = rel[n - 4] ?? '';
    if (n === 4) {
      if (label.startsWith('_')) {
        const proto = label.slice(1);
        const has = svc.kind === 'headless' ? [...(view?.srv.keys() ?? [])].some((k) => k.endsWith(`._${proto}`)) : svc.ports.some((p) => p.proto === proto);
        return has ? EMPTY : undefined;
      }
      if (svc.kind !== 'headless') return undefined;
      const addresses: Address[] = [...(view?.hosts.get(label) ?? [])];
      for (const a of this.#podHostsOf(svc).get(label) ?? []) if (!addresses.some((x) => x.ip === a.ip)) addresses.push(a);
      return addresses.length > 0 ? { records: addresses.map(addressRecord) } : undefined;
    }
    if (n === 5) {
      const portLabel = rel[0] ?? '';
      if (!portLabel.startsWith('_') || !label.startsWith('_')) return undefined;
      const portName = portLabel.slice(1);
      const proto = label.slice(1);
      let records: RecordData[];
      if (svc.kind === 'headless') {
        const targets = view?.srv.get(`_${portName}._${proto}`) ?? [];
        const weight = srvWeight(targets.length);
        records = targets.map((t) => ({ type: 'SRV', priority: 0, weight, port: t.port, target: `${t.host}.${fqdn}` }));
      } else {
        const ports = svc.ports.filter((p) => p.name === portName && p.proto === proto);
        const target = svc.kind === 'externalName' ? svc.externalName : fqdn;
        const weight = srvWeight(ports.length);
        records = svc.kind === 'pending' || target === '' ? [] : ports.map((p) => ({ type: 'SRV', priority: 0, weight, port: p.port, target }));
      }
      return records.length > 0 ? { records } : undefined;
    }
    return undefined;
  }

  /** Hostnames of pods whose spec.subdomain names this headless Service, with their published addresses. */
  #podHostsOf(svc: ServiceEntry): Map<string, Address[]> {
    const out = new Map<string, Address[]>();
    const hosts = this.#podHosts.get(`${svc.namespace}/${svc.name}`);
    if (hosts === undefined) return out;
    for (const [hostname, keys] of hosts) {
      const addresses: Address[] = [];
      for (const key of keys) {
        const pod = this.#pods.get(key);
        if (pod === undefined || (!pod.ready && !svc.publishNotReady)) continue;
        for (const a of pod.addresses) if (!addresses.some((x) => x.ip === a.ip)) addresses.push(a);
      }
      if (addresses.length > 0) out.set(hostname, addresses);
    }
    return out;
  }

  #podNode(rel: readonly string[]): NameNode | undefined {
    const n = rel.length;
    if (n === 1) return EMPTY;
    if (this.podMode === 'disabled') return undefined;
    const namespace = rel[n - 2] ?? '';
    if (!DNS_LABEL.test(namespace)) return undefined;
    if (n === 2) {
      if (this.podMode === 'insecure') return EMPTY;
      return this.#podIPs.has(namespace) ? EMPTY : undefined;
    }
    if (n !== 3) return undefined;
    const a = parseDashedIP(rel[0] ?? '');
    if (a === undefined) return undefined;
    if (this.podMode === 'verified' && this.#podIPs.get(namespace)?.has(a.ip) !== true) return undefined;
    return { records: [addressRecord(a)] };
  }
}

function stripDot(name: string): string {
  return name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
}
