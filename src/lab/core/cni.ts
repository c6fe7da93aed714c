// CNI as data: the per-node network configuration list, the per-plugin configuration a runtime hands each
// plugin (libcni's rules: the list's `name`/`cniVersion` copied in, `prevResult` chained, `runtimeConfig`
// filled from the capabilities the plugin declares), CNI_ARGS as containerd sets them, result parsing and the
// on-disk result cache record (libcni's `cniCacheV1` layout).
import { LabError } from './errors.ts';
import { POD_BRIDGE } from './names.ts';

export const CNI_VERSION = '1.0.0';
export const POD_NETWORK_NAME = 'flatnet';
export const LOOPBACK_NETWORK_NAME = 'cni-loopback';
export const CONFLIST_FILE = '10-flatnet.conflist';
export const CNI_PLUGIN_DIR = '/usr/lib/cni';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface PluginConf extends JsonObject {
  type: string;
}

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** The node's pod network: bridge (cni0, gateway, hairpin, no masquerade) + host-local IPAM, then portmap. */
export function podNetworkConfigList(opts: { podCIDR: string; dataDir: string; mtu: number }): NetworkConfigList {
  return {
    cniVersion: CNI_VERSION,
    name: POD_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        hairpinMode: true,
        ipMasq: false,
        mtu: opts.mtu,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: opts.podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: opts.dataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** containerd's built-in loopback network, run with CNI_IFNAME=lo. */
export function loopbackConfigList(): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: LOOPBACK_NETWORK_NAME, plugins: [{ type: 'loopback' }] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isRecord(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}

/** Narrows a parsed conflist; throws Corrupt. */
export function parseConfigList(value: unknown): NetworkConfigList {
  if (!isRecord(value) || typeof value.cniVersion !== 'string' || typeof value.name !== 'string' || !Array.isArray(value.plugins)) {
    throw new LabError('Corrupt', 'CNI conflist needs cniVersion, name and plugins');
  }
  const plugins: PluginConf[] = value.plugins.map((p: unknown) => {
    if (!isRecord(p) || typeof p.type !== 'string' || !isJsonValue(p)) throw new LabError('Corrupt', 'CNI conflist: a plugin has no type');
    return { ...(p as JsonObject), type: p.type };
  });
  if (plugins.length === 0) throw new LabError('Corrupt', 'CNI conflist has no plugins');
  return { cniVersion: value.cniVersion, name: value.name, plugins };
}

/** Runtime capability arguments (libcni's CapabilityArgs); only those a plugin declares reach it. */
export type CapabilityArgs = { portMappings?: PortMapping[] };

/**
 * The stdin bytes for one plugin of a list: the plugin's own config with the list's name and cniVersion,
 * the previous result when there is one, and `runtimeConfig` for each capability the plugin declares
 * `true` and the runtime supplies.
 */
export function pluginStdin(list: NetworkConfigList, plugin: PluginConf, prevResult: CniResult | undefined, caps: CapabilityArgs): string {
  const conf: JsonObject = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  delete conf.capabilities;
  const declared = isRecord(plugin.capabilities) ? plugin.capabilities : {};
  const runtimeConfig: JsonObject = {};
  if (declared.portMappings === true && caps.portMappings !== undefined) {
    runtimeConfig.portMappings = caps.portMappings.map((m) => {
      const entry: JsonObject = { hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol };
      if (m.hostIP !== undefined) entry.hostIP = m.hostIP;
      return entry;
    });
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (plugin.capabilities !== undefined) conf.capabilities = plugin.capabilities;
  if (prevResult !== undefined) conf.prevResult = prevResult.raw;
  return JSON.stringify(conf);
}

/** CNI_ARGS as containerd passes them for a Kubernetes pod sandbox. */
export function kubernetesCniArgs(p: { podNamespace: string; podName: string; containerId: string; podUid: string }): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', p.podNamespace],
    ['K8S_POD_NAME', p.podName],
    ['K8S_POD_INFRA_CONTAINER_ID', p.containerId],
    ['K8S_POD_UID', p.podUid],
  ];
}

export const formatCniArgs = (args: readonly (readonly [string, string])[]): string => args.map(([k, v]) => `${k}=${v}`).join(';');

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  /** The result exactly as the plugin printed it (passed on as prevResult and cached). */
  raw: JsonObject;
}

/** Narrows a plugin's stdout (parsed) into a CNI 1.0 result; throws Corrupt. */
export function parseCniResult(value: unknown): CniResult {
  if (!isRecord(value) || !isJsonValue(value) || typeof value.cniVersion !== 'string') {
    throw new LabError('Corrupt', 'CNI result is not an object with cniVersion');
  }
  const interfaces: CniInterface[] = [];
  for (const i of Array.isArray(value.interfaces) ? value.interfaces : []) {
    if (!isRecord(i) || typeof i.name !== 'string') continue;
    const iface: CniInterface = { name: i.name };
    if (typeof i.mac === 'string') iface.mac = i.mac;
    if (typeof i.sandbox === 'string') iface.sandbox = i.sandbox;
    interfaces.push(iface);
  }
  const ips: CniIpConfig[] = [];
  for (const ip of Array.isArray(value.ips) ? value.ips : []) {
    if (!isRecord(ip) || typeof ip.address !== 'string') continue;
    const conf: CniIpConfig = { address: ip.address };
    if (typeof ip.gateway === 'string') conf.gateway = ip.gateway;
    if (typeof ip.interface === 'number') conf.interface = ip.interface;
    ips.push(conf);
  }
  return { cniVersion: value.cniVersion, interfaces, ips, raw: value as JsonObject };
}

