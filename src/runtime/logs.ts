// Container stdout/stderr → CRI log files, and reading/following those files (shell).
//
// Each instance of a container writes its stdout and stderr into two named pipes of its own, which the
// container process holds open read-write (so it never meets SIGPIPE, even while no runtime reads); the
// runtime opens the read ends non-blocking and appends CRI records to <restart>.log. Per-instance pipes
// matter: were a restarted instance to reuse the pipes while the previous pump still waits for its EOF,
// both pumps would read the new output and split it between two log files. A new runtime instance re-opens the same pipes to adopt a
// running container; output written meanwhile waits in the pipe (64 KiB, then the writer blocks).
import { closeSync, constants, createWriteStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';
import { LineSplitter, formatRecord, parseRecord, rfc3339Nano } from './core/cri-log.ts';
import type { LogRecord, LogStream } from './core/cri-log.ts';

export function ensureFifo(path: string): void {
  if (existsSync(path)) {
    if (statSync(path).isFIFO()) return;
    throw new Error(`${path} exists and is not a FIFO`);
  }
  execFileSync('mkfifo', ['-m', '0600', path]);
}

/** Opens a FIFO for the container side: read-write, blocking. Close it in the parent after spawn. */
export function openFifoForChild(path: string): number {
  return openSync(path, constants.O_RDWR);
}

let lastMs = 0;
let seq = 0;
/** Monotonic RFC3339Nano timestamps (distinct nanoseconds within one millisecond keep records ordered). */
function stamp(): string {
  const ms = Date.now();
  if (ms === lastMs) seq++;
  else { lastMs = ms; seq = 0; }
  return rfc3339Nano(ms, Math.min(seq, 999_999));
}

export type OutputListener = (stream: LogStream, chunk: Buffer) => void;

export interface LogPumpOptions {
  /**
   * Testing aid: open the FIFOs at once (so the pipes have their reader) but start reading them only
   * after this many milliseconds, as on a loaded machine where the exit is seen before the last output.
   */
  readDelayMs?: number;
}

/**
 * Pumps one container instance's two FIFOs into its log file. `done` resolves once both FIFOs reached
 * EOF (every writer closed them) or the pump was closed, and everything read is flushed to the file.
 * Each instance has FIFOs of its own: a pump never shares a pipe with another instance's pump.
 */
export class ContainerLogPump {
  readonly path: string;
  private readonly out: WriteStream;
  private open = 2;
  private readonly sockets: Socket[] = [];
  private readonly pending: { timer: NodeJS.Timeout; fd: number; finish: () => void }[] = [];
  private readonly listeners = new Set<OutputListener>();
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;

  constructor(logPath: string, fifos: { stdout: string; stderr: string }, opts: LogPumpOptions = {}) {
    this.path = logPath;
    this.out = createWriteStream(logPath, { flags: 'a', mode: 0o640 });
    this.out.on('error', () => undefined);
    this.done = new Promise((r) => { this.resolveDone = r; });
    for (const stream of ['stdout', 'stderr'] as const) this.attach(stream, fifos[stream], opts.readDelayMs ?? 0);
  }

  private attach(stream: LogStream, fifo: string, delayMs: number): void {
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const splitter = new LineSplitter(stream);
    const decoder = new TextDecoder('utf-8');
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.write(splitter.push(decoder.decode(), stamp()));
      this.write(splitter.flush(stamp()));
      if (--this.open === 0) this.out.end(() => this.resolveDone());
    };
    const start = (): void => {
      const sock = new Socket({ fd, readable: true, writable: false });
      this.sockets.push(sock);
      sock.on('data', (chunk: Buffer) => {
        for (const l of this.listeners) l(stream, chunk);
        this.write(splitter.push(decoder.decode(chunk, { stream: true }), stamp()));
      });
      sock.on('end', finish);
      sock.on('close', finish);
      sock.on('error', finish);
    };
    if (delayMs <= 0) {
      start();
      return;
    }
    const entry = {
      fd,
      finish,
      timer: setTimeout(() => {
        this.pending.splice(this.pending.indexOf(entry), 1);
        start();
      }, delayMs),
    };
    this.pending.push(entry);
  }

  private write(records: LogRecord[]): void {
    if (records.length === 0) return;
    this.out.write(records.map(formatRecord).join(''));
  }

  onOutput(l: OutputListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Stop reading without waiting for the writers (runtime shutdown / detach); `done` then resolves. */
  close(): void {
    for (const s of this.sockets) s.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      try { closeSync(p.fd); } catch { /* closed */ }
      p.finish();
    }
  }

  unref(): void {
    for (const s of this.sockets) s.unref();
    for (const p of this.pending) p.timer.unref();
  }
}

export interface StreamLogOptions {
  /** Byte offset to start from (a record boundary; default 0). */
  fromOffset?: number;
  follow?: boolean;
  /** While following: is more output still possible? When it returns false and the file is drained, stop. */
  isLive?: () => boolean;
  signal?: AbortSignal;
  pollMs?: number;
}

export interface LogEntry {
  record: LogRecord;
  /** Offset just past this record: resume from here. */
  nextOffset: number;
}

/** Read CRI records from a log file, optionally following it as it grows. Bounded by the caller's signal/isLive. */
export async function* streamLogFile(path: string, opts: StreamLogOptions = {}): AsyncGenerator<LogEntry> {
  let offset = opts.fromOffset ?? 0;
  let rest = '';
  let restStart = offset;
  const buf = Buffer.alloc(64 * 1024);
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    if (opts.signal?.aborted === true) return;
    let fd: number | undefined;
    let readAny = false;
    try {
      fd = openSync(path, 'r');
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        readAny = true;
        offset += n;
        rest += buf.subarray(0, n).toString('utf8');
        let nl = rest.indexOf('\n');
        while (nl >= 0) {
          const line = rest.slice(0, nl);
          const lineBytes = Buffer.byteLength(line) + 1;
          const record = parseRecord(line);
          restStart += lineBytes;
          rest = rest.slice(nl + 1);
          if (record !== undefined) yield { record, nextOffset: restStart };
          nl = rest.indexOf('\n');
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (opts.follow !== true) return;
    if (!readAny && opts.isLive !== undefined && !opts.isLive()) {
      // One last look: the writer may have flushed between our read and the liveness check.
      const size = existsSync(path) ? statSync(path).size : 0;
      if (size <= offset) return;
      continue;
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, pollMs);
      opts.signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
    });
  }
}
