// Sends one probe from inside a network namespace (shell): a TCP connect or a UDP exchange from a known
// source port, run by send-probe-worker.ts under `ip netns exec`. The source port is what lets a caller
// find the probe's packets in a kernel trace (findPacket(..., { sport })).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { KernelTraceError } from '../nft/kernel-trace.ts';
import { SYSTEM_PATH } from '../proxy/exec.ts';
import type { ProbeOutcome, WorkerResult } from './send-probe-worker.ts';

const WORKER = resolve(import.meta.dirname, 'send-probe-worker.ts');

export type { ProbeOutcome };

export interface ProbeSpec {
  readonly protocol: 'TCP' | 'UDP';
  readonly dst: string;
  readonly port: number;
  /** Source port; default a random free one in 20000-29999 (below the kernel's ephemeral range). */
  readonly srcPort?: number;
  readonly timeoutMs: number;
}

export interface ProbeResult {
  readonly result: ProbeOutcome;
  /** The source port the probe used. */
  readonly localPort: number;
  /** The socket error code behind `refused`/`unreachable`/`error`. */
  readonly error?: string;
  readonly ms: number;
}

export function sendProbe(netns: string, spec: ProbeSpec): Promise<ProbeResult> {
  const body = JSON.stringify({ protocol: spec.protocol, dst: spec.dst, port: spec.port, timeoutMs: spec.timeoutMs, ...(spec.srcPort !== undefined ? { srcPort: spec.srcPort } : {}) });
  return new Promise((done, fail) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--disable-warning=ExperimentalWarning', WORKER, body], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: SYSTEM_PATH, LANG: 'C' },
      timeout: spec.timeoutMs * 8 + 10_000,
      killSignal: 'SIGKILL',
    });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { if (err.length < 16_384) err += c; });
    child.on('error', (e) => fail(new KernelTraceError('ProbeFailed', `probe from ${netns}: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      try {
        const r = JSON.parse(out.trim()) as WorkerResult;
        done({ result: r.result, localPort: r.localPort, ms: r.ms, ...(r.error !== undefined ? { error: r.error } : {}) });
      } catch (e) {
        fail(new KernelTraceError('ProbeFailed', `probe from ${netns} exited ${code ?? 'by signal'}: ${err.trim() || out.trim()}`, { cause: e }));
      }
    });
  });
}
