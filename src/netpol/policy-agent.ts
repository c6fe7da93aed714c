// The NetworkPolicy agent: the CNI's policy controller role for the nodes of one agents process. Shared
// informers over Pods, Namespaces and NetworkPolicies; on every relevant change (debounced) the policy model
// is rebuilt and compiled once (src/netpol/core), and each node's `ip flatnet-netpol` table is computed
// (nft-policy.ts) and brought to the kernel of the node's namespace: the first sync as an atomic full
// replace, later ones as `diffRulesets` against what was last applied, always one `nft -f -` transaction.
//
// A policy the API accepted but this backend cannot express (an IPv6 ipBlock on these IPv4 nodes) gets a
// Warning Event and the previous accepted version of it stays in force (none, for a new policy).
// Each node's state after a successful sync is written to `<statusDir>/<node>.json` (policies in force with
// their resourceVersions), so tests and benches can tell when a change is enforced on every node.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourceFor, type ResourceInfo } from '../api/resources.ts';
import type { Namespace, NetworkPolicy, Pod } from '../api/types.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/kube-client.ts';
import { diffRulesets, fullReplaceCommands, renderCommands, type DiffStats } from '../nft/transaction.ts';
import { renderRuleset } from '../nft/render.ts';
import type { Ruleset } from '../nft/types.ts';
import { execIn } from '../proxy/exec.ts';
import { buildPolicyModel, compilePolicies, NetpolError, type CompiledPolicies } from './core/index.ts';
import { buildNodePolicyTable, enforcedPods, NETPOL_TABLE, parsePolicyCounters, unexpressibleReason, type PolicyRuleCounter } from './core/nft-policy.ts';

const resource = resourceFor;

export interface PolicyNode {
  name: string;
  netns: string;
}

export interface PolicyLoopOptions {
  client: KubeClient;
  nodes: readonly PolicyNode[];
  log: (line: string) => void;
  /** Debounce between a change and the sync (ms). Default 20. */
  minSyncPeriodMs?: number;
  /** Where `<node>.json` status files go; none when absent. */
  statusDir?: string;
  /** Event source component. */
  component?: string;
}

export interface PolicySyncResult {
  kind: 'full' | 'partial' | 'noop';
  durationMs: number;
  scriptBytes: number;
  diff?: DiffStats;
  /** Local pods isolated per direction after this sync. */
  isolatedPods: number;
  at: number;
}

/** What the status file of a node says. */
export interface PolicyNodeStatus {
  node: string;
  syncedAt: string;
  generation: number;
  /** `namespace/name` -> resourceVersion of the policy version in force (skipped unexpressible ones absent). */
  policies: Record<string, string>;
  /** Policies not (or not in their latest version) in force, with the reason. */
  notEnforced: Record<string, string>;
  pods: number;
  isolated: number;
  kind: PolicySyncResult['kind'];
}

/** Only what decides policy: a pod update changing nothing here does not trigger a sync. */
function podFingerprint(p: Pod): string {
  const ports = (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).filter((x) => x.name).map((x) => `${x.protocol ?? 'TCP'}/${x.name}=${x.containerPort}`));
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip).join(',') || (p.status?.podIP ?? '');
  const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  return JSON.stringify([p.metadata.labels ?? {}, ips, p.spec?.nodeName ?? '', terminal, ports, p.spec?.hostNetwork === true]);
}

