// Human-readable ages, as kubectl shows them in AGE columns: the same buckets and precision as upstream's
// apimachinery duration.HumanDuration (about two significant units, coarser as the span grows). Pure.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's integer conversion of a float: truncate toward zero. */
const whole = (n: number): number => Math.trunc(n);

/**
 * A duration in milliseconds rendered like `5s`, `2m3s`, `10m`, `3h4m`, `20h`, `2d3h`, `45d`, `3y12d`, `9y`.
 * Slightly negative spans (clock skew of under two seconds) read `0s`; anything earlier is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = whole(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = whole(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = whole(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = whole(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = whole(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined when absent or unparseable. */
export function parseTimestamp(ts: string | null | undefined): number | undefined {
  if (typeof ts !== 'string' || ts === '') return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The age of `ts` at `now`, or `<unknown>` when there is no timestamp (upstream's translateTimestampSince). */
export function age(ts: string | number | null | undefined, now: Date): string {
  const ms = typeof ts === 'number' ? ts : parseTimestamp(ts);
  if (ms === undefined) return '<unknown>';
  return humanDuration(now.getTime() - ms);
}
