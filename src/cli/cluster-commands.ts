// `flatnet up | down | status | list | demo`: cluster lifecycle. A cluster lives in
// $FLATNET_HOME/clusters/<name>/ (default /var/lib/flatnet as root, ~/.local/share/flatnet otherwise):
// cluster.json (settings and pid), data/ (the API server's state, PKI and kubeconfig), server.log.
// Its context `flatnet-<name>` is merged into the user's kubeconfig, as kind does.
import {
  clusterDNSObjects, COREDNS_REPLICAS, ingressCertDir, ingressObjects, serviceAccountDir,
  INGRESS_CLASS, INGRESS_DEPLOYMENT, INGRESS_NAMESPACE, INGRESS_REPLICAS, INGRESS_SERVICE,
} from '../addons/system-objects.ts';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { request } from 'node:https';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CliError, printData, stringOpt, type Command } from './command.ts';
import { ApiError } from '../api/errors.ts';
import { RESOURCES, resourceFor } from '../api/resources.ts';
import type { KubeObject } from '../api/types.ts';
import { clusterDNSServiceIP } from '../net/allocators.ts';

export interface ClusterRecord {
  name: string;
  port: number;
  pid: number;
  /** The node agents' process. */
  agentsPid?: number;
  /** The lab's internet resolver, in the external namespace. */
  externalDnsPid?: number;
  proxyMode?: string;
  createdAt: string;
  serviceCIDR: string;
  podCIDR: string;
  nodes: number;
  backend: string;
  dataDir: string;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export function flatnetHome(): string {
  if (process.env['FLATNET_HOME']) return process.env['FLATNET_HOME'];
  return process.getuid?.() === 0 ? '/var/lib/flatnet' : join(homedir(), '.local', 'share', 'flatnet');
}

function clusterDir(name: string): string {
  return join(flatnetHome(), 'clusters', name);
}

export function readCluster(name: string): ClusterRecord | undefined {
  const p = join(clusterDir(name), 'cluster.json');
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as ClusterRecord;
}

function writeCluster(rec: ClusterRecord): void {
  mkdirSync(clusterDir(rec.name), { recursive: true });
  writeFileSync(join(clusterDir(rec.name), 'cluster.json'), JSON.stringify(rec, null, 2) + '\n');
}

/**
 * Whether a process runs. A killed process that its parent (here init, for our detached processes) has not
 * reaped yet still answers signal 0: it is a zombie, state `Z` in /proc/<pid>/stat, and counts as dead.
 */
export function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function userKubeconfigPath(): string {
  const env = process.env['KUBECONFIG'];
  if (env) return env.split(':')[0] ?? join(homedir(), '.kube', 'config');
  return join(homedir(), '.kube', 'config');
}

interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: { name: string; cluster: unknown }[];
  users?: { name: string; user: unknown }[];
  contexts?: { name: string; context: unknown }[];
  'current-context'?: string;
  preferences?: unknown;
}

function loadKubeconfig(path: string): KubeconfigDoc {
  if (!existsSync(path)) return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
  const doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as KubeconfigDoc;
  return doc;
}

/** Merges (or, with `remove`, removes) the cluster's context in the user's kubeconfig. */
function mergeKubeconfig(clusterKubeconfig: string | undefined, contextName: string, remove: boolean): string {
  const target = userKubeconfigPath();
  const doc = loadKubeconfig(target);
  const drop = <T extends { name: string }>(xs: T[] | undefined, n: string) => (xs ?? []).filter((x) => x.name !== n);
  doc.clusters = drop(doc.clusters, contextName);
  doc.users = drop(doc.users, `${contextName}-admin`);
  doc.contexts = drop(doc.contexts, contextName);
  if (remove) {
    if (doc['current-context'] === contextName) doc['current-context'] = '';
  } else if (clusterKubeconfig) {
    const src = loadKubeconfig(clusterKubeconfig);
    doc.clusters.push(...(src.clusters ?? []));
    doc.users.push(...(src.users ?? []));
    doc.contexts.push(...(src.contexts ?? []));
    doc['current-context'] = contextName;
  }
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, toYaml(doc), { mode: 0o600 });
  return target;
}

