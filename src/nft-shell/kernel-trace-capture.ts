// Captures the kernel's own trace of packets (shell over src/nft/kernel-trace.ts): installs a temporary
// trace-marking table in each network namespace, runs `nft -a monitor trace` there, lets the caller send
// its packets, waits for the events to settle, and always stops the monitors and removes the tables.
//
// Why per namespace: the kernel clears a packet's trace mark when it crosses a veth into another network
// namespace, and each namespace's monitor sees only its own namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  handleIndexFromNftJson, KernelTraceError, parseTraceLine, traceMarkTable,
  type HandleIndex, type KernelTraceEvent,
} from '../nft/kernel-trace.ts';
import { renderTable } from '../nft/render.ts';
import type { Family, Match } from '../nft/types.ts';
import { execIn, SYSTEM_PATH } from '../proxy/exec.ts';

export interface CaptureOptions {
  /** Network namespaces to trace in (`ip netns` names). */
  readonly netns: readonly string[];
  /** Which packets to mark, as seen on entry (prerouting) or when sent (output) in each namespace. */
  readonly match: readonly Match[];
  /** Sends the packets; runs once every monitor is listening. */
  readonly send: () => Promise<void>;
  /** Quiet time, after send() returned and after the last event, before the monitors stop. Default 300. */
  readonly settleMs?: number;
  /** Bound on waiting for events after send() returned, and on each monitor's start. Default 10000. */
  readonly timeoutMs?: number;
  /** Name of the marking table; default a unique `fntrace-xxxxxxxx`. */
  readonly tableName?: string;
}

