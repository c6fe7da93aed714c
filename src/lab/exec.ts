// Runs the lab's commands: always execFile with an argument vector (never a shell string), a timeout, and
// stdin when a batch is fed. Failures become LabError('CommandFailed') carrying the command and its stderr.
import { execFile } from 'node:child_process';
import { LabError } from './core/errors.ts';

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 20_000;

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and resolves with its exit code and output, whatever the exit code. */
export function runRaw(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        env: opts.env ?? { PATH: SYSTEM_PATH, LANG: 'C' },
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ code: 0, stdout, stderr });
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'number') return resolve({ code, stdout, stderr });
        const killed = (err as { killed?: unknown }).killed === true;
        reject(new LabError('CommandFailed', `${cmd} ${args.join(' ')}: ${killed ? 'timed out' : err.message}`, { cause: err }));
      },
    );
    child.stdin?.on('error', () => {
      /* the command may exit before reading all of stdin; its exit status tells */
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** Runs a command and resolves with stdout; a non-zero exit rejects with CommandFailed. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await runRaw(cmd, args, opts);
  if (r.code !== 0) {
    const input = opts.input !== undefined && opts.input.length < 4000 ? `\n--- stdin ---\n${opts.input}` : '';
    throw new LabError('CommandFailed', `${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}${input}`);
  }
  return r.stdout;
}

/** `ip [-n netns] -batch -` with the given lines; nothing is run for an empty batch. */
export async function ipBatch(netns: string | undefined, lines: readonly string[], opts: { force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(netns === undefined ? [] : ['-n', netns]), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  await run('ip', args, { input: lines.join('\n') + '\n' });
}

/** `bridge [-n netns] -batch -`. */
export async function bridgeBatch(netns: string | undefined, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await run('bridge', [...(netns === undefined ? [] : ['-n', netns]), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Parses `ip -j` output; `ip -j -batch` prints one JSON document per command, one per line. */
export function parseJsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    try {
      out.push(JSON.parse(trimmed));
    } catch (err) {
      throw new LabError('CommandFailed', `unparsable JSON from ip: ${trimmed.slice(0, 200)}`, { cause: err });
    }
  }
  return out;
}

/** `ip [-n netns] -j <args>` parsed (an empty output is an empty list). */
export async function ipJson(netns: string | undefined, args: readonly string[]): Promise<unknown> {
  const text = await run('ip', [...(netns === undefined ? [] : ['-n', netns]), '-j', ...args]);
  const docs = parseJsonLines(text);
  return docs.length === 0 ? [] : docs[0];
}
