// Runs the proxier's commands (nft, iptables-restore, conntrack), optionally inside a network namespace
// via `ip netns exec`: always an argument vector, a timeout, stdin for scripts.
import { execFile } from 'node:child_process';

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecResult { readonly code: number; readonly stdout: string; readonly stderr: string }

export function execIn(netns: string | undefined, cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const [file, argv] = netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, {
      env: { PATH: SYSTEM_PATH, LANG: 'C' },
      timeout: opts.timeoutMs ?? 300_000,
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ code, stdout, stderr });
      reject(new Error(`${file} ${argv.slice(0, 6).join(' ')}: ${(err as { killed?: unknown }).killed === true ? 'timed out' : err.message}`, { cause: err }));
    });
    child.stdin?.on('error', () => { /* the exit status tells */ });
    child.stdin?.end(opts.input ?? '');
  });
}

/** Splits an iptables rule string into argv, honouring double quotes (our rules never nest quotes). */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (const m of rule.matchAll(re)) out.push(m[1] ?? m[2] ?? '');
  return out;
}