async function waitReady(url: string, caPem: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((res) => {
      const req = request(`${url}/readyz`, { ca: caPem, timeout: 1000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => {
        req.destroy();
        res(false);
      });
      req.end();
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

function step(label: string, started: number): void {
  process.stderr.write(` ✓ ${label} (${((Date.now() - started) / 1000).toFixed(2)}s)\n`);
}

function spawnDetached(args: string[], logPath: string): number {
  const logFd = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  return child.pid ?? 0;
}

/** Like spawnDetached, inside a network namespace (`ip netns exec`). */
function spawnDetachedIn(netns: string, args: string[], logPath: string): number {
  const logFd = openSync(logPath, 'a');
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--disable-warning=ExperimentalWarning', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  return child.pid ?? 0;
}

async function stopProcess(pid: number | undefined): Promise<void> {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

const nodeNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

/**
 * Brings a cluster up, or adopts what an earlier run left: the lab (underlay, external namespace, root-ns
 * isolation), the control plane (API server + controllers, reachable from the lab at the host-side
 * address), one Node per lab node with its Pod CIDR from the IPAM controller, and the node agents.
 */
export async function clusterUp(opts: { name: string; nodes: number; backend: string; podCIDR: string; serviceCIDR: string; proxyMode?: string; wait: boolean; quiet?: boolean }): Promise<ClusterRecord> {
  if (!NAME_RE.test(opts.name) || opts.name.length > 12) throw new CliError(`invalid cluster name "${opts.name}": use at most 12 lower-case letters, digits and '-'`, 2);
  const t0 = Date.now();
  const say = (label: string) => { if (!opts.quiet) step(label, t0); };
  const existing = readCluster(opts.name);
  const dir = clusterDir(opts.name);
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const { Lab } = await import('../lab/lab.ts');

  // 1. The lab: adopt it if an earlier run left it, else build it.
  let lab;
  try {
    lab = await Lab.adopt(opts.name);
    say(`lab: adopted ${lab.labNetns()} (underlay ${lab.underlay})`);
  } catch {
    await Lab.destroyByName(opts.name).catch(() => undefined);
    lab = await Lab.create({ name: opts.name, nodes: [], backend: opts.backend as 'host-gw' | 'vxlan', podCIDR: opts.podCIDR, serviceCIDR: opts.serviceCIDR, lbPool: LB_POOL });
    say(`lab: underlay ${lab.underlay} in ${lab.labNetns()}, external ${lab.externalIP()}, host ${lab.hostIP()}`);
  }

  // 2. The control plane.
  const port = existing?.port ?? (await freePort());
  let serverPid = existing?.pid ?? 0;
  if (!alive(serverPid)) {
    serverPid = spawnDetached(['server', '--data-dir', dataDir, '--port', String(port), '--name', opts.name, '--service-cidr', opts.serviceCIDR,
      '--cluster-cidr', opts.podCIDR, '--lb-pool', LB_POOL, '--advertise-address', lab.hostIP()], join(dir, 'server.log'));
  }
  const rec: ClusterRecord = { name: opts.name, port, pid: serverPid, agentsPid: existing?.agentsPid ?? 0, externalDnsPid: existing?.externalDnsPid ?? 0, proxyMode: existing?.proxyMode ?? opts.proxyMode ?? 'nftables', createdAt: existing?.createdAt ?? new Date().toISOString(),
    serviceCIDR: opts.serviceCIDR, podCIDR: opts.podCIDR, nodes: opts.nodes, backend: opts.backend, dataDir };
  writeCluster(rec);
  const caPath = join(dataDir, 'pki', 'ca.crt');
  // Generous: a busy 2-core CI machine can take a while to start Node and open SQLite.
  const deadline = Date.now() + 90_000;
  while (!existsSync(caPath) && Date.now() < deadline && alive(serverPid)) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(caPath) || !(await waitReady(`https://127.0.0.1:${port}`, readFileSync(caPath, 'utf8'), Math.max(0, deadline - Date.now())))) {
    throw new CliError(`the API server did not become ready; see ${join(dir, 'server.log')}`);
  }
  say(`control plane: API server on https://127.0.0.1:${port} and https://${lab.hostIP()}:6443, controllers running`);

  // 3. Nodes: registered first so the IPAM controller gives each its Pod CIDR, then wired into the lab.
  const { KubeClient } = await import('../client/kube-client.ts');
  const NODES = resourceFor('Node');
  const client = KubeClient.fromKubeconfig(join(dataDir, 'kubeconfig'));
  try {
    const wanted = nodeNames(opts.nodes);
    for (const name of wanted) {
      if (lab.nodes.some((n) => n.name === name)) continue;
      try {
        await client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } }, { fieldManager: 'flatnet-up' });
      } catch (e) {
        if (!(e instanceof Error && 'reason' in e && (e as { reason: string }).reason === 'AlreadyExists')) throw e;
      }
    }
    const cidrs = new Map<string, string>();
    const ipamDeadline = Date.now() + 15_000;
    while (cidrs.size < wanted.length && Date.now() < ipamDeadline) {
      for (const name of wanted) {
        if (cidrs.has(name)) continue;
        const node = await client.get<import('../api/types.ts').Node>(NODES, undefined, name);
        if (node.spec?.podCIDR) cidrs.set(name, node.spec.podCIDR);
      }
      if (cidrs.size < wanted.length) await new Promise((r) => setTimeout(r, 20));
    }
    if (cidrs.size < wanted.length) throw new CliError('the node IPAM controller did not assign Pod CIDRs in time');
    for (const name of wanted) {
      if (!lab.nodes.some((n) => n.name === name)) await lab.addNode({ name, podCIDR: cidrs.get(name) ?? '' });
    }
    say(`nodes: ${wanted.map((n) => `${n} ${lab.nodeIP(n)} pods ${cidrs.get(n)}`).join(', ')} (${opts.backend})`);
    // The external side routes the LoadBalancer pool to the nodes (equal-cost over all of them), as an L2/BGP
    // load balancer in front of a real cluster would attract those addresses.
    const hops = wanted.flatMap((n) => ['nexthop', 'via', lab.nodeIP(n)]);
    spawnSync('ip', ['-n', lab.externalNetns(), 'route', 'replace', LB_POOL, ...hops], { stdio: 'ignore' });

    // The lab's internet resolver, in the external namespace: cluster DNS forwards outside names to it.
    if (!alive(rec.externalDnsPid ?? 0)) {
      rec.externalDnsPid = spawnDetachedIn(lab.externalNetns(), ['external-dns', '--address', lab.externalIP()], join(dir, 'external-dns.log'));
      writeCluster(rec);
    }

    // 4. Node agents.
    if (!alive(rec.agentsPid ?? 0)) {
      rec.agentsPid = spawnDetached(['agents', '--name', opts.name, '--kubeconfig', join(dataDir, 'kubeconfig'), '--proxy-mode', rec.proxyMode ?? 'nftables'], join(dir, 'agents.log'));
      writeCluster(rec);
    }
    if (opts.wait) {
      const readyDeadline = Date.now() + 30_000;
      for (;;) {
        const nodes = await client.list<import('../api/types.ts').Node>(NODES, undefined);
        const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        if (ready.length >= wanted.length) break;
        if (Date.now() > readyDeadline || !alive(rec.agentsPid ?? 0)) throw new CliError(`nodes did not become Ready; see ${join(dir, 'agents.log')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      say('node agents: all nodes Ready');
    }
    await ensureClusterDNS(client, lab, dataDir, opts.name);
    if (opts.wait) {
      const dnsDeadline = Date.now() + 60_000;
      for (;;) {
        const d = await client.get<import('../api/types.ts').Deployment>(DEPLOYMENTS, 'kube-system', 'coredns');
        if ((d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1)) break;
        if (Date.now() > dnsDeadline) throw new CliError(`cluster DNS did not become ready; see kubectl -n kube-system describe pods -l k8s-app=kube-dns`);
        await new Promise((r) => setTimeout(r, 50));
      }
      say(`cluster DNS: coredns (${COREDNS_REPLICAS} replicas) behind kube-dns ${clusterDNSServiceIP(opts.serviceCIDR)}`);
    }
    await ensureIngress(client, opts.name);
    if (opts.wait) {
      const lbIP = await waitIngressReady(client, 60_000);
      say(`ingress: ${INGRESS_DEPLOYMENT} (${INGRESS_REPLICAS} replicas, IngressClass ${INGRESS_CLASS}, default) behind LoadBalancer ${INGRESS_NAMESPACE}/${INGRESS_SERVICE} ${lbIP}`);
    }
  } finally {
    client.close();
  }
  const kc = mergeKubeconfig(join(dataDir, 'kubeconfig'), `flatnet-${opts.name}`, false);
  say(`kubeconfig: context flatnet-${opts.name} merged into ${kc}`);
  return rec;
}

/** Unmounts every mount at or below `dir` (the runtime's UTS namespace files), deepest first. */
function unmountUnder(dir: string): void {
  let mounts: string[];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '));
  } catch {
    return;
  }
  const inside = mounts.filter((m) => m === dir || m.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
  for (const m of inside) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

const DEPLOYMENTS = resourceFor('Deployment');

/**
 * Cluster DNS as kubeadm installs CoreDNS: a `coredns` Deployment (2 replicas) in kube-system whose image
 * maps to flatnet's DNS program, behind the `kube-dns` Service at the 10th address of the service range.
 * Its pods reach the API through the `kubernetes` Service with a service-account directory flatnet writes
 * (the cluster's admin credential: flatnet has no RBAC yet), and forward other names to the lab's
 * external side.
 */
async function ensureClusterDNS(client: import('../client/kube-client.ts').KubeClient, lab: import('../lab/lab.ts').Lab, dataDir: string, name: string): Promise<void> {
  const saDir = serviceAccountDir(name);
  mkdirSync(saDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(saDir, 'token'), readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), { mode: 0o600 });
  writeFileSync(join(saDir, 'ca.crt'), readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'), { mode: 0o644 });
  writeFileSync(join(saDir, 'namespace'), 'kube-system');
  await ensureObjects(client, clusterDNSObjects({ cluster: name, serviceCIDR: lab.serviceCIDR, externalIP: lab.externalIP() }));
}

/**
 * flatnet's Ingress controller as a cluster add-on, laid out like ingress-nginx's manifests: namespace
 * `flatnet-ingress`, the default IngressClass `flatnet`, a Deployment of the `flatnet.dev/ingress-controller`
 * image listening on 80/443 inside its pods, and the LoadBalancer Service `flatnet-ingress` whose pool
 * address the controller publishes in every Ingress's status. The default certificate is a self-signed one
 * made here with openssl (the image's PATH has no openssl); the pods use the service-account directory
 * ensureClusterDNS writes. Two replicas both serve (the proxy is stateless); both write the same status.
 */
async function ensureIngress(client: import('../client/kube-client.ts').KubeClient, name: string): Promise<void> {
  const certDir = ingressCertDir(name);
  const certPath = join(certDir, 'tls.crt');
  const keyPath = join(certDir, 'tls.key');
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const { generateSelfSigned } = await import('../ingress/certs.ts');
    const pair = await generateSelfSigned('flatnet-ingress-default');
    mkdirSync(certDir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, pair.key, { mode: 0o600 });
    writeFileSync(certPath, pair.cert, { mode: 0o644 });
  }
  await ensureObjects(client, ingressObjects({ cluster: name }));
}

/** Waits until every controller replica is ready and the Service has its pool address; returns that address. */
async function waitIngressReady(client: import('../client/kube-client.ts').KubeClient, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await client.get<import('../api/types.ts').Deployment>(DEPLOYMENTS, INGRESS_NAMESPACE, INGRESS_DEPLOYMENT);
    const svc = await client.get<import('../api/types.ts').Service>(resourceFor('Service'), INGRESS_NAMESPACE, INGRESS_SERVICE);
    const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
    if ((d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) && ip !== undefined) return ip;
    if (Date.now() > deadline) throw new CliError(`the ingress controller did not become ready; see kubectl -n ${INGRESS_NAMESPACE} describe pods,svc`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Creates the objects that do not exist yet (system objects of `flatnet up`, which also adopts clusters).
 * Existence is checked first: creating an existing Service with a fixed ClusterIP would fail on allocation.
 */
async function ensureObjects(client: import('../client/kube-client.ts').KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of objects) {
    const r = RESOURCES.find((x) => x.kind === obj.kind && (x.group === '' ? 'v1' : `${x.group}/${x.version}`) === obj.apiVersion);
    if (!r) throw new Error(`unknown kind ${obj.apiVersion ?? ''}/${obj.kind ?? ''}`);
    try {
      await client.get(r, obj.metadata.namespace, obj.metadata.name ?? '');
      continue;
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
    }
    try {
      await client.create(r, obj.metadata.namespace, obj, { fieldManager: 'flatnet-up' });
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
  }
}

/** The LoadBalancer pool: addresses the external side routes to the nodes (like MetalLB L2). */
export const LB_POOL = '172.30.255.0/24';

export async function clusterDown(name: string): Promise<boolean> {
  const rec = readCluster(name);
  const { Lab } = await import('../lab/lab.ts');
  if (rec) {
    await stopProcess(rec.agentsPid);
    await stopProcess(rec.externalDnsPid);
    await stopProcess(rec.pid);
  }
  // The lab teardown stops every process left in its namespaces (pods), then removes namespaces, links,
  // routes and rules; then the runtime's state, logs and per-pod /etc files go.
  // The runtime's UTS namespace files are mounts under the cluster's run directory: unmount them first so
  // the lab teardown can remove that directory.
  unmountUnder(join('/run/flatnet', name));
  await Lab.destroyByName(name);
  rmSync(join('/run/flatnet', name), { recursive: true, force: true });
  rmSync(join('/var/log/flatnet', name), { recursive: true, force: true });
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns')) if (entry.startsWith(`fn-${name}-`)) rmSync(join('/etc/netns', entry), { recursive: true, force: true });
  }
  if (!rec) return false;
  mergeKubeconfig(undefined, `flatnet-${name}`, true);
  rmSync(clusterDir(name), { recursive: true, force: true });
  return true;
}

function listClusters(): { name: string; running: boolean; record: ClusterRecord }[] {
  const root = join(flatnetHome(), 'clusters');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => readCluster(name))
    .filter((r): r is ClusterRecord => r !== undefined)
    .map((record) => ({ name: record.name, running: alive(record.pid), record }));
}

const clusterOptions = {
  name: { type: 'string', help: 'cluster name', default: 'flatnet' },
} as const;

export const upCommand: Command = {
  name: 'up',
  summary: 'create (or adopt) a cluster and merge its kubeconfig context',
  usage: 'up [--name NAME] [--nodes N] [--backend host-gw|vxlan] [--proxy-mode nftables|iptables] [--pod-cidr CIDR] [--service-cidr CIDR] [--wait]',
  options: {
    ...clusterOptions,
    nodes: { type: 'string', help: 'number of nodes', default: '3' },
    backend: { type: 'string', help: 'cross-node routing: host-gw or vxlan', default: 'host-gw' },
    'pod-cidr': { type: 'string', help: 'cluster Pod CIDR', default: '10.244.0.0/16' },
    'service-cidr': { type: 'string', help: 'Service ClusterIP range', default: '10.96.0.0/12' },
    'proxy-mode': { type: 'string', help: 'kube-proxy mode: nftables or iptables', default: 'nftables' },
    wait: { type: 'boolean', help: 'wait until the cluster is ready', default: false },
  },
  async run(values) {
    const nodes = Number(stringOpt(values, 'nodes'));
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) throw new CliError('--nodes must be between 1 and 50', 2);
    const backend = stringOpt(values, 'backend') ?? 'host-gw';
    if (backend !== 'host-gw' && backend !== 'vxlan') throw new CliError(`--backend must be host-gw or vxlan, not "${backend}"`, 2);
    const name = stringOpt(values, 'name') ?? 'flatnet';
    const proxyMode = stringOpt(values, 'proxy-mode') ?? 'nftables';
    if (proxyMode === 'ipvs') throw new CliError('--proxy-mode ipvs is not available: this kernel has no IPVS (ip_vs); use nftables (default) or iptables', 2);
    if (proxyMode !== 'nftables' && proxyMode !== 'iptables') throw new CliError(`--proxy-mode must be nftables or iptables, not "${proxyMode}"`, 2);
    await clusterUp({ name, nodes, backend, proxyMode, podCIDR: stringOpt(values, 'pod-cidr') ?? '10.244.0.0/16', serviceCIDR: stringOpt(values, 'service-cidr') ?? '10.96.0.0/12', wait: values['wait'] === true });
    process.stderr.write(`\nCluster "${name}" is up. Try:\n  kubectl --context flatnet-${name} get ns\n  kubectl --context flatnet-${name} apply -f examples/\n  flatnet down --name ${name}\n`);
    return 0;
  },
};

export const downCommand: Command = {
  name: 'down',
  summary: 'stop a cluster and remove everything it made',
  usage: 'down [--name NAME]',
  options: { ...clusterOptions },
  async run(values) {
    const name = stringOpt(values, 'name') ?? 'flatnet';
    const removed = await clusterDown(name);
    process.stderr.write(removed ? `cluster "${name}" removed\n` : `no cluster named "${name}"\n`);
    return 0;
  },
};

export const listCommand: Command = {
  name: 'list',
  summary: 'list clusters',
  usage: 'list [-o json|yaml]',
  options: { output: { type: 'string', short: 'o', help: 'output format: table, json or yaml' } },
  async run(values) {
    const clusters = listClusters().map((c) => ({ name: c.name, status: c.running && alive(c.record.agentsPid ?? 0) ? 'Running' : c.running ? 'Degraded' : 'Stopped', server: `https://127.0.0.1:${c.record.port}`, nodes: c.record.nodes }));
    printData(clusters, stringOpt(values, 'output'), () =>
      [['NAME', 'STATUS', 'SERVER', 'NODES'], ...clusters.map((c) => [c.name, c.status, c.server, String(c.nodes)])].map((r) => r.map((x, i) => (i < 3 ? x.padEnd(i === 2 ? 28 : 12) : x)).join(' ')).join('\n'));
    return 0;
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'show what a cluster runs',
  usage: 'status [--name NAME] [-o json|yaml]',
  options: { ...clusterOptions, output: { type: 'string', short: 'o', help: 'output format: table, json or yaml' } },
  async run(values) {
    const name = stringOpt(values, 'name') ?? 'flatnet';
    const rec = readCluster(name);
    if (!rec) throw new CliError(`no cluster named "${name}"`);
    const status = { ...rec, running: alive(rec.pid), agentsRunning: alive(rec.agentsPid ?? 0), context: `flatnet-${name}`, server: `https://127.0.0.1:${rec.port}` };
    printData(status, stringOpt(values, 'output'), () =>
      [`cluster:   ${name} (${status.running ? 'running' : 'stopped'})`, `server:    ${status.server} (pid ${rec.pid})`, `agents:    ${status.agentsRunning ? 'running' : 'stopped'} (pid ${rec.agentsPid ?? 0})`, `context:   ${status.context}`,
        `services:  ${rec.serviceCIDR}`, `pods:      ${rec.podCIDR}`, `state:     ${rec.dataDir}`].join('\n'));
    return status.running ? 0 : 1;
  },
};

export const demoCommand: Command = {
  name: 'demo',
  summary: 'bring up the 3-node demo cluster, apply the seed examples and show what to look at',
  usage: 'demo [--name NAME] [--backend host-gw|vxlan]',
  options: {
    name: { type: 'string', help: 'cluster name', default: 'demo' },
    backend: { type: 'string', help: 'cross-node routing: host-gw or vxlan', default: 'host-gw' },
  },
  async run(values) {
    const name = stringOpt(values, 'name') ?? 'demo';
    const backend = stringOpt(values, 'backend') ?? 'host-gw';
    if (backend !== 'host-gw' && backend !== 'vxlan') throw new CliError(`--backend must be host-gw or vxlan, not "${backend}"`, 2);
    await clusterUp({ name, nodes: 3, backend, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', wait: true });
    const ctx = `flatnet-${name}`;
    const kubectl = (args: string[]) => spawnSync('kubectl', ['--context', ctx, ...args], { stdio: 'inherit' });
    const show = (args: string[]) => {
      process.stdout.write(`\n$ kubectl ${args.join(' ')}\n`);
      kubectl(args);
    };
    if (kubectl(['apply', '-f', join(repoRoot, 'examples')]).status !== 0) throw new CliError('kubectl apply of examples/ failed');
    kubectl(['-n', 'demo', 'rollout', 'status', 'deploy/nginx', '--timeout=60s']);
    show(['get', 'nodes', '-o', 'wide']);
    show(['get', 'pods', '-A', '-o', 'wide']);
    show(['get', 'svc,endpoints', '-n', 'demo']);
    // Seed 001's Quick Reference: reach the Service by name from a throwaway pod (DNS + kube-proxy DNAT).
    // (The short sleep lets kubectl attach before the output is written: attach streams new output only.)
    show(['-n', 'demo', 'run', 'tmp', '--image=busybox', '--rm', '-i', '--restart=Never', '--', 'sh', '-c', 'sleep 1; wget -qO- http://nginx-service/ | head -4']);
    // The same flow, hop by hop, as the model of the data plane sees it (seed 003's Summary Diagram).
    const pod = spawnSync('kubectl', ['--context', ctx, '-n', 'demo', 'get', 'pods', '-l', 'app=nginx', '-o', 'jsonpath={.items[0].metadata.name}'], { encoding: 'utf8' }).stdout.trim();
    if (pod !== '') {
      process.stdout.write(`\n$ flatnet trace --name ${name} demo/${pod} http://nginx-service\n`);
      spawnSync(join(repoRoot, 'bin', 'flatnet'), ['trace', '--name', name, `demo/${pod}`, 'http://nginx-service'], { stdio: 'inherit' });
    }
    const lb = spawnSync('kubectl', ['--context', ctx, '-n', INGRESS_NAMESPACE, 'get', 'svc', INGRESS_SERVICE, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'], { encoding: 'utf8' }).stdout.trim() || 'LB_IP';
    process.stderr.write([
      '',
      `The demo cluster "${name}" runs (kubectl context ${ctx}). Things to try:`,
      '  kubectl -n demo run tmp --image=nicolaka/netshoot --rm -it -- bash     # curl, dig, ip, tcpdump inside a pod',
      '  kubectl -n demo run tmp --image=busybox --rm -it -- nslookup nginx-service',
      '  kubectl -n demo describe svc nginx-service; kubectl -n demo get endpointslices',
      `  sudo ip netns exec fn-${name}-node-1 nft list table ip kube-proxy       # the node's kube-proxy rules`,
      '  bin/flatnet matrix -f examples/                                           # NetworkPolicy truth table, offline',
      `  bin/flatnet trace --name ${name} demo/${pod || 'POD'} http://nginx-service --live   # the same trace, checked against the kernel`,
      `  bin/flatnet trace --name ${name} external http://${lb}/ --host-header web.example.com   # the Ingress, from outside`,
      '  docs/tour.md                                                              # a guided tour of the seeds on a running cluster',
      `  bin/flatnet down --name ${name}`,
      '',
    ].join('\n'));
    return 0;
  },
};

export const rulesCommand: Command = {
  name: 'rules',
  summary: "print a node's kube-proxy rules as the kernel holds them",
  usage: 'rules NODE [--name CLUSTER]',
  options: { ...clusterOptions },
  async run(values, positionals) {
    const name = stringOpt(values, 'name') ?? 'flatnet';
    const node = positionals[0];
    if (!node) throw new CliError('usage: flatnet rules NODE [--name CLUSTER]', 2);
    const rec = readCluster(name);
    if (!rec) throw new CliError(`no cluster named "${name}"`);
    const netns = `fn-${name}-${node}`;
    const args = rec.proxyMode === 'iptables' ? ['netns', 'exec', netns, 'iptables-save'] : ['netns', 'exec', netns, 'nft', 'list', 'ruleset'];
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new CliError(`could not read the rules of node ${node}: ${r.stderr.trim()}`);
    process.stdout.write(r.stdout);
    return 0;
  },
};