/** NETLINK_NETFILTER and the bit of the NFNLGRP_NFTRACE group in /proc/net/netlink's Groups column. */
const NETLINK_NETFILTER = 12;
const NFTRACE_GROUP_BIT = 1 << (9 - 1);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Is process `pid` (our monitor) subscribed to trace events in its namespace? */
function monitorSubscribed(pid: number): boolean {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/net/netlink`, 'utf8'); } catch { return false; }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    if (Number(f[1]) === NETLINK_NETFILTER && Number(f[2]) === pid && (Number.parseInt(f[3] ?? '0', 16) & NFTRACE_GROUP_BIT) !== 0) return true;
  }
  return false;
}

interface Monitor {
  readonly netns: string;
  readonly child: ChildProcess;
  readonly events: KernelTraceEvent[];
  stderr: string;
  buffer: string;
  lastEventAt: number;
  exited: boolean;
  readonly exit: Promise<void>;
}

function startMonitor(netns: string): Monitor {
  const child = spawn('ip', ['netns', 'exec', netns, 'nft', '-a', 'monitor', 'trace'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: SYSTEM_PATH, LANG: 'C' },
  });
  let resolveExit: () => void = () => undefined;
  const exit = new Promise<void>((r) => { resolveExit = r; });
  const mon: Monitor = { netns, child, events: [], stderr: '', buffer: '', lastEventAt: 0, exited: false, exit };
  const take = (final: boolean) => {
    const lines = mon.buffer.split('\n');
    mon.buffer = final ? '' : (lines.pop() ?? '');
    for (const line of lines) {
      const e = parseTraceLine(line);
      if (e !== undefined) { mon.events.push(e); mon.lastEventAt = performance.now(); }
    }
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => { mon.buffer += chunk; take(false); });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => { if (mon.stderr.length < 64 * 1024) mon.stderr += chunk; });
  child.on('error', (e) => { mon.stderr += `\n${e.message}`; });
  child.on('close', () => { take(true); mon.exited = true; resolveExit(); });
  return mon;
}

async function stopMonitor(mon: Monitor): Promise<void> {
  if (mon.exited) return;
  mon.child.kill('SIGTERM');
  const killed = await Promise.race([mon.exit.then(() => true), sleep(2000).then(() => false)]);
  if (!killed) {
    mon.child.kill('SIGKILL');
    await Promise.race([mon.exit, sleep(2000)]);
  }
}

async function waitSubscribed(mon: Monitor, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    if (mon.exited) throw new KernelTraceError('MonitorFailed', `nft monitor trace in ${mon.netns} exited: ${mon.stderr.trim()}`);
    const pid = mon.child.pid;
    if (pid !== undefined && monitorSubscribed(pid)) return;
    if (performance.now() > deadline) break;
    await sleep(20);
  }
  throw new KernelTraceError('MonitorNotReady', `nft monitor trace in ${mon.netns} did not subscribe to trace events within ${timeoutMs} ms`);
}

/**
 * Traces the packets `send` sends through each listed namespace. Returns each namespace's events in
 * order (the marking table's own events left out); split them per packet with splitPackets().
 * The ruleset to trace must be in place before the call: the monitor lists rules by handle from what it
 * read at start (rules added later come back without their text).
 */
export async function captureKernelTrace(opts: CaptureOptions): Promise<Map<string, KernelTraceEvent[]>> {
  const settleMs = opts.settleMs ?? 300;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const table = opts.tableName ?? `fntrace-${randomBytes(4).toString('hex')}`;
  const script = renderTable(traceMarkTable(table, opts.match));
  const installed: string[] = [];
  const monitors: Monitor[] = [];
  let failure: unknown;
  try {
    for (const ns of opts.netns) {
      const r = await execIn(ns, 'nft', ['-f', '-'], { input: script, timeoutMs: 20_000 });
      if (r.code !== 0) throw new KernelTraceError('ApplyFailed', `installing trace table ${table} in ${ns}: ${r.stderr.trim()}`);
      installed.push(ns);
    }
    for (const ns of opts.netns) monitors.push(startMonitor(ns));
    for (const mon of monitors) await waitSubscribed(mon, timeoutMs);
    await opts.send();
    const sentAt = performance.now();
    const deadline = sentAt + timeoutMs;
    for (let i = 0; i < 1_000_000 && performance.now() < deadline; i++) {
      const dead = monitors.find((m) => m.exited);
      if (dead) throw new KernelTraceError('MonitorFailed', `nft monitor trace in ${dead.netns} exited early: ${dead.stderr.trim()}`);
      const last = Math.max(sentAt, ...monitors.map((m) => m.lastEventAt));
      if (performance.now() - last >= settleMs) break;
      await sleep(Math.min(25, settleMs));
    }
  } catch (e) {
    failure = e;
  } finally {
    await Promise.all(monitors.map(stopMonitor));
    const problems: string[] = [];
    for (const ns of installed) {
      const r = await execIn(ns, 'nft', ['delete', 'table', 'ip', table], { timeoutMs: 20_000 }).catch((e: unknown) => ({ code: -1, stdout: '', stderr: String(e) }));
      if (r.code !== 0) problems.push(`${ns}: ${r.stderr.trim()}`);
    }
    if (failure === undefined && problems.length > 0) {
      failure = new KernelTraceError('CleanupFailed', `removing trace table ${table}: ${problems.join('; ')}`);
    }
  }
  if (failure !== undefined) throw failure;
  return new Map(monitors.map((m) => [m.netns, m.events.filter((e) => e.table !== table)]));
}

async function listJson(netns: string, args: readonly string[]): Promise<unknown> {
  const r = await execIn(netns, 'nft', ['-a', '-j', 'list', ...args], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new KernelTraceError('ListFailed', `nft -a -j list ${args.join(' ')} in ${netns}: ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch (e) {
    throw new KernelTraceError('BadListing', `nft -a -j list ${args.join(' ')} in ${netns} is not JSON`, { cause: e });
  }
}

/** (chain, handle) → index of the rule in its chain, for one table as the kernel holds it now. */
export async function ruleHandles(netns: string, table: string, family: Family = 'ip'): Promise<(chain: string, handle: number) => number | undefined> {
  const index = handleIndexFromNftJson(await listJson(netns, ['table', family, table]));
  return (chain, handle) => index(table, chain, handle);
}

/** (table, chain, handle) → rule index over the namespace's whole ruleset (what compareWithModel takes). */
export async function rulesetHandleIndex(netns: string): Promise<HandleIndex> {
  return handleIndexFromNftJson(await listJson(netns, ['ruleset']));
}
