// What a flow may end as, over every choice the kernel makes that the model cannot predict: which Service
// endpoint `numgen random` picks, which node an ECMP route hashes the flow to. Pure.
import type { Outcome, Trace } from './types.ts';

const ORDER: readonly Outcome[] = ['delivered', 'refused', 'rejected', 'dropped', 'unreachable', 'unresolved'];

/** The distinct outcomes a trace allows, in a fixed order (delivered first). */
export function possibleOutcomes(trace: Trace): Outcome[] {
  const seen = new Set<Outcome>([trace.verdict.outcome]);
  for (const hop of trace.hops) {
    for (const c of hop.service?.choices ?? []) seen.add(c.outcome);
    for (const e of hop.ecmp ?? []) seen.add(e.outcome);
  }
  return ORDER.filter((o) => seen.has(o));
}

/** How a client sees an outcome: connected, refused (RST / ICMP unreachable at once), or timed out. */
export type ClientResult = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'unresolved';

export function clientResult(outcome: Outcome): ClientResult {
  switch (outcome) {
    case 'delivered': return 'connected';
    case 'refused': case 'rejected': return 'refused';
    case 'dropped': return 'timeout';
    case 'unreachable': return 'unreachable';
    case 'unresolved': return 'unresolved';
  }
}