function policyUid(p: NetworkPolicy): string {
  return p.metadata.uid ?? `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}

const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class PolicyLoop {
  private readonly client: KubeClient;
  private readonly pods: Informer<Pod>;
  private readonly namespaces: Informer<Namespace>;
  private readonly policies: Informer<NetworkPolicy>;
  private readonly nodes: readonly PolicyNode[];
  private readonly log: (line: string) => void;
  private readonly minSyncPeriodMs: number;
  private readonly statusDir: string | undefined;
  private readonly component: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private generation = 0;
  /** Last applied ruleset per node; undefined means the next sync is a full replace. */
  private readonly applied = new Map<string, Ruleset | undefined>();
  /** The last version of each policy (by uid) that this backend could express. */
  private readonly lastGood = new Map<string, NetworkPolicy>();
  /** uid@resourceVersion of policy versions already warned about. */
  private readonly warned = new Set<string>();
  /** uid@resourceVersion -> why it cannot be expressed ('' when it can): each version is checked once. */
  private readonly checked = new Map<string, string>();
  readonly lastSync = new Map<string, PolicySyncResult>();
  private lastCompiled: CompiledPolicies | undefined;

  constructor(o: PolicyLoopOptions) {
    this.client = o.client;
    this.nodes = o.nodes;
    this.log = o.log;
    this.minSyncPeriodMs = o.minSyncPeriodMs ?? 20;
    this.statusDir = o.statusDir;
    this.component = o.component ?? 'flatnet-netpol';
    this.pods = Informer.forResource<Pod>(o.client, resource('Pod'), {}, { name: 'netpol-pods' });
    this.namespaces = Informer.forResource<Namespace>(o.client, resource('Namespace'), {}, { name: 'netpol-namespaces' });
    this.policies = Informer.forResource<NetworkPolicy>(o.client, resource('NetworkPolicy'), {}, { name: 'netpol-policies' });
  }

  async start(): Promise<void> {
    // Same-node pod-to-pod traffic is bridged on cni0: it reaches the ip family's forward hook only through
    // br_netfilter. Make sure each node namespace has it on (per-namespace sysctl).
    await Promise.all(this.nodes.map(async (node) => {
      const r = await execIn(node.netns, 'sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']).catch((e: unknown) => ({ code: -1, stdout: '', stderr: String(e) }));
      if (r.code !== 0) this.log(`node ${node.name}: cannot enable bridge-nf-call-iptables (same-node pod traffic will bypass policies): ${r.stderr.trim()}`);
    }));
    const schedule = () => this.schedule();
    this.pods.addEventHandler({ onAdd: schedule, onDelete: schedule, onUpdate: (a, b) => { if (podFingerprint(a) !== podFingerprint(b)) schedule(); } });
    this.namespaces.addEventHandler({ onAdd: schedule, onDelete: schedule, onUpdate: (a, b) => { if (JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {})) schedule(); } });
    this.policies.addEventHandler({ onAdd: schedule, onDelete: schedule, onUpdate: schedule });
    this.pods.start();
    this.namespaces.start();
    this.policies.start();
    await Promise.all([this.pods.waitForSync(30_000), this.namespaces.waitForSync(30_000), this.policies.waitForSync(30_000)]);
    this.schedule();
    await this.flush();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.syncAll()).catch((e: unknown) => {
        this.log(`policy sync: ${e instanceof Error ? e.message : String(e)}`);
        // Retry after a failure (the next attempt is a full replace).
        setTimeout(() => this.schedule(), 1000).unref();
      });
    }, this.minSyncPeriodMs);
  }

  /** Waits until the pending sync (if any) has been applied. */
  async flush(): Promise<void> {
    for (let i = 0; i < 10_000 && this.timer; i++) await new Promise((r) => setTimeout(r, this.minSyncPeriodMs));
    await this.running;
  }

  /**
   * The policies to enforce: each one as it is now if this backend can express it, else its last
   * expressible version (or nothing). Warns once per unexpressible version.
   */
  private effectivePolicies(): { policies: NetworkPolicy[]; notEnforced: Record<string, string> } {
    const out: NetworkPolicy[] = [];
    const notEnforced: Record<string, string> = {};
    const live = new Set<string>();
    for (const np of this.policies.list()) {
      const uid = policyUid(np);
      live.add(uid);
      const stamp = `${uid}@${np.metadata.resourceVersion ?? ''}`;
      let reason = this.checked.get(stamp);
      if (reason === undefined) {
        try {
          reason = unexpressibleReason(buildPolicyModel({ namespaces: [], pods: [], policies: [np] }), keyOf(np)) ?? '';
        } catch (e) {
          if (!(e instanceof NetpolError)) throw e;
          reason = e.message;
        }
        this.checked.set(stamp, reason);
      }
      if (reason === '') {
        this.lastGood.set(uid, np);
        out.push(np);
        continue;
      }
      const previous = this.lastGood.get(uid);
      if (previous) out.push(previous);
      notEnforced[keyOf(np)] = reason;
      if (!this.warned.has(stamp)) {
        this.warned.add(stamp);
        const keeping = previous ? `keeping its previous version (resourceVersion ${previous.metadata.resourceVersion ?? '?'}) in force` : 'it is not enforced';
        this.log(`policy ${keyOf(np)}: cannot be expressed: ${reason}; ${keeping}`);
        void this.client.createEvent(np, {
          type: 'Warning', reason: 'PolicyNotEnforced', component: this.component, action: 'Enforce',
          message: `flatnet cannot enforce this version of the policy: ${reason}; ${keeping}`,
        }).catch((e: unknown) => this.log(`event for ${keyOf(np)}: ${String(e)}`));
      }
    }
    for (const uid of [...this.lastGood.keys()]) if (!live.has(uid)) this.lastGood.delete(uid);
    const liveStamps = new Set(this.policies.list().map((p) => `${policyUid(p)}@${p.metadata.resourceVersion ?? ''}`));
    for (const stamp of [...this.checked.keys()]) if (!liveStamps.has(stamp)) this.checked.delete(stamp);
    for (const stamp of [...this.warned]) if (!liveStamps.has(stamp)) this.warned.delete(stamp);
    return { policies: out, notEnforced };
  }

  private async syncAll(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    const started = performance.now();
    const pods = enforcedPods(this.pods.list());
    const { policies, notEnforced } = this.effectivePolicies();
    const compiled = compilePolicies(buildPolicyModel({ namespaces: this.namespaces.list(), pods, policies }));
    this.lastCompiled = compiled;
    const inForce = Object.fromEntries(policies.map((p) => [keyOf(p), p.metadata.resourceVersion ?? ''] as const).sort((a, b) => a[0].localeCompare(b[0])));
    const errors: string[] = [];
    await Promise.all(this.nodes.map(async (node) => {
      const t0 = performance.now();
      const local = new Set(pods.filter((p) => p.spec?.nodeName === node.name).map(keyOf));
      const built = buildNodePolicyTable(compiled, { localPods: local });
      const desired: Ruleset = { tables: [built.table] };
      const previous = this.applied.get(node.name);
      let script: string;
      let diff: DiffStats | undefined;
      if (previous === undefined) {
        script = renderCommands(fullReplaceCommands(desired));
      } else {
        const d = diffRulesets(previous, desired);
        script = renderCommands(d.commands);
        diff = d.stats;
      }
      const kind: PolicySyncResult['kind'] = previous === undefined ? 'full' : script === '' ? 'noop' : 'partial';
      if (script !== '') {
        const r = await execIn(node.netns, 'nft', ['-f', '-'], { input: script, timeoutMs: 120_000 });
        if (r.code !== 0) {
          this.applied.set(node.name, undefined);
          errors.push(`node ${node.name}: nft -f - failed (${kind} sync): ${r.stderr.trim().split('\n').slice(0, 8).join('\n')}`);
          return;
        }
      }
      this.applied.set(node.name, desired);
      const result: PolicySyncResult = {
        kind, durationMs: performance.now() - t0, scriptBytes: script.length, ...(diff ? { diff } : {}), isolatedPods: built.isolated.length, at: Date.now(),
      };
      this.lastSync.set(node.name, result);
      this.writeStatus({
        node: node.name, syncedAt: new Date().toISOString(), generation, policies: inForce, notEnforced, pods: local.size, isolated: built.isolated.length, kind,
      });
    }));
    if (errors.length > 0) throw new Error(errors.join('; '));
    const ms = performance.now() - started;
    if (ms > 1000) this.log(`policy sync took ${ms.toFixed(0)} ms (${pods.length} pods, ${policies.length} policies)`);
  }

  private writeStatus(status: PolicyNodeStatus): void {
    if (this.statusDir === undefined) return;
    try {
      mkdirSync(this.statusDir, { recursive: true });
      const file = join(this.statusDir, `${status.node}.json`);
      writeFileSync(`${file}.tmp`, JSON.stringify(status) + '\n');
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.log(`policy status of ${status.node}: ${String(e)}`);
    }
  }

  /** The node's policy rules as last applied (nft script text). */
  rulesOf(node: string): string | undefined {
    const rs = this.applied.get(node);
    return rs ? renderRuleset(rs) : undefined;
  }

  /** The compiled policies of the last sync (for explanations). */
  compiled(): CompiledPolicies | undefined {
    return this.lastCompiled;
  }

  /** The counters of the node's policy rules, read from the kernel. */
  async counters(node: string): Promise<PolicyRuleCounter[]> {
    return readPolicyCounters(this.nodes.find((n) => n.name === node)?.netns ?? node);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.policies.stop()]);
  }
}

/** Reads the policy rule counters of a node namespace (`nft -j list table ip flatnet-netpol`). */
export async function readPolicyCounters(netns: string): Promise<PolicyRuleCounter[]> {
  const r = await execIn(netns, 'nft', ['-j', 'list', 'table', 'ip', NETPOL_TABLE]);
  if (r.code !== 0) throw new Error(`nft list table ip ${NETPOL_TABLE} in ${netns}: ${r.stderr.trim()}`);
  return parsePolicyCounters(JSON.parse(r.stdout) as unknown);
}