export interface PodAttachment {
  /** The pod's IPv4 address (no prefix). */
  ip: string;
  prefixLength: number;
  gateway: string;
  /** The pod-side interface (eth0) MAC. */
  mac: string;
  /** The node-side veth (vethXXXXXXXX) attached to cni0. */
  hostVeth: string;
}

/** Where the pod landed: the IPv4 on the sandbox interface `ifname`, its gateway and the node-side veth. */
export function podAttachment(result: CniResult, ifname: string): PodAttachment {
  const podIfIndex = result.interfaces.findIndex((i) => i.name === ifname && i.sandbox !== undefined);
  if (podIfIndex < 0) throw new LabError('CniFailed', `CNI result has no sandbox interface ${ifname}`);
  const ipConf = result.ips.find((c) => c.interface === podIfIndex && !c.address.includes(':'));
  if (ipConf === undefined) throw new LabError('CniFailed', `CNI result has no IPv4 address on ${ifname}`);
  const [ip = '', prefix = ''] = ipConf.address.split('/');
  const hostVeth = result.interfaces.find((i) => i.sandbox === undefined && i.name !== POD_BRIDGE);
  if (hostVeth === undefined) throw new LabError('CniFailed', 'CNI result names no host-side veth');
  return {
    ip,
    prefixLength: Number(prefix),
    gateway: ipConf.gateway ?? '',
    mac: result.interfaces[podIfIndex]?.mac ?? '',
    hostVeth: hostVeth.name,
  };
}

/** A plugin's error output (CNI spec: `{cniVersion, code, msg, details}` on stdout). */
export interface CniPluginError {
  code: number;
  msg: string;
  details: string;
}

export function parseCniError(stdout: string): CniPluginError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.code !== 'number') return undefined;
  return { code: value.code, msg: typeof value.msg === 'string' ? value.msg : '', details: typeof value.details === 'string' ? value.details : '' };
}

/** libcni's cache file name: `<network>-<containerID>-<ifname>`. */
export const cacheFileName = (network: string, containerId: string, ifname: string): string => `${network}-${containerId}-${ifname}`;

/** The cached record of one attachment (libcni `cniCacheV1`): config bytes base64, args, result. */
export interface CacheRecord {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: JsonObject;
  result: JsonObject;
}

export function buildCacheRecord(p: {
  list: NetworkConfigList;
  containerId: string;
  ifName: string;
  netns: string;
  cniArgs: [string, string][];
  caps: CapabilityArgs;
  result: CniResult;
}): CacheRecord {
  const capabilityArgs: JsonObject = {};
  if (p.caps.portMappings !== undefined) {
    capabilityArgs.portMappings = p.caps.portMappings.map((m) => {
      const e: JsonObject = { hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol };
      if (m.hostIP !== undefined) e.hostIP = m.hostIP;
      return e;
    });
  }
  return {
    kind: 'cniCacheV1',
    containerId: p.containerId,
    config: btoa(JSON.stringify(p.list)),
    ifName: p.ifName,
    networkName: p.list.name,
    netns: p.netns,
    cniArgs: p.cniArgs,
    capabilityArgs,
    result: p.result.raw,
  };
}

function parsePortMappings(value: unknown): PortMapping[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: PortMapping[] = [];
  for (const m of value) {
    if (!isRecord(m) || typeof m.hostPort !== 'number' || typeof m.containerPort !== 'number') continue;
    const protocol = m.protocol === 'udp' || m.protocol === 'sctp' ? m.protocol : 'tcp';
    const mapping: PortMapping = { hostPort: m.hostPort, containerPort: m.containerPort, protocol };
    if (typeof m.hostIP === 'string') mapping.hostIP = m.hostIP;
    out.push(mapping);
  }
  return out;
}

/** Narrows a cache file; throws Corrupt. Returns the decoded config list, args and result. */
export function parseCacheRecord(value: unknown): { list: NetworkConfigList; cniArgs: [string, string][]; caps: CapabilityArgs; result: CniResult; netns: string } {
  if (!isRecord(value) || value.kind !== 'cniCacheV1' || typeof value.config !== 'string') {
    throw new LabError('Corrupt', 'CNI cache record is not cniCacheV1');
  }
  let listValue: unknown;
  try {
    listValue = JSON.parse(atob(value.config));
  } catch (err) {
    throw new LabError('Corrupt', 'CNI cache record config is not base64 JSON', { cause: err });
  }
  const cniArgs: [string, string][] = [];
  for (const pair of Array.isArray(value.cniArgs) ? value.cniArgs : []) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') cniArgs.push([pair[0], pair[1]]);
  }
  const caps: CapabilityArgs = {};
  const portMappings = isRecord(value.capabilityArgs) ? parsePortMappings(value.capabilityArgs.portMappings) : undefined;
  if (portMappings !== undefined) caps.portMappings = portMappings;
  return {
    list: parseConfigList(listValue),
    cniArgs,
    caps,
    result: parseCniResult(value.result),
    netns: typeof value.netns === 'string' ? value.netns : '',
  };
}
