// The lab: one Kubernetes cluster's network as Linux network namespaces on this machine.
//
//   root ns  fn-NAME (172.31.S.1/24) ──veth── host ┐
//   fn-NAME-lab   br0 (the underlay switch) ───────┤── n-<node> ──veth── eth0 (172.31.S.11+) fn-NAME-<node>
//                                                  └── ext ──veth── eth0 (172.31.S.254) fn-NAME-ext
//   fn-NAME-<node>: eth0, cni0 (bridge plugin, gateway = first pod address), vethXXXX per pod,
//                   flannel.1 under VXLAN, routes to every other node's Pod CIDR, default via the external.
//   fn-NAME-p-<id>: the pod's eth0 (veth peer of a vethXXXX on cni0) and lo, wired by the CNI plugins.
//
// Everything is made with `ip`/`bridge` batches (execFile, no shell), CNI plugins are exec'd inside the node
// namespace exactly as containerd does, and every name is derivable from the cluster name so
// `Lab.destroyByName` can clean up after a crash without state files. See docs/lab-network.md.
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, readdir, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CniRunner } from './cni-runner.ts';
import type { Attachment } from './cni-runner.ts';
import {
  CONFLIST_FILE,
  LOOPBACK_NETWORK_NAME,
  POD_NETWORK_NAME,
  kubernetesCniArgs,
  loopbackConfigList,
  parseCacheRecord,
  parseConfigList,
  podAttachment,
  podNetworkConfigList,
} from './core/cni.ts';
import type { CniResult, NetworkConfigList, PortMapping } from './core/cni.ts';
import { LabError } from './core/errors.ts';
import {
  LAB_EXT_PORT,
  LAB_HOST_PORT,
  NODE_UPLINK,
  UNDERLAY_BRIDGE,
  VXLAN_DEVICE,
  VXLAN_MTU,
  VXLAN_PORT,
  VXLAN_VNI,
  UNDERLAY_MTU,
  clusterNetnsPrefix,
  extNetns,
  labNetns,
  labPortName,
  markerCluster,
  netnsMarker,
  netnsPath,
  nodeNetns,
  podNetns,
  rootLink,
  rootNftTable,
  validateClusterName,
  validatePodUid,
} from './core/names.ts';
import { diffNetwork, parseFdbs, parseNeighs, parseRoutes, planNodeNetwork, planRootRoutes, vtepAddress } from './core/routes.ts';
import type { NetworkPlan } from './core/routes.ts';
import {
  externalAddress,
  hostAddress,
  parseLabState,
  pickFreeSlot,
  planCluster,
  rootRouteMetric,
  slotOfAddress,
  underlayPrefixLength,
  withNode,
  withoutNode,
} from './core/spec.ts';
import type { Backend, ClusterSpec, LabNode, LabState, NodeSpec } from './core/spec.ts';
import { bridgeBatch, ipBatch, ipJson, parseJsonLines, run, runRaw } from './exec.ts';

export { LabError } from './core/errors.ts';
export type { LabErrorCode } from './core/errors.ts';
export type { Backend, ClusterSpec, LabNode, NodeSpec } from './core/spec.ts';
export type { PortMapping } from './core/cni.ts';

/** Where lab state lives: tmpfs, like the namespaces it describes (both vanish on reboot). */
export const LAB_RUN_DIR = '/run/flatnet';
const SLOT_DIR = join(LAB_RUN_DIR, 'slots');
const STALE_CLAIM_MS = 60_000;

export type LabCreateOptions = ClusterSpec;

export interface PodSandbox {
  /** The pod's network namespace name (`ip netns` name). */
  netns: string;
  /** CNI_NETNS: /var/run/netns/<netns>. */
  netnsPath: string;
  /** The pod IP the CNI plugin assigned (on the pod's eth0). */
  ip: string;
  prefixLength: number;
  /** The pod's default gateway: cni0's address on the node. */
  gateway: string;
  ifname: 'eth0';
  /** The node-side veth attached to cni0. */
  hostVeth: string;
  /** The pod eth0 MAC. */
  mac: string;
  /** CNI_CONTAINERID used for this sandbox (the pod UID). */
  containerId: string;
  node: string;
}

export interface SyncReport {
  /** Number of route/neigh/fdb commands applied (0 when everything already agreed). */
  changes: number;
}

