// Upstream-compatible chain and set names. nftables mode: `service-<HASH8>-ns/name/proto/port`,
// `endpoint-<HASH8>-ns/name/proto/port__ip/port` (HASH8 = base32(sha256(rest))[:8]); iptables mode:
// `KUBE-SVC-<HASH16>` with HASH16 = base32(sha256(servicePortName + protocol))[:16] and
// `KUBE-SEP-<HASH16>` over servicePortName + protocol + "ip:port".
import { base32, sha256 } from './hash.ts';
import { servicePortNameString, type EndpointInfo, type ServicePortInfo } from './service-ports.ts';

const NFT_NAME_MAX = 256;
const NFT_PREFIX_MAX = 16;
const NFT_BASE_MAX = NFT_NAME_MAX - NFT_PREFIX_MAX;

function hashAndTruncate(name: string): string {
  const full = base32(sha256(name)).slice(0, 8) + '-' + name;
  return full.length > NFT_BASE_MAX ? full.slice(0, NFT_BASE_MAX - 3) + '...' : full;
}

/** `HASH-ns/name/proto/portName`, the base of a service port's nftables chain names. */
export function nftServiceBase(sp: Pick<ServicePortInfo, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return hashAndTruncate(`${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}`);
}

/** `HASH-ns/name/proto/portName__ip/port`, the base of an endpoint's chain and affinity set names. */
export function nftEndpointBase(sp: Pick<ServicePortInfo, 'namespace' | 'name' | 'protocol' | 'portName'>, ep: Pick<EndpointInfo, 'ip' | 'port'>): string {
  return hashAndTruncate(`${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}__${ep.ip}/${ep.port}`);
}

export interface NftServiceNames {
  readonly cluster: string;
  readonly local: string;
  readonly external: string;
  readonly firewall: string;
}

export function nftServiceNames(sp: ServicePortInfo): NftServiceNames {
  const base = nftServiceBase(sp);
  return { cluster: `service-${base}`, local: `local-${base}`, external: `external-${base}`, firewall: `firewall-${base}` };
}

export function nftEndpointNames(sp: ServicePortInfo, ep: EndpointInfo): { chain: string; affinitySet: string } {
  const base = nftEndpointBase(sp, ep);
  return { chain: `endpoint-${base}`, affinitySet: `affinity-${base}` };
}

/** base32(sha256(servicePortName + protocol))[:16] */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return base32(sha256(servicePortName + protocol)).slice(0, 16);
}

export interface IptServiceNames { readonly svc: string; readonly svl: string; readonly ext: string; readonly fw: string }

export function iptServiceNames(sp: ServicePortInfo): IptServiceNames {
  const h = portProtoHash(servicePortNameString(sp), sp.protocol);
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

export function iptEndpointChain(sp: ServicePortInfo, ep: Pick<EndpointInfo, 'ip' | 'port'>): string {
  return 'KUBE-SEP-' + base32(sha256(servicePortNameString(sp) + sp.protocol + `${ep.ip}:${ep.port}`)).slice(0, 16);
}
