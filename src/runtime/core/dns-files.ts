// The per-pod /etc/resolv.conf and /etc/hosts, rendered as the kubelet builds them. Pure.
//
// resolv.conf by dnsPolicy:
//   ClusterFirst (not hostNetwork) — nameservers = the cluster DNS IPs; search = <ns>.svc.<domain>,
//     svc.<domain>, <domain>, then the host's search domains; options ndots:5. Without cluster DNS IPs the
//     kubelet falls back to Default.
//   ClusterFirstWithHostNet — as ClusterFirst.  ClusterFirst with hostNetwork — as Default.
//   Default — the host's resolv.conf (nameservers, search, options).
//   None — empty; everything comes from dnsConfig.
// dnsConfig is then appended: nameservers and searches de-duplicated in order, options merged by name
// (the pod's value wins). Limits: 3 nameservers, 32 search domains (the kubelet trims beyond).
import type { PodDNSConfig, PodSpec } from '../../api/types.ts';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;

/** Parse resolv.conf text (nameserver / search / domain / options lines). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] !== undefined) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.slice();
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function mergeOptions(existing: readonly string[], podOptions: PodDNSConfig['options']): string[] {
  const map = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    if (i >= 0) map.set(op.slice(0, i), op.slice(i + 1));
    else map.set(op, '');
  }
  for (const op of podOptions ?? []) map.set(op.name, op.value ?? '');
  return [...map].map(([k, v]) => (v === '' ? k : `${k}:${v}`));
}

export interface DnsContext {
  namespace: string;
  clusterDomain: string;
  clusterDNS: readonly string[];
  host: ResolvConf;
}

export function podResolvConf(spec: PodSpec, ctx: DnsContext): ResolvConf {
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork === true) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && ctx.clusterDNS.length === 0) policy = 'Default';
  let base: ResolvConf;
  switch (policy) {
    case 'None':
      base = { nameservers: [], searches: [], options: [] };
      break;
    case 'Default':
      base = { nameservers: [...ctx.host.nameservers], searches: [...ctx.host.searches], options: [...ctx.host.options] };
      break;
    default: {
      const d = ctx.clusterDomain;
      base = {
        nameservers: [...ctx.clusterDNS],
        searches: unique([`${ctx.namespace}.svc.${d}`, `svc.${d}`, d, ...ctx.host.searches]),
        options: ['ndots:5'],
      };
    }
  }
  const cfg = spec.dnsConfig;
  if (cfg !== undefined) {
    base = {
      nameservers: unique([...base.nameservers, ...(cfg.nameservers ?? [])]),
      searches: unique([...base.searches, ...(cfg.searches ?? [])]),
      options: mergeOptions(base.options, cfg.options),
    };
  }
  return {
    nameservers: base.nameservers.slice(0, MAX_NAMESERVERS),
    searches: base.searches.slice(0, MAX_SEARCHES),
    options: base.options,
  };
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  if (conf.searches.length > 0) lines.push(`search ${conf.searches.join(' ')}`);
  for (const ns of conf.nameservers) lines.push(`nameserver ${ns}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The pod's hostname and (when a subdomain is set) its domain, as the kubelet derives them. */
export function podHostname(podName: string, spec: PodSpec, namespace: string, clusterDomain: string): { hostname: string; domain?: string; fqdn?: string } {
  const hostname = (spec.hostname !== undefined && spec.hostname !== '' ? spec.hostname : podName).slice(0, 63).replace(/[-.]+$/, '');
  if (spec.subdomain === undefined || spec.subdomain === '') return { hostname };
  const domain = `${spec.subdomain}.${namespace}.svc.${clusterDomain}`;
  return { hostname, domain, fqdn: `${hostname}.${domain}` };
}

/** The hostname the UTS namespace carries: the FQDN when setHostnameAsFQDN asks for it. */
export function utsHostname(podName: string, spec: PodSpec, namespace: string, clusterDomain: string): string {
  const h = podHostname(podName, spec, namespace, clusterDomain);
  return spec.setHostnameAsFQDN === true && h.fqdn !== undefined ? h.fqdn.slice(0, 64) : h.hostname;
}

/** The kubelet-managed /etc/hosts. */
export function renderHostsFile(podIPs: readonly string[], podName: string, spec: PodSpec, namespace: string, clusterDomain: string): string {
  const h = podHostname(podName, spec, namespace, clusterDomain);
  let out = '# Kubernetes-managed hosts file.\n' +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) {
    out += h.domain !== undefined ? `${ip}\t${h.hostname}.${h.domain}\t${h.hostname}\n` : `${ip}\t${h.hostname}\n`;
  }
  const aliases = spec.hostAliases ?? [];
  if (aliases.length > 0) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}
