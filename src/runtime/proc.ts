// /proc helpers for watching processes the runtime did not spawn itself (adopted after a restart).
import { readFileSync } from 'node:fs';

export interface ProcInfo {
  /** One-letter state: R, S, D, Z (zombie), ... */
  state: string;
  /** Start time in clock ticks since boot (field 22): with the pid, identifies one process. */
  startTicks: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); starttime is field 22 → index 19.
  const state = fields[0];
  const startTicks = fields[19];
  if (state === undefined || startTicks === undefined) return undefined;
  return { state, startTicks };
}

/** True while the process with that pid and start time exists and is not a zombie. */
export function processAlive(pid: number, startTicks: string): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.startTicks === startTicks && info.state !== 'Z' && info.state !== 'X';
}
