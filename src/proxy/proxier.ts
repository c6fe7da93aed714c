// The proxier shell: turns Services + EndpointSlices + Nodes into kernel rules on one node (a network
// namespace), in nftables or iptables mode. The first sync (and every periodic full resync) replaces our
// tables/chains atomically; later syncs apply only the diff against what was last applied, still as ONE
// atomic transaction (`nft -f -`, or one `iptables-restore --noflush` COMMIT per table). After a
// successful sync, stale UDP conntrack entries are cleared and metrics observed.
import type { EndpointSlice, Node, Service } from '../api/types.ts';
import { renderRuleset } from '../nft/render.ts';
import { diffRulesets, fullReplaceCommands, renderCommands, type DiffStats } from '../nft/transaction.ts';
import type { Ruleset } from '../nft/types.ts';
import { conntrackArgs, staleConntrackEntries } from './core/conntrack.ts';
import {
  buildIptablesRuleset, diffIptables, isOwnedIptChain, missingJumps, newIptBuildCache, renderIptablesRestore, renderIptablesText, type IptablesRuleset,
} from './core/iptables-rules.ts';
import { proxyHistograms } from './core/metrics.ts';
import { buildNftRuleset, EGRESS_TABLE, KUBE_PROXY_TABLE, newNftBuildCache } from './core/nft-rules.ts';
import { collectServicePorts, newCollectCache, type ProxyConfig, type ServicePortInfo } from './core/service-ports.ts';
import { execIn, splitRule } from './exec.ts';

export type ProxyMode = 'nftables' | 'iptables';

export type ProxyErrorCode = 'UnsupportedMode' | 'ApplyFailed';

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
  }
}

export interface ProxierOptions {
  /** 'nftables' or 'iptables'; anything else (notably 'ipvs') is refused. */
  readonly mode: string;
  /** The node's network namespace; undefined = the current one. */
  readonly runInNetns?: string;
  readonly nodeName: string;
  readonly nodeIPs: readonly string[];
  readonly clusterCIDR: string;
  readonly serviceCIDR?: string;
  readonly masqueradeBit?: number;
  readonly masqueradeAll?: boolean;
  readonly egressMasquerade?: boolean;
  /** A sync after this long since the last full one is a full one. Default 1 hour. */
  readonly fullSyncIntervalMs?: number;
  /** Clock (ms since epoch), injectable for tests. */
  readonly now?: () => number;
  /** Timeout of one nft / iptables-restore run. Default 300 s. */
  readonly commandTimeoutMs?: number;
}

export interface SyncResult {
  readonly mode: ProxyMode;
  readonly kind: 'full' | 'partial' | 'noop';
  readonly durationSeconds: number;
  readonly servicePorts: number;
  /** Bytes of nft script / iptables-restore input sent to the kernel. */
  readonly scriptBytes: number;
  /** nftables partial syncs: what the diff touched. */
  readonly diff?: DiffStats;
  /** iptables: chains rewritten and deleted. */
  readonly chainsWritten?: number;
  readonly chainsDeleted?: number;
  readonly conntrackDeletions: number;
}

const TRIGGER_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const STALE_IPT_PREFIXES = ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-EXT-', 'KUBE-SVL-', 'KUBE-FW-'];

export function parseProxyMode(mode: string): ProxyMode {
  if (mode === 'nftables' || mode === 'iptables') return mode;
  if (mode === 'ipvs') {
    throw new ProxyError('UnsupportedMode', "proxy mode 'ipvs' is not supported: this kernel has no IPVS (ip_vs) and flatnet implements only --proxy-mode nftables or iptables");
  }
  throw new ProxyError('UnsupportedMode', `unknown proxy mode '${mode}' (expected nftables or iptables)`);
}

export class Proxier {
  readonly mode: ProxyMode;
  private readonly netns: string | undefined;
  private readonly config: ProxyConfig;
  private readonly fullSyncIntervalMs: number;
  private readonly commandTimeoutMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly hist = proxyHistograms();
  private appliedNft: Ruleset | undefined;
  private appliedIpt: IptablesRuleset | undefined;
  private appliedPorts: ServicePortInfo[] = [];
  private lastFullSyncAt = 0;
  private needFull = true;
  private seenTriggers = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly collectCache = newCollectCache();
  private readonly nftCache = newNftBuildCache();
  private readonly iptCache = newIptBuildCache();