function isEnoent(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ENOENT';
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Names of all network namespaces (`ip -j netns list`). */
async function listNetns(): Promise<string[]> {
  const value = await ipJson(undefined, ['netns', 'list']);
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string') {
        out.push((entry as { name: string }).name);
      }
    }
  }
  return out;
}

async function netnsExists(netns: string): Promise<boolean> {
  try {
    await stat(join('/run/netns', netns));
    return true;
  } catch (err) {
    if (isEnoent(err)) return false;
    throw err;
  }
}

/** The owner marker (alias of lo) of a namespace; '' when unset, undefined when the namespace is gone. */
async function netnsMarkerOf(netns: string): Promise<string | undefined> {
  const r = await runRaw('ip', ['-n', netns, '-j', 'link', 'show', 'dev', 'lo']);
  if (r.code !== 0) return undefined;
  const docs = parseJsonLines(r.stdout);
  const first = Array.isArray(docs[0]) ? docs[0][0] : undefined;
  const alias = typeof first === 'object' && first !== null ? (first as { ifalias?: unknown }).ifalias : undefined;
  return typeof alias === 'string' ? alias : '';
}

/** PIDs of processes whose network namespace is one of the named ones (so they can be stopped). */
async function pidsInNetns(names: readonly string[]): Promise<number[]> {
  const wanted = new Set<string>();
  for (const name of names) {
    try {
      wanted.add(`net:[${(await stat(join('/run/netns', name))).ino}]`);
    } catch {
      /* already gone */
    }
  }
  if (wanted.size === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (wanted.has(await readlink(`/proc/${entry}/ns/net`))) pids.push(pid);
    } catch {
      /* exited or not ours to read */
    }
  }
  return pids;
}

/** Stops every process still running inside the named namespaces (containers of a sandbox being torn down). */
async function killNetnsProcesses(names: readonly string[]): Promise<void> {
  for (const pid of await pidsInNetns(names)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already exited */
    }
  }
}

/** Slots in use: claim files and any address of 172.31.0.0/16 already on a root-namespace link. */
async function usedSlots(): Promise<Map<number, string>> {
  const used = new Map<number, string>();
  let entries: string[] = [];
  try {
    entries = await readdir(SLOT_DIR);
  } catch (err) {
    if (!isEnoent(err)) throw err;
  }
  for (const entry of entries) {
    if (/^[0-9]+$/.test(entry)) used.set(Number(entry), (await readFile(join(SLOT_DIR, entry), 'utf8').catch(() => '')).trim());
  }
  const links = await ipJson(undefined, ['addr', 'show']);
  for (const link of Array.isArray(links) ? links : []) {
    const infos = typeof link === 'object' && link !== null ? (link as { addr_info?: unknown }).addr_info : undefined;
    for (const info of Array.isArray(infos) ? infos : []) {
      const local = typeof info === 'object' && info !== null ? (info as { local?: unknown }).local : undefined;
      const slot = typeof local === 'string' ? slotOfAddress(local) : undefined;
      if (slot !== undefined && !used.has(slot)) used.set(slot, '');
    }
  }
  return used;
}

/** A claim whose cluster left neither its root link nor its lab namespace behind, and is not fresh. */
async function claimIsStale(slot: number, owner: string): Promise<boolean> {
  if (owner === '') return false;
  try {
    const info = await stat(join(SLOT_DIR, String(slot)));
    if (Date.now() - info.mtimeMs < STALE_CLAIM_MS) return false;
  } catch {
    return false;
  }
  if (await netnsExists(labNetns(owner))) return false;
  const r = await runRaw('ip', ['link', 'show', 'dev', rootLink(owner)]);
  return r.code !== 0;
}

/** Claims the lowest free underlay slot with an O_EXCL file (safe across processes). */
async function claimSlot(name: string): Promise<number> {
  await mkdir(SLOT_DIR, { recursive: true });
  const used = await usedSlots();
  for (const [slot, owner] of used) {
    if (await claimIsStale(slot, owner)) {
      await rm(join(SLOT_DIR, String(slot)), { force: true });
      used.delete(slot);
    }
  }
  const taken = new Set(used.keys());
  for (let attempt = 0; attempt < 256; attempt++) {
    const slot = pickFreeSlot(taken);
    try {
      const handle = await open(join(SLOT_DIR, String(slot)), fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY);
      await handle.writeFile(name);
      await handle.close();
      return slot;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
      taken.add(slot);
    }
  }
  throw new LabError('NoFreeSlot', 'could not claim an underlay slot');
}

