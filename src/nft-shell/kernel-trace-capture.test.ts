// Kernel tests of the kernel-trace capture: namespaces for a client "pod", a "node" running the proxier's
// real nftables ruleset, a backend "pod" with an HTTP server and a sink behind the node's uplink, joined
// by veths and routed like host-gw. The node's ruleset is built by src/proxy/core and rendered by src/nft/render.ts; the kernel's
// trace of real probes is compared with the model's path. Needs root, iproute2, nft and busybox; fails
// (does not skip) without them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateHooks, type Packet } from '../nft/evaluate.ts';
import { compareWithModel, findPacket, KernelTraceError, splitPackets, type HandleIndex, type KernelTraceEvent } from '../nft/kernel-trace.ts';
import { renderRuleset } from '../nft/render.ts';
import type { Hook, Match, Ruleset } from '../nft/types.ts';
import { httpPort, service, slice } from '../proxy/core/fixtures.ts';
import { buildNftRuleset } from '../proxy/core/nft-rules.ts';
import { collectServicePorts, type ProxyConfig } from '../proxy/core/service-ports.ts';
import { execIn } from '../proxy/exec.ts';
import { captureKernelTrace, ruleHandles, rulesetHandleIndex } from './kernel-trace-capture.ts';
import { sendProbe } from './send-probe.ts';

const sfx = Math.random().toString(16).slice(2, 8);
const NS = { client: `fnkt-${sfx}-c`, node: `fnkt-${sfx}-n`, backend: `fnkt-${sfx}-s`, sink: `fnkt-${sfx}-x` };
const CLIENT_IP = '10.244.1.2';
const BACKEND_IP = '10.244.2.2';
const WEB = '10.96.0.10';
const EMPTY = '10.96.0.11';
const UNALLOCATED = '10.96.5.5';

const config: ProxyConfig = { nodeName: 'n1', nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };
const proxyRules = (endpoint: string): Ruleset => buildNftRuleset(collectServicePorts(
  [service('web', { clusterIP: WEB, ports: [httpPort(80)] }), service('empty', { clusterIP: EMPTY, ports: [httpPort(80)] })],
  [slice('web', [{ ip: endpoint, node: 'n2' }]), slice('empty', [])],
  config,
), config);
const nodeRules = proxyRules(BACKEND_IP);
const clientRules: Ruleset = { tables: [{
  family: 'ip', name: 'fnkt-client', sets: [], maps: [],
  chains: [{ name: 'out', base: { type: 'filter', hook: 'output', priority: 0, policy: 'accept' }, rules: [
    { match: [{ kind: 'cmp', left: 'meta l4proto', right: 'tcp' }], statements: [{ kind: 'counter' }] },
  ] }],
}] };