  constructor(opts: ProxierOptions) {
    this.mode = parseProxyMode(opts.mode);
    this.netns = opts.runInNetns;
    this.config = {
      nodeName: opts.nodeName, nodeIPs: opts.nodeIPs, clusterCIDR: opts.clusterCIDR,
      ...(opts.serviceCIDR !== undefined ? { serviceCIDR: opts.serviceCIDR } : {}),
      ...(opts.masqueradeBit !== undefined ? { masqueradeBit: opts.masqueradeBit } : {}),
      ...(opts.masqueradeAll !== undefined ? { masqueradeAll: opts.masqueradeAll } : {}),
      ...(opts.egressMasquerade !== undefined ? { egressMasquerade: opts.egressMasquerade } : {}),
    };
    this.fullSyncIntervalMs = opts.fullSyncIntervalMs ?? 3_600_000;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Makes the next sync a full one (e.g. after someone else touched our rules). */
  requestFullSync(): void { this.needFull = true; }

  /** Programs the node for exactly these objects. Calls are serialised. */
  sync(services: readonly Service[], slices: readonly EndpointSlice[], nodes: readonly Node[]): Promise<SyncResult> {
    const run = this.queue.then(() => this.doSync(services, slices, nodes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doSync(services: readonly Service[], slices: readonly EndpointSlice[], nodes: readonly Node[]): Promise<SyncResult> {
    void nodes; // Node labels would feed topology hints, which this proxier does not implement.
    const t0 = performance.now();
    const ports = collectServicePorts(services, slices, this.config, this.collectCache);
    const full = this.needFull || this.now() - this.lastFullSyncAt >= this.fullSyncIntervalMs;
    let result: Omit<SyncResult, 'durationSeconds' | 'conntrackDeletions'>;
    try {
      result = this.mode === 'nftables' ? await this.applyNft(ports, full) : await this.applyIpt(ports, full);
    } catch (e) {
      this.needFull = true;
      throw e;
    }
    if (full) { this.needFull = false; this.lastFullSyncAt = this.now(); }

    // UDP conntrack cleanup for removed endpoints / newly active services.
    let deletions = 0;
    for (const d of staleConntrackEntries(this.appliedPorts, ports)) {
      await execIn(this.netns, 'conntrack', conntrackArgs(d), { timeoutMs: 10_000 });
      deletions++;
    }
    this.appliedPorts = ports;

    const durationSeconds = (performance.now() - t0) / 1000;
    this.hist.syncDuration.observe(durationSeconds);
    this.observeProgramming(slices);
    return { ...result, durationSeconds, conntrackDeletions: deletions };
  }

  private observeProgramming(slices: readonly EndpointSlice[]): void {
    const now = this.now();
    const next = new Map<string, string>();
    for (const s of slices) {
      const key = `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
      const trig = s.metadata.annotations?.[TRIGGER_ANNOTATION];
      if (trig === undefined) continue;
      next.set(key, trig);
      if (this.seenTriggers.get(key) === trig) continue;
      const at = Date.parse(trig);
      // Like upstream: only changes made after the proxier started count.
      if (Number.isFinite(at) && at >= this.startedAt - 1000) this.hist.networkProgramming.observe(Math.max(0, (now - at) / 1000));
    }
    this.seenTriggers = next;
  }

  private async applyNft(ports: readonly ServicePortInfo[], full: boolean): Promise<Omit<SyncResult, 'durationSeconds' | 'conntrackDeletions'>> {
    const desired = buildNftRuleset(ports, this.config, this.nftCache);
    let script: string;
    let diff: DiffStats | undefined;
    if (full || this.appliedNft === undefined) {
      script = renderCommands(fullReplaceCommands(desired, [{ family: 'ip', table: KUBE_PROXY_TABLE }, { family: 'ip', table: EGRESS_TABLE }]));
    } else {
      const d = diffRulesets(this.appliedNft, desired);
      script = renderCommands(d.commands);
      diff = d.stats;
    }
    const kind = full || this.appliedNft === undefined ? 'full' : script === '' ? 'noop' : 'partial';
    if (script !== '') {
      const r = await execIn(this.netns, 'nft', ['-f', '-'], { input: script, timeoutMs: this.commandTimeoutMs });
      if (r.code !== 0) throw new ProxyError('ApplyFailed', `nft -f - failed (${kind} sync): ${r.stderr.trim().split('\n').slice(0, 12).join('\n')}`);
    }
    this.appliedNft = desired;
    return { mode: 'nftables', kind, servicePorts: ports.length, scriptBytes: script.length, ...(diff ? { diff } : {}) };
  }

  private async restore(text: string): Promise<void> {
    if (text === '') return;
    const r = await execIn(this.netns, 'iptables-restore', ['-w', '--noflush'], { input: text, timeoutMs: this.commandTimeoutMs });
    if (r.code !== 0) throw new ProxyError('ApplyFailed', `iptables-restore failed: ${r.stderr.trim().split('\n').slice(0, 12).join('\n')}`);
  }

  /** Existing chain names per table, and the raw iptables-save text (one call for both tables). */
  private async existingIptChains(): Promise<{ nat: string[]; filter: string[]; saved: string }> {
    const out = { nat: [] as string[], filter: [] as string[], saved: '' };
    const r = await execIn(this.netns, 'iptables-save', []);
    if (r.code !== 0) throw new ProxyError('ApplyFailed', `iptables-save failed: ${r.stderr.trim()}`);
    out.saved = r.stdout;
    let table: 'nat' | 'filter' | undefined;
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('*')) { const t = line.slice(1); table = t === 'nat' || t === 'filter' ? t : undefined; continue; }
      const m = /^:(\S+) /.exec(line);
      if (m?.[1] !== undefined && table !== undefined) out[table].push(m[1]);
    }
    return out;
  }

  private async applyIpt(ports: readonly ServicePortInfo[], full: boolean): Promise<Omit<SyncResult, 'durationSeconds' | 'conntrackDeletions'>> {
    const desired = buildIptablesRuleset(ports, this.config, this.iptCache);
    if (full || this.appliedIpt === undefined) {
      const existing = await this.existingIptChains();
      const want = { nat: new Set(desired.nat.map((c) => c.name)), filter: new Set(desired.filter.map((c) => c.name)) };
      const stale = {
        nat: existing.nat.filter((c) => STALE_IPT_PREFIXES.some((p) => c.startsWith(p)) && !want.nat.has(c)),
        filter: existing.filter.filter((c) => STALE_IPT_PREFIXES.some((p) => c.startsWith(p)) && !want.filter.has(c)),
      };
      const text = renderIptablesRestore(desired, { deleteChains: stale, insertJumps: missingJumps(desired, existing.saved) });
      await this.restore(text);
      this.appliedIpt = desired;
      return { mode: 'iptables', kind: 'full', servicePorts: ports.length, scriptBytes: text.length, chainsWritten: desired.nat.length + desired.filter.length, chainsDeleted: stale.nat.length + stale.filter.length };
    }
    const d = diffIptables(this.appliedIpt, desired);
    const text = d.changed.size === 0 && d.removed.nat.length === 0 && d.removed.filter.length === 0 ? '' : renderIptablesRestore(desired, { onlyChains: d.changed, deleteChains: d.removed });
    await this.restore(text);
    this.appliedIpt = desired;
    return { mode: 'iptables', kind: text === '' ? 'noop' : 'partial', servicePorts: ports.length, scriptBytes: text.length, chainsWritten: d.changed.size, chainsDeleted: d.removed.nat.length + d.removed.filter.length };
  }

  /** The rules last applied, as text: an nft script (nftables) or iptables-save-like text (iptables). */
  renderRules(): string {
    if (this.mode === 'nftables') return this.appliedNft === undefined ? '' : renderRuleset(this.appliedNft);
    return this.appliedIpt === undefined ? '' : renderIptablesText(this.appliedIpt);
  }

  /** Prometheus text exposition of the proxier's histograms. */
  metrics(): string {
    return this.hist.syncDuration.render() + this.hist.networkProgramming.render();
  }

  /** Removes everything this proxier programmed (tables in nftables mode; jumps and owned chains in iptables mode). */
  async cleanup(): Promise<void> {
    if (this.mode === 'nftables') {
      const script = renderCommands([
        { op: 'add-table', family: 'ip', table: KUBE_PROXY_TABLE }, { op: 'delete-table', family: 'ip', table: KUBE_PROXY_TABLE },
        { op: 'add-table', family: 'ip', table: EGRESS_TABLE }, { op: 'delete-table', family: 'ip', table: EGRESS_TABLE },
      ]);
      const r = await execIn(this.netns, 'nft', ['-f', '-'], { input: script });
      if (r.code !== 0) throw new ProxyError('ApplyFailed', `nft cleanup failed: ${r.stderr.trim()}`);
    } else {
      const rs = this.appliedIpt ?? buildIptablesRuleset([], this.config);
      for (const j of rs.jumps) {
        for (let i = 0; i < 4; i++) {
          const r = await execIn(this.netns, 'iptables', ['-w', '-t', j.table, '-D', j.chain, ...splitRule(j.rule)]);
          if (r.code !== 0) break;
        }
      }
      const existing = await this.existingIptChains();
      const owned = { nat: existing.nat.filter(isOwnedIptChain), filter: existing.filter.filter(isOwnedIptChain) };
      await this.restore(renderIptablesRestore({ nat: [], filter: [], jumps: [] }, { deleteChains: owned }));
    }
    this.appliedNft = undefined;
    this.appliedIpt = undefined;
    this.appliedPorts = [];
    this.needFull = true;
  }

  /** Calls `source()` and syncs every `intervalMs` (a full resync when due); returns a stop function. */
  startResync(source: () => { services: readonly Service[]; slices: readonly EndpointSlice[]; nodes: readonly Node[] }, intervalMs: number, onError: (e: unknown) => void = () => undefined): () => void {
    const timer = setInterval(() => {
      const s = source();
      this.sync(s.services, s.slices, s.nodes).catch(onError);
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
