// Helpers for the lab's real-kernel tests: probes run inside lab namespaces only (never towards an address
// outside the lab), every wait is bounded, every spawned process is tracked so the test can stop it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runRaw } from './exec.ts';
import type { RunResult } from './exec.ts';

export function uniqueClusterName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 12);
}

/** A random 10.X.0.0/16 (X in 100..199) so concurrently running test clusters rarely share pod CIDRs. */
export function randomPodNet(): { podCIDR: string; node: (i: number) => string } {
  const x = 100 + (randomBytes(1)[0] ?? 0) % 100;
  return { podCIDR: `10.${x}.0.0/16`, node: (i: number) => `10.${x}.${i}.0/24` };
}

export function inNetns(netns: string, cmd: string, args: readonly string[], timeoutMs = 5000): Promise<RunResult> {
  return runRaw('ip', ['netns', 'exec', netns, cmd, ...args], { timeoutMs });
}

/** True when an echo reply comes back; up to 3 one-second attempts, so a loaded machine does not flake. */
export async function ping(fromNetns: string, ip: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await inNetns(fromNetns, 'ping', ['-c', '1', '-W', '1', ip]);
    if (r.code === 0) return true;
  }
  return false;
}

/** True when a single one-second ping gets no reply (for checks that something must NOT be reachable). */
export async function pingFails(fromNetns: string, ip: string): Promise<boolean> {
  const r = await inNetns(fromNetns, 'ping', ['-c', '1', '-W', '1', ip]);
  return r.code !== 0;
}

/** A TCP server in a namespace that answers every connection with the peer address it saw. */
export class PeerEchoServer {
  private readonly child: ChildProcess;
  constructor(netns: string, port: number) {
    this.child = spawn('ip', ['netns', 'exec', netns, 'socat', `TCP-LISTEN:${port},reuseaddr,fork`, 'SYSTEM:echo $SOCAT_PEERADDR'], {
      stdio: 'ignore',
    });
    this.child.on('error', () => undefined);
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Connects from a namespace to ip:port and returns what the server said (the address it saw us as), or
 * undefined when no answer came. Retries a few times while a freshly started server comes up.
 */
export async function tcpPeerSeen(fromNetns: string, ip: string, port: number): Promise<string | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = await inNetns(fromNetns, 'socat', ['-T2', '-', `TCP:${ip}:${port},connect-timeout=2`]);
    const text = r.stdout.trim();
    if (r.code === 0 && text !== '') return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** Addresses (IPv4) configured in a namespace. */
export async function addressesIn(netns: string): Promise<string[]> {
  const r = await runRaw('ip', ['-n', netns, '-j', '-4', 'addr', 'show']);
  const out: string[] = [];
  const value: unknown = JSON.parse(r.stdout || '[]');
  for (const link of Array.isArray(value) ? value : []) {
    const infos = typeof link === 'object' && link !== null ? (link as { addr_info?: unknown }).addr_info : undefined;
    for (const info of Array.isArray(infos) ? infos : []) {
      const local = typeof info === 'object' && info !== null ? (info as { local?: unknown }).local : undefined;
      if (typeof local === 'string') out.push(local);
    }
  }
  return out;
}

/**
 * Runs tcpdump in a namespace on an interface while `action` runs; returns the printed packet lines.
 * Bounded by `count` packets and a timeout.
 */
export async function capture(netns: string, iface: string, filter: string, count: number, action: () => Promise<void>, timeoutMs = 5000): Promise<string[]> {
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-n', '-l', '-i', iface, '-c', String(count), filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited early: ${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await listening;
    await action();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  return stdout.split('\n').filter((l) => l.trim() !== '');
}
