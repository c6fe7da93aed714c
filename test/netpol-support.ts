// Helpers for the NetworkPolicy kernel tests: run `flatnet probe -o json`, compute the offline model's
// table for the same objects read back from the API (the oracle), and wait until every node's policy agent
// reports the policies in force.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../src/api/types.ts';
import { buildPolicyModel, compilePolicies, computeMatrix } from '../src/netpol/core/index.ts';
import type { ProbeReport } from '../src/cli/probe-command.ts';
import type { PolicyNodeStatus } from '../src/netpol/policy-agent.ts';
import type { ClusterFixture } from './support/cluster-fixture.ts';

export async function probe(c: ClusterFixture, namespaces: string[], port: number, protocol: 'TCP' | 'UDP' = 'TCP'): Promise<ProbeReport> {
  const r = await c.flatnet(['probe', '--name', c.name, '-n', namespaces.join(','), '--port', String(port), '--protocol', protocol, '-o', 'json', '--timeout-ms', '1000', '--parallel', '9']);
  if (r.status !== 0) throw new Error(`flatnet probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeReport;
}

interface Objects { namespaces: Namespace[]; pods: Pod[]; policies: NetworkPolicy[] }

export async function readObjects(c: ClusterFixture, namespaces: string[]): Promise<Objects> {
  const list = async <T,>(what: string): Promise<T[]> => (JSON.parse(await c.k(['get', what, '-A', '-o', 'json'])) as { items: T[] }).items;
  const [nss, pods, policies] = await Promise.all([list<Namespace>('namespaces'), list<Pod>('pods'), list<NetworkPolicy>('networkpolicies')]);
  return { namespaces: nss, pods: pods.filter((p) => namespaces.includes(p.metadata.namespace ?? '')), policies };
}

/**
 * The offline model's rows (`.`/`X`) for the pods the probe saw, in the probe's order. A pod's traffic to
 * itself never leaves its namespace in the lab, so loopback counts as allowed (allowLoopback).
 */
export function oracleRows(objects: Objects, pods: readonly string[], port: number, protocol: Protocol): string[] {
  const model = buildPolicyModel({ namespaces: objects.namespaces, pods: objects.pods, policies: objects.policies });
  const m = computeMatrix(compilePolicies(model), { port, protocol, allowLoopback: true });
  const idx = new Map(m.pods.map((k, i) => [k, i]));
  return pods.map((from) => pods.map((to) => {
    const i = idx.get(from), j = idx.get(to);
    if (i === undefined || j === undefined) throw new Error(`the model has no pod ${i === undefined ? from : to}`);
    return m.allowed[i * m.pods.length + j] ? '.' : 'X';
  }).join(''));
}

export function renderRows(pods: readonly string[], rows: readonly string[]): string {
  return rows.map((r, i) => `${(pods[i] ?? '').padEnd(6)} ${r}`).join('\n');
}

export function readStatuses(cluster: string): PolicyNodeStatus[] {
  const dir = join('/run/flatnet', cluster, 'netpol');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as PolicyNodeStatus);
}

/**
 * Waits (bounded) until every node reports exactly `want` (policy key -> resourceVersion) among the
 * policies of `namespaces` in force, and returns the milliseconds it took from `since`.
 */
export async function waitEnforced(c: ClusterFixture, want: Record<string, string>, namespaces: string[], since: number, nodes = 3, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const wanted = JSON.stringify(Object.entries(want).sort());
  let last = '';
  while (Date.now() < deadline) {
    const st = readStatuses(c.name);
    const views = st.map((s) => JSON.stringify(Object.entries(s.policies).filter(([k]) => namespaces.includes(k.split('/')[0] ?? '')).sort()));
    last = views.join(' | ');
    if (st.length === nodes && views.every((v) => v === wanted)) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`policies not enforced on every node within ${timeoutMs} ms: want ${wanted}, nodes report ${last}`);
}

/** The resourceVersions of the policies in `namespaces`, as the API has them now. */
export async function policyVersions(c: ClusterFixture, namespaces: string[]): Promise<Record<string, string>> {
  const items = (JSON.parse(await c.k(['get', 'networkpolicies', '-A', '-o', 'json'])) as { items: NetworkPolicy[] }).items;
  return Object.fromEntries(items.filter((p) => namespaces.includes(p.metadata.namespace ?? '')).map((p) => [`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`, p.metadata.resourceVersion ?? '']));
}