async function must(netns: string | undefined, cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execIn(netns, cmd, args, { timeoutMs: 20_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`${netns ?? '(root)'}: ${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const created: string[] = [];
let httpd: ChildProcess | undefined;
const www = mkdtempSync(join(tmpdir(), 'fnkt-www-'));

async function build(): Promise<void> {
  for (const ns of Object.values(NS)) {
    await must(undefined, 'ip', ['netns', 'add', ns]);
    created.push(ns);
    await must(ns, 'ip', ['link', 'set', 'lo', 'up']);
  }
  const wire = async (pod: string, podIP: string, nodeIf: string, gw: string) => {
    await must(undefined, 'ip', ['link', 'add', 'eth0', 'netns', pod, 'type', 'veth', 'peer', 'name', nodeIf, 'netns', NS.node]);
    await must(pod, 'ip', ['addr', 'add', `${podIP}/24`, 'dev', 'eth0']);
    await must(pod, 'ip', ['link', 'set', 'eth0', 'up']);
    await must(pod, 'ip', ['route', 'add', 'default', 'via', gw]);
    await must(NS.node, 'ip', ['addr', 'add', `${gw}/24`, 'dev', nodeIf]);
    await must(NS.node, 'ip', ['link', 'set', nodeIf, 'up']);
  };
  await wire(NS.client, CLIENT_IP, 'vc', '10.244.1.1');
  await wire(NS.backend, BACKEND_IP, 'vs', '10.244.2.1');
  // The node's "uplink": a veth to a namespace that forwards nothing, so packets to unknown addresses are
  // forwarded by the node (and vanish there).
  await must(undefined, 'ip', ['link', 'add', 'up0', 'netns', NS.node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.sink]);
  await must(NS.sink, 'ip', ['link', 'set', 'eth0', 'up']);
  await must(NS.node, 'ip', ['addr', 'add', '192.168.50.11/24', 'dev', 'up0']);
  await must(NS.node, 'ip', ['link', 'set', 'up0', 'up']);
  await must(NS.node, 'ip', ['route', 'add', 'default', 'dev', 'up0']);
  await must(NS.node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  writeFileSync(join(www, 'index.html'), 'backend\n');
  httpd = spawn('ip', ['netns', 'exec', NS.backend, 'busybox', 'httpd', '-f', '-p', `${BACKEND_IP}:8080`, '-h', www], { stdio: 'ignore' });
  await must(NS.node, 'nft', ['-f', '-'], renderRuleset(nodeRules));
  await must(NS.client, 'nft', ['-f', '-'], renderRuleset(clientRules));
  // Bounded wait for the backend's listener.
  for (let i = 0; i < 50; i++) {
    const r = await sendProbe(NS.backend, { protocol: 'TCP', dst: BACKEND_IP, port: 8080, timeoutMs: 200 });
    if (r.result === 'connected') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the backend HTTP server did not come up');
}

async function destroy(): Promise<void> {
  if (httpd?.pid !== undefined) { try { httpd.kill('SIGKILL'); } catch { /* gone */ } }
  for (const ns of [...created].reverse()) {
    const pids = await execIn(undefined, 'ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    await execIn(undefined, 'ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  rmSync(www, { recursive: true, force: true });
}

const tcp = (dst: string, sport: number): Match[] => [
  { kind: 'cmp', left: 'ip saddr', right: CLIENT_IP }, { kind: 'cmp', left: 'ip daddr', right: dst },
  { kind: 'cmp', left: 'meta l4proto', right: 'tcp' }, { kind: 'cmp', left: 'th sport', right: sport },
];
let nextPort = 20000 + Math.floor(Math.random() * 9000);

/** Probes dst:80 from the client while tracing in the client and the node; returns the probe result and the SYN's events per namespace. */
async function traceProbe(dst: string): Promise<{ result: string; sport: number; node: readonly KernelTraceEvent[]; client: readonly KernelTraceEvent[] }> {
  const sport = nextPort++;
  let result = '';
  const events = await captureKernelTrace({
    netns: [NS.client, NS.node],
    match: tcp(dst, sport),
    send: async () => { result = (await sendProbe(NS.client, { protocol: 'TCP', dst, port: 80, srcPort: sport, timeoutMs: 800 })).result; },
  });
  const syn = (ns: string) => findPacket(splitPackets(events.get(ns) ?? []), { saddr: CLIENT_IP, sport, dport: 80 })?.events ?? [];
  return { result, sport, node: syn(NS.node), client: syn(NS.client) };
}

// The kernel runs base chains of equal priority in reverse order of registration: a chain hooked later
// runs first (nf_hook_entries_grow inserts before the first entry of equal or higher priority). Both
// proxier tables hook postrouting at 100 and are loaded in one script, kube-proxy first, so the kernel
// runs flatnet-egress first; evaluate() takes the ruleset's order as the load order and does the same.

function model(rs: Ruleset, dst: string, sport: number, hooks: readonly Hook[]) {
  const p: Packet = { saddr: CLIENT_IP, daddr: dst, l4proto: 'tcp', sport, dport: 80, iif: 'vc', fibDaddrType: 'unicast', fibSaddrType: 'unicast', masqueradeAddr: '10.244.2.1' };
  const hops = evaluateHooks(rs, p, hooks, { random: () => 0 });
  return { path: hops.flatMap((h) => h.path), verdict: hops.at(-1)?.verdict };
}

const FORWARDED: readonly Hook[] = ['prerouting', 'forward', 'postrouting'];
const show = (rows: unknown) => JSON.stringify(rows, null, 1);

describe('capturing the kernel\'s trace of real packets and comparing it with the model', { concurrency: false }, () => {
  let nodeIndex: HandleIndex;
  let clientIndex: HandleIndex;

  before(async () => {
    await build();
    nodeIndex = await rulesetHandleIndex(NS.node);
    clientIndex = await rulesetHandleIndex(NS.client);
  });
  after(destroy);

  it('traces a TCP connect to a DNATed ClusterIP on the node and agrees with the model', async () => {
    const t = await traceProbe(WEB);
    assert.equal(t.result, 'connected');
    const dnat = t.node.find((e) => e.kind === 'rule' && (e.ruleText ?? '').includes(`dnat to ${BACKEND_IP}:8080`));
    assert.equal(dnat?.verdict, 'accept', `the kernel DNATed: ${show(t.node)}`);
    const m = model(nodeRules, WEB, t.sport, FORWARDED);
    assert.equal(m.verdict, 'accept');
    const cmp = compareWithModel(m.path, t.node, nodeIndex);
    assert.ok(cmp.agree, show(cmp.rows));
    assert.ok(cmp.rows.filter((r) => r.kernel !== undefined).length >= 5, show(cmp.rows));
    const client = compareWithModel(model(clientRules, WEB, t.sport, ['output', 'postrouting']).path, t.client, clientIndex);
    assert.ok(client.agree && t.client.some((e) => e.kind === 'rule' && e.verdict === 'continue'), show(client.rows));
  });

  it('runs base chains of equal priority in reverse order of registration (the later table first)', async () => {
    const t = await traceProbe(WEB);
    assert.equal(t.result, 'connected');
    const order = t.node.filter((e) => e.kind === 'policy' && (e.chain === 'nat-postrouting' || e.table === 'flatnet-egress')).map((e) => e.table);
    assert.deepEqual(order, ['flatnet-egress', 'kube-proxy'], show(t.node));
    assert.deepEqual(nodeRules.tables.map((x) => x.name), ['kube-proxy', 'flatnet-egress'], 'loaded kube-proxy first');
    const modelOrder = model(nodeRules, WEB, t.sport, FORWARDED).path
      .filter((st) => st.chain === 'nat-postrouting' || st.table === 'flatnet-egress').map((st) => st.table);
    assert.equal(modelOrder[0], 'flatnet-egress', 'the model runs the tie in the kernel\'s order too');
  });

  it('traces a packet to an unallocated ClusterIP that the node drops, and agrees with the model', async () => {
    const t = await traceProbe(UNALLOCATED);
    assert.equal(t.result, 'timeout');
    assert.equal(t.node.at(-1)?.verdict, 'drop', show(t.node));
    const m = model(nodeRules, UNALLOCATED, t.sport, FORWARDED);
    assert.equal(m.verdict, 'drop');
    const cmp = compareWithModel(m.path, t.node, nodeIndex);
    assert.ok(cmp.agree, show(cmp.rows));
  });

  it('traces a rejected connect to a Service without endpoints (a vmap goto to the reject chain)', async () => {
    const t = await traceProbe(EMPTY);
    assert.equal(t.result, 'refused');
    const m = model(nodeRules, EMPTY, t.sport, FORWARDED);
    assert.equal(m.verdict, 'reject');
    const cmp = compareWithModel(m.path, t.node, nodeIndex);
    assert.ok(cmp.agree, show(cmp.rows));
    assert.ok(t.node.some((e) => e.chain === 'reject-chain' && e.verdict === 'drop'), show(t.node));
  });

  it('flags a model path that differs from what the kernel did', async () => {
    const t = await traceProbe(WEB);
    assert.equal(t.result, 'connected');
    // A model believing the endpoint is elsewhere: other endpoint chains, another DNAT.
    const wrong = compareWithModel(model(proxyRules('10.244.2.9'), WEB, t.sport, FORWARDED).path, t.node, nodeIndex);
    assert.equal(wrong.agree, false);
    assert.ok(wrong.rows.some((r) => !r.agree && (r.kernel ?? '').includes(`dnat to ${BACKEND_IP}:8080`)), show(wrong.rows));
    // The dropped packet's path against the connected packet's trace.
    const dropped = compareWithModel(model(nodeRules, UNALLOCATED, t.sport, FORWARDED).path, t.node, nodeIndex);
    assert.equal(dropped.agree, false);
  });

  it('removes its marking table afterwards, also when sending fails', async () => {
    const boom = new Error('send failed');
    await assert.rejects(captureKernelTrace({ netns: [NS.node], match: tcp(WEB, 1), tableName: 'fntrace-failing', send: async () => { throw boom; } }), (e) => e === boom);
    const tables = await must(NS.node, 'nft', ['list', 'tables']);
    assert.doesNotMatch(tables, /fntrace/);
    assert.match(tables, /table ip kube-proxy/);
    const running = await execIn(undefined, 'ip', ['netns', 'pids', NS.node]);
    assert.equal(running.stdout.trim(), '', 'no monitor left running in the namespace');
  });

  it('fails with ApplyFailed for a namespace that does not exist, leaving the others clean', async () => {
    await assert.rejects(
      captureKernelTrace({ netns: [NS.client, `fnkt-${sfx}-missing`], match: tcp(WEB, 1), send: async () => undefined }),
      (e: unknown) => e instanceof KernelTraceError && e.code === 'ApplyFailed',
    );
    assert.doesNotMatch(await must(NS.client, 'nft', ['list', 'tables']), /fntrace/);
  });

  it('maps kernel rule handles to rule positions for one table', async () => {
    const idx = await ruleHandles(NS.node, 'kube-proxy');
    const listing = JSON.parse(await must(NS.node, 'nft', ['-a', '-j', 'list', 'chain', 'ip', 'kube-proxy', 'services'])) as { nftables: { rule?: { handle: number } }[] };
    const handles = listing.nftables.flatMap((x) => (x.rule ? [x.rule.handle] : []));
    assert.equal(handles.length, nodeRules.tables[0]?.chains.find((c) => c.name === 'services')?.rules.length);
    assert.deepEqual(handles.map((h) => idx('services', h)), handles.map((_, i) => i));
    assert.equal(idx('services', 999_999), undefined);
  });
});
