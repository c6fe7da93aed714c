// The CRI container log format the kubelet reads: one record per line,
//   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>
// "F" closes a line; "P" is a partial chunk (a line longer than the runtime's buffer, or cut by an
// exit) continued by the next record of the same stream. Pure.

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  time: string;
  stream: LogStream;
  partial: boolean;
  content: string;
}

/** Longest content of one record before a line is split into partial records (containerd: 16 KiB). */
export const MAX_RECORD_CONTENT = 16 * 1024;

/** RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints UTC (trailing zeros trimmed). */
export function rfc3339Nano(ms: number, extraNanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  const base = iso.slice(0, 19);
  const nanos = (ms % 1000 + 1000) % 1000 * 1_000_000 + extraNanos;
  if (nanos === 0) return `${base}Z`;
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

export function formatRecord(r: LogRecord): string {
  return `${r.time} ${r.stream} ${r.partial ? 'P' : 'F'} ${r.content}\n`;
}

/** Parse one record (without its trailing newline); undefined when the line is not a CRI record. */
export function parseRecord(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) (F|P) ?(.*)$/s.exec(line);
  if (m === null) return undefined;
  return { time: m[1] ?? '', stream: m[2] === 'stderr' ? 'stderr' : 'stdout', partial: m[3] === 'P', content: m[4] ?? '' };
}

/**
 * Turns a stream's text chunks into records. Push text as it arrives; complete lines come out as "F"
 * records, over-long lines as "P" chunks; `flush` emits what is left as a final record.
 */
export class LineSplitter {
  private pending = '';
  readonly stream: LogStream;
  constructor(stream: LogStream) {
    this.stream = stream;
  }
  push(text: string, time: string): LogRecord[] {
    this.pending += text;
    const out: LogRecord[] = [];
    for (let guard = 0; guard < 1_000_000; guard++) {
      const nl = this.pending.indexOf('\n');
      if (nl >= 0 && nl <= MAX_RECORD_CONTENT) {
        out.push({ time, stream: this.stream, partial: false, content: this.pending.slice(0, nl) });
        this.pending = this.pending.slice(nl + 1);
        continue;
      }
      if (this.pending.length > MAX_RECORD_CONTENT) {
        out.push({ time, stream: this.stream, partial: true, content: this.pending.slice(0, MAX_RECORD_CONTENT) });
        this.pending = this.pending.slice(MAX_RECORD_CONTENT);
        continue;
      }
      break;
    }
    return out;
  }
  flush(time: string): LogRecord[] {
    if (this.pending === '') return [];
    const r: LogRecord = { time, stream: this.stream, partial: false, content: this.pending };
    this.pending = '';
    return [r];
  }
}

/** Re-assemble records into the bytes a client of `kubectl logs` sees (optionally with timestamps). */
export function renderForClient(records: readonly LogRecord[], timestamps: boolean): string {
  let out = '';
  let atLineStart = true;
  for (const r of records) {
    if (timestamps && atLineStart) out += `${r.time} `;
    atLineStart = !r.partial;
    out += r.content;
    if (!r.partial) out += '\n';
  }
  return out;
}