async function releaseSlots(name: string): Promise<number[]> {
  const released: number[] = [];
  let entries: string[] = [];
  try {
    entries = await readdir(SLOT_DIR);
  } catch {
    return released;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const owner = (await readFile(join(SLOT_DIR, entry), 'utf8').catch(() => '')).trim();
    if (owner === name) {
      await rm(join(SLOT_DIR, entry), { force: true });
      released.push(Number(entry));
    }
  }
  return released;
}

const nftTableText = (name: string): string => {
  const link = rootLink(name);
  return [
    `table inet ${rootNftTable(name)} {`,
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    iifname "${link}" drop`,
    `    oifname "${link}" drop`,
    '  }',
    '}',
    '',
  ].join('\n');
};

/** `ip -batch` lines (run in the node's namespace) that set a fresh node up: lo, eth0, flannel.1. */
function nodeSetupLines(state: LabState, node: LabNode): string[] {
  const lines = [
    'link set lo up',
    `link set lo alias ${netnsMarker(state.name, 'node', node.name)}`,
    `addr add ${node.ip}/${underlayPrefixLength(state.underlay)} dev ${NODE_UPLINK}`,
    `link set ${NODE_UPLINK} up`,
  ];
  if (state.backend === 'vxlan') lines.push(...vxlanSetupLines(node));
  return lines;
}

function vxlanSetupLines(node: LabNode): string[] {
  return [
    `link add ${VXLAN_DEVICE} address ${node.vxlanMac} mtu ${VXLAN_MTU} type vxlan id ${VXLAN_VNI} local ${node.ip} dev ${NODE_UPLINK} dstport ${VXLAN_PORT} nolearning`,
    `link set ${VXLAN_DEVICE} up`,
    `addr add ${vtepAddress(node.podCIDR)}/32 dev ${VXLAN_DEVICE}`,
  ];
}

const EMPTY_PLAN: NetworkPlan = { routes: [], neighs: [], fdbs: [] };

export class Lab {
  readonly name: string;
  private state: LabState;
  private readonly dir: string;
  private readonly lists = new Map<string, NetworkConfigList>();
  private readonly runners = new Map<string, CniRunner>();
  private serial: Promise<unknown> = Promise.resolve();

  private constructor(state: LabState) {
    this.name = state.name;
    this.state = state;
    this.dir = join(LAB_RUN_DIR, state.name);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Builds the cluster's namespaces, underlay, nodes, CNI configs and routes. Cleans up if any step fails. */
  static async create(opts: LabCreateOptions): Promise<Lab> {
    validateClusterName(opts.name);
    planCluster(opts, 0); // validates the whole spec before anything is touched
    if ((await netnsExists(labNetns(opts.name))) || (await runRaw('ip', ['link', 'show', 'dev', rootLink(opts.name)])).code === 0) {
      throw new LabError('AlreadyExists', `lab cluster ${opts.name} already exists (destroy it or Lab.adopt it)`);
    }
    const slot = await claimSlot(opts.name);
    const state = planCluster(opts, slot);
    const lab = new Lab(state);
    try {
      await lab.build();
    } catch (err) {
      await Lab.destroyByName(opts.name).catch(() => undefined);
      throw err;
    }
    return lab;
  }

  /** Re-attaches to a cluster made earlier (by this or another process) from its state file. */
  static async adopt(name: string): Promise<Lab> {
    validateClusterName(name);
    let text: string;
    try {
      text = await readFile(join(LAB_RUN_DIR, name, 'lab.json'), 'utf8');
    } catch (err) {
      if (isEnoent(err)) throw new LabError('NotFound', `no lab cluster ${name} (no ${join(LAB_RUN_DIR, name, 'lab.json')})`);
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new LabError('Corrupt', `lab state of ${name} is not JSON`, { cause: err });
    }
    const state = parseLabState(value);
    if (!(await netnsExists(labNetns(name)))) throw new LabError('NotFound', `lab cluster ${name} has state but no ${labNetns(name)} namespace`);
    return new Lab(state);
  }

  /** Removes everything this cluster made. Safe to call twice, and after a crash. */
  async destroy(): Promise<void> {
    await this.exclusive(() => Lab.destroyByName(this.name, this.state.slot));
  }

  /**
   * Removes every namespace (`fn-NAME-*` whose owner marker is NAME or unset), process inside them, the root
   * link, the root routes of the cluster's slot, the nft table, the state directory and the slot claim.
   * Works without state files; never touches another cluster's namespaces.
   */
  static async destroyByName(name: string, knownSlot?: number): Promise<void> {
    validateClusterName(name);
    const slots = new Set<number>();
    if (knownSlot !== undefined) slots.add(knownSlot);
    try {
      slots.add(parseLabState(JSON.parse(await readFile(join(LAB_RUN_DIR, name, 'lab.json'), 'utf8'))).slot);
    } catch {
      /* no (readable) state: find the slot from the claim file or the root link */
    }
    const link = rootLink(name);
    const linkInfo = await runRaw('ip', ['-j', 'addr', 'show', 'dev', link]);
    const linkExists = linkInfo.code === 0;
    if (linkExists) {
      for (const doc of parseJsonLines(linkInfo.stdout)) {
        for (const l of Array.isArray(doc) ? doc : []) {
          const infos = typeof l === 'object' && l !== null ? (l as { addr_info?: unknown }).addr_info : undefined;
          for (const info of Array.isArray(infos) ? infos : []) {
            const local = typeof info === 'object' && info !== null ? (info as { local?: unknown }).local : undefined;
            const slot = typeof local === 'string' ? slotOfAddress(local) : undefined;
            if (slot !== undefined) slots.add(slot);
          }
        }
      }
    }
    // Namespaces: ours by name prefix, confirmed by marker (unset marker = created by us before marking).
    const prefix = clusterNetnsPrefix(name);
    const candidates = (await listNetns()).filter((n) => n.startsWith(prefix));
    const mine: string[] = [];
    for (let i = 0; i < candidates.length; i += 16) {
      const chunk = candidates.slice(i, i + 16);
      const markers = await Promise.all(chunk.map((n) => netnsMarkerOf(n)));
      chunk.forEach((n, j) => {
        const marker = markers[j];
        if (marker === undefined) return;
        const owner = markerCluster(marker);
        if (owner === name || (owner === undefined && marker === '')) mine.push(n);
      });
    }
    await killNetnsProcesses(mine);
    const lines = mine.map((n) => `netns del ${n}`);
    if (linkExists) lines.push(`link del ${link}`);
    if (lines.length > 0) await runRaw('ip', ['-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
    // Root routes of the cluster's slot (those via the link went with it; the unreachables remain).
    for (const slot of await releaseSlots(name)) slots.add(slot);
    if (slots.size > 0) {
      const metrics = new Set([...slots].map(rootRouteMetric));
      const routes = parseRoutes(await ipJson(undefined, ['route', 'show', 'proto', '241'])).filter((r) => metrics.has(r.metric));
      const del = diffNetwork(EMPTY_PLAN, { routes, neighs: [], fdbs: [] }).ip;
      if (del.length > 0) await runRaw('ip', ['-force', '-batch', '-'], { input: del.join('\n') + '\n' });
    }
    await runRaw('nft', ['delete', 'table', 'inet', rootNftTable(name)]);
    await rm(join(LAB_RUN_DIR, name), { recursive: true, force: true });
    // Anything that survived (e.g. a namespace that was busy) is an error worth reporting.
    const left = (await listNetns()).filter((n) => mine.includes(n));
    if (left.length > 0) throw new LabError('CommandFailed', `lab ${name}: namespaces left after destroy: ${left.join(', ')}`);
  }

  // ---------------------------------------------------------------- facts

  get backend(): Backend {
    return this.state.backend;
  }
  get slot(): number {
    return this.state.slot;
  }
  /** The underlay subnet (172.31.<slot>.0/24). */
  get underlay(): string {
    return this.state.underlay;
  }
  get podCIDR(): string {
    return this.state.podCIDR;
  }
  get serviceCIDR(): string {
    return this.state.serviceCIDR;
  }
  get lbPool(): string | undefined {
    return this.state.lbPool;
  }
  /** The nodes (copies), in join order. */
  get nodes(): LabNode[] {
    return this.state.nodes.map((n) => ({ ...n }));
  }
  /** The host's address on the underlay (.1): where nodes reach the control plane. */
  hostIP(): string {
    return hostAddress(this.state.underlay);
  }
  /** The external namespace's address (.254): the lab's internet, and every node's default gateway. */
  externalIP(): string {
    return externalAddress(this.state.underlay);
  }
  /** The node's InternalIP on the underlay. */
  nodeIP(node: string): string {
    return this.node(node).ip;
  }
  nodePodCIDR(node: string): string {
    return this.node(node).podCIDR;
  }
  nodeNetns(node: string): string {
    this.node(node);
    return nodeNetns(this.name, node);
  }
  labNetns(): string {
    return labNetns(this.name);
  }
  externalNetns(): string {
    return extNetns(this.name);
  }
  /** The root-namespace end of the host veth. */
  hostLink(): string {
    return rootLink(this.name);
  }
  podNetns(podUid: string): string {
    validatePodUid(podUid);
    return podNetns(this.name, podUid);
  }
  /** The node's CNI config directory (holds 10-flatnet.conflist). */
  cniConfDir(node: string): string {
    this.node(node);
    return join(this.dir, node, 'cni', 'net.d');
  }
  /** The node's CNI result cache directory (libcni-style records). */
  cniCacheDir(node: string): string {
    this.node(node);
    return join(this.dir, node, 'cni', 'results');
  }

  // ---------------------------------------------------------------- nodes

  /** Adds a node (namespace, underlay veth, CNI config) and converges every node's routes. */
  async addNode(spec: NodeSpec): Promise<LabNode> {
    return this.exclusive(async () => {
      const next = withNode(this.state, spec);
      const node = next.nodes[next.nodes.length - 1];
      if (node === undefined) throw new LabError('NotFound', 'node vanished while being added');
      this.state = next;
      await this.saveState();
      await ipBatch(undefined, [`netns add ${nodeNetns(this.name, node.name)}`, ...this.nodeLinkLines(node)]);
      const port = labPortName(node.name);
      await Promise.all([
        ipBatch(labNetns(this.name), [`link set ${port} master ${UNDERLAY_BRIDGE}`, `link set ${port} up`]),
        this.setupNode(node, true),
      ]);
      await this.syncRoutesLocked();
      return { ...node };
    });
  }

  /** Removes a node: its pod sandboxes, its namespace and files; every remaining node's routes converge. */
  async removeNode(name: string): Promise<void> {
    await this.exclusive(async () => {
      const next = withoutNode(this.state, name);
      const pods = await this.cachedPods(name);
      const netnses = [...pods.map((p) => p.netns), nodeNetns(this.name, name)];
      await killNetnsProcesses(netnses);
      const existing = new Set(await listNetns());
      await ipBatch(undefined, netnses.filter((n) => existing.has(n)).map((n) => `netns del ${n}`));
      await rm(join(this.dir, name), { recursive: true, force: true });
      this.lists.delete(name);
      this.runners.delete(name);
      this.state = next;
      await this.saveState();
      await this.syncRoutesLocked();
    });
  }

  /**
   * Converges every node's routes (and, under VXLAN, flannel.1 neighbours and fdb entries) and the root
   * namespace's routes with what the node list implies. Idempotent: a second call changes nothing.
   */
  async syncRoutes(): Promise<SyncReport> {
    return this.exclusive(() => this.syncRoutesLocked());
  }

  // ---------------------------------------------------------------- pods

  /**
   * Creates the pod's network namespace and runs the CNI ADD (loopback for lo; bridge then portmap for eth0)
   * inside the node's namespace. Returns the cached sandbox when it already exists.
   */
  async createPodSandbox(
    node: string,
    podUid: string,
    podName: string,
    podNamespace: string,
    opts: { portMappings?: PortMapping[] } = {},
  ): Promise<PodSandbox> {
    validatePodUid(podUid);
    const list = await this.podList(node);
    const runner = this.runner(node);
    const netns = podNetns(this.name, podUid);
    const existing = await runner.cachedResult(list.name, podUid, 'eth0').catch(() => undefined);
    if (await netnsExists(netns)) {
      const marker = await netnsMarkerOf(netns);
      const wantMarker = netnsMarker(this.name, 'pod', podUid);
      if (marker !== undefined && marker !== '' && marker !== wantMarker) {
        throw new LabError('AlreadyExists', `pod netns ${netns} belongs to another sandbox (${marker})`);
      }
      if (existing !== undefined) return this.sandbox(node, podUid, existing);
      await this.deletePodSandbox(node, podUid); // a half-made sandbox: start over
    }
    const at = this.attachment(node, podUid, podName, podNamespace, 'eth0', opts.portMappings ?? []);
    const lo: Attachment = { ...at, ifname: 'lo', caps: {} };
    await run('ip', ['netns', 'add', netns]);
    try {
      const [, , result] = await Promise.all([
        run('ip', ['-n', netns, 'link', 'set', 'lo', 'alias', netnsMarker(this.name, 'pod', podUid)]),
        runner.add(loopbackConfigList(), lo),
        runner.add(list, at),
      ]);
      return this.sandbox(node, podUid, result);
    } catch (err) {
      await runner.del(list, at).catch(() => undefined);
      await runner.del(loopbackConfigList(), lo).catch(() => undefined);
      await runRaw('ip', ['netns', 'del', netns]);
      throw err;
    }
  }

  /** Runs CNI CHECK (with the cached result as prevResult) for the pod network and loopback; throws on a problem. */
  async checkPodSandbox(node: string, podUid: string): Promise<void> {
    validatePodUid(podUid);
    const list = await this.podList(node);
    const netns = podNetns(this.name, podUid);
    if (!(await netnsExists(netns))) throw new LabError('NotFound', `pod sandbox ${podUid} has no namespace ${netns}`);
    const at = this.attachment(node, podUid, '', '', 'eth0', []);
    const runner = this.runner(node);
    await Promise.all([runner.check(list, at), runner.check(loopbackConfigList(), { ...at, ifname: 'lo' })]);
  }

  /** Runs CNI DEL (portmap, bridge; loopback), stops what runs inside, deletes the namespace and the cache. Idempotent. */
  async deletePodSandbox(node: string, podUid: string): Promise<void> {
    validatePodUid(podUid);
    const netns = podNetns(this.name, podUid);
    if (this.state.nodes.some((n) => n.name === node)) {
      const list = await this.podList(node);
      const runner = this.runner(node);
      const at = this.attachment(node, podUid, '', '', 'eth0', []);
      await Promise.all([runner.del(list, at), runner.del(loopbackConfigList(), { ...at, ifname: 'lo' })]);
    }
    await killNetnsProcesses([netns]);
    if (await netnsExists(netns)) await run('ip', ['netns', 'del', netns]);
  }

  /** The sandboxes on a node, from the CNI result cache. */
  async listPodSandboxes(node: string): Promise<PodSandbox[]> {
    this.node(node);
    const out: PodSandbox[] = [];
    for (const p of await this.cachedPods(node)) out.push(this.sandbox(node, p.containerId, p.result));
    return out;
  }

  // ---------------------------------------------------------------- internals

  private node(name: string): LabNode {
    const node = this.state.nodes.find((n) => n.name === name);
    if (node === undefined) throw new LabError('NotFound', `node ${name} is not in lab cluster ${this.name}`);
    return node;
  }

  /** Runs state-changing operations one at a time (per Lab object). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn, fn);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async saveState(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, 'lab.json'), JSON.stringify(this.state, null, 2) + '\n');
  }

  private attachment(node: string, podUid: string, podName: string, podNamespace: string, ifname: string, portMappings: PortMapping[]): Attachment {
    return {
      hostNetns: nodeNetns(this.name, node),
      containerId: podUid,
      netnsPath: netnsPath(podNetns(this.name, podUid)),
      ifname,
      cniArgs: kubernetesCniArgs({ podNamespace, podName, containerId: podUid, podUid }),
      caps: { portMappings },
    };
  }

  private sandbox(node: string, podUid: string, result: CniResult): PodSandbox {
    const a = podAttachment(result, 'eth0');
    const netns = podNetns(this.name, podUid);
    return {
      netns,
      netnsPath: netnsPath(netns),
      ip: a.ip,
      prefixLength: a.prefixLength,
      gateway: a.gateway,
      ifname: 'eth0',
      hostVeth: a.hostVeth,
      mac: a.mac,
      containerId: podUid,
      node,
    };
  }

  private runner(node: string): CniRunner {
    let runner = this.runners.get(node);
    if (runner === undefined) {
      runner = new CniRunner({ cacheDir: this.cniCacheDir(node) });
      this.runners.set(node, runner);
    }
    return runner;
  }

  /** The node's conflist, loaded from its file (as containerd loads net.d) and kept in memory. */
  private async podList(node: string): Promise<NetworkConfigList> {
    this.node(node);
    const cached = this.lists.get(node);
    if (cached !== undefined) return cached;
    const path = join(this.cniConfDir(node), CONFLIST_FILE);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new LabError(isEnoent(err) ? 'NotFound' : 'Corrupt', `cannot load ${path}`, { cause: err });
    }
    const list = parseConfigList(value);
    this.lists.set(node, list);
    return list;
  }

  private async cachedPods(node: string): Promise<{ containerId: string; netns: string; result: CniResult }[]> {
    const dir = join(this.dir, node, 'cni', 'results');
    let entries: string[] = [];
    try {
      entries = await readdir(dir);
    } catch (err) {
      if (isEnoent(err)) return [];
      throw err;
    }
    const out: { containerId: string; netns: string; result: CniResult }[] = [];
    const prefix = `${POD_NETWORK_NAME}-`;
    for (const entry of entries.sort()) {
      if (!entry.startsWith(prefix) || !entry.endsWith('-eth0')) continue;
      try {
        const value: unknown = JSON.parse(await readFile(join(dir, entry), 'utf8'));
        const rec = parseCacheRecord(value);
        const containerId = (value as { containerId?: unknown }).containerId;
        if (typeof containerId !== 'string') continue;
        out.push({ containerId, netns: rec.netns.replace(/^.*\//, ''), result: rec.result });
      } catch {
        /* a torn or foreign file is skipped */
      }
    }
    return out;
  }

  /** Root-namespace links for a node: its eth0 (in its namespace) paired with a port in the lab namespace. */
  private nodeLinkLines(node: LabNode): string[] {
    return [`link add ${NODE_UPLINK} netns ${nodeNetns(this.name, node.name)} type veth peer name ${labPortName(node.name)} netns ${labNetns(this.name)}`];
  }

  /** Node namespace set-up after its links exist: addresses, flannel.1, sysctls, CNI config; routes when asked. */
  private async setupNode(node: LabNode, skipRoutes: boolean): Promise<void> {
    const ns = nodeNetns(this.name, node.name);
    const lines = nodeSetupLines(this.state, node);
    let bridgeLines: string[] = [];
    if (!skipRoutes) {
      const diff = diffNetwork(planNodeNetwork(this.state.backend, this.state.underlay, this.state.nodes, node.name), EMPTY_PLAN);
      lines.push(...diff.ip);
      bridgeLines = diff.bridge;
    }
    await Promise.all([
      ipBatch(ns, lines).then(() => bridgeBatch(ns, bridgeLines)),
      run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']),
      this.writeNodeConfig(node),
    ]);
  }

  private async writeNodeConfig(node: LabNode): Promise<void> {
    const base = join(this.dir, node.name, 'cni');
    const confDir = join(base, 'net.d');
    await Promise.all([mkdir(confDir, { recursive: true }), mkdir(join(base, 'results'), { recursive: true })]);
    const list = podNetworkConfigList({
      podCIDR: node.podCIDR,
      dataDir: join(base, 'networks'),
      mtu: this.state.backend === 'vxlan' ? VXLAN_MTU : UNDERLAY_MTU,
    });
    await writeFileAtomic(join(confDir, CONFLIST_FILE), JSON.stringify(list, null, 2) + '\n');
    this.lists.set(node.name, list);
  }

  /** Builds a freshly planned cluster. */
  private async build(): Promise<void> {
    const s = this.state;
    const lab = labNetns(s.name);
    const ext = extNetns(s.name);
    const host = rootLink(s.name);
    await this.saveState();
    await ipBatch(undefined, [
      `netns add ${lab}`,
      `netns add ${ext}`,
      ...s.nodes.map((n) => `netns add ${nodeNetns(s.name, n.name)}`),
      `link add ${UNDERLAY_BRIDGE} netns ${lab} type bridge`,
      `link add ${host} type veth peer name ${LAB_HOST_PORT} netns ${lab}`,
      `link add ${NODE_UPLINK} netns ${ext} type veth peer name ${LAB_EXT_PORT} netns ${lab}`,
      ...s.nodes.flatMap((n) => this.nodeLinkLines(n)),
      `link set ${host} alias ${netnsMarker(s.name, 'lab', 'host')}`,
      `addr add ${hostAddress(s.underlay)}/${underlayPrefixLength(s.underlay)} dev ${host}`,
      `link set ${host} up`,
    ]);
    const ports = [LAB_HOST_PORT, LAB_EXT_PORT, ...s.nodes.map((n) => labPortName(n.name))];
    const rootRoutes = diffNetwork({ routes: planRootRoutes(s), neighs: [], fdbs: [] }, EMPTY_PLAN).ip;
    await Promise.all([
      ipBatch(lab, [
        'link set lo up',
        `link set lo alias ${netnsMarker(s.name, 'lab', s.name)}`,
        `link set ${UNDERLAY_BRIDGE} up`,
        ...ports.flatMap((p) => [`link set ${p} master ${UNDERLAY_BRIDGE}`, `link set ${p} up`]),
      ]),
      ipBatch(ext, [
        'link set lo up',
        `link set lo alias ${netnsMarker(s.name, 'ext', s.name)}`,
        `addr add ${externalAddress(s.underlay)}/${underlayPrefixLength(s.underlay)} dev ${NODE_UPLINK}`,
        `link set ${NODE_UPLINK} up`,
      ]),
      // The external must never forward (a new namespace may inherit ip_forward=1 from the root one).
      run('ip', ['netns', 'exec', ext, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']),
      ...s.nodes.map((n) => this.setupNode(n, false)),
      ipBatch(undefined, rootRoutes),
      run('nft', ['-f', '-'], { input: nftTableText(s.name) }),
    ]);
  }

  private async syncRoutesLocked(): Promise<SyncReport> {
    const s = this.state;
    const vxlan = s.backend === 'vxlan';
    // Observe every node (links, routes, neighbours; fdb under VXLAN).
    const observed = await Promise.all(
      s.nodes.map(async (node) => {
        const ns = nodeNetns(s.name, node.name);
        const lines = ['link show', 'route show proto 241'];
        const text = await run('ip', ['-n', ns, '-j', '-batch', '-'], { input: lines.join('\n') + '\n' });
        const [links, routes] = parseJsonLines(text);
        const vxlanLink = (Array.isArray(links) ? links : []).find(
          (l: unknown) => typeof l === 'object' && l !== null && (l as { ifname?: unknown }).ifname === VXLAN_DEVICE,
        ) as { address?: unknown } | undefined;
        let mac = typeof vxlanLink?.address === 'string' ? vxlanLink.address : undefined;
        if (vxlan && vxlanLink === undefined) {
          await ipBatch(ns, vxlanSetupLines(node)); // flannel.1 went missing: recreate it
          mac = node.vxlanMac;
        }
        const plan: NetworkPlan = { routes: parseRoutes(routes), neighs: [], fdbs: [] };
        if (vxlan) {
          plan.neighs = parseNeighs(await ipJson(ns, ['neigh', 'show', 'dev', VXLAN_DEVICE, 'nud', 'permanent']));
          plan.fdbs = parseFdbs(JSON.parse((await run('bridge', ['-n', ns, '-j', 'fdb', 'show', 'dev', VXLAN_DEVICE])) || '[]'));
        }
        return { node, plan, mac: mac ?? node.vxlanMac };
      }),
    );
    // The node list as published: each node's actual VTEP MAC (what flannel writes in its annotation).
    const published: LabNode[] = observed.map((o) => ({ ...o.node, vxlanMac: o.mac }));
    let changes = 0;
    const rootObserved = parseRoutes(await ipJson(undefined, ['route', 'show', 'proto', '241'])).filter(
      (r) => r.metric === rootRouteMetric(s.slot),
    );
    const rootDiff = diffNetwork({ routes: planRootRoutes(s), neighs: [], fdbs: [] }, { routes: rootObserved, neighs: [], fdbs: [] });
    changes += rootDiff.ip.length;
    await Promise.all([
      ipBatch(undefined, rootDiff.ip),
      ...observed.map(async (o) => {
        const ns = nodeNetns(s.name, o.node.name);
        const diff = diffNetwork(planNodeNetwork(s.backend, s.underlay, published, o.node.name), o.plan);
        changes += diff.ip.length + diff.bridge.length;
        await ipBatch(ns, diff.ip);
        await bridgeBatch(ns, diff.bridge);
      }),
    ]);
    return { changes };
  }
}
