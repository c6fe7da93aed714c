// A trace as text for the terminal: numbered hops (where, namespace, interfaces, the packet after the hop,
// what happened), the rules that decided, the verdict, the reply path and notes. Pure.
import type { Hop, Trace } from './types.ts';
import { possibleOutcomes } from './outcomes.ts';

export interface RenderOptions {
  /** Every rule the packet matched, not only the deciding ones. */
  readonly verbose?: boolean;
}

const fmt = (a: { ip: string; port?: number }): string => (a.port !== undefined ? `${a.ip}:${a.port}` : a.ip);
/** A TCP/UDP endpoint; a port the model cannot know (the kernel picks it at random) prints as `*`. */
const withPort = (a: { ip: string; port?: number }): string => `${a.ip}:${a.port ?? '*'}`;

function ifaces(h: Hop): string {
  if (h.inIf !== undefined && h.outIf !== undefined) return `${h.inIf} -> ${h.outIf}`;
  if (h.inIf !== undefined) return `in ${h.inIf}`;
  if (h.outIf !== undefined) return `out ${h.outIf}`;
  return '';
}

function hopLines(h: Hop, n: number, opts: RenderOptions): string[] {
  const head = `${String(n).padStart(3)}. ${h.where}${h.netns !== undefined ? ` [${h.netns}]` : ''}${ifaces(h) !== '' ? `  ${ifaces(h)}` : ''}`;
  const lines = [head, `       ${h.summary}`];
  if (h.kind !== 'dns') lines.push(`       packet ${h.packet.protocol} ${withPort(h.packet.src)} -> ${withPort(h.packet.dst)}${h.outer !== undefined ? `  (outer UDP ${h.outer.src} -> ${h.outer.dst}:${h.outer.udpPort} VNI ${h.outer.vni})` : ''}`);
  const rules = h.rules ?? [];
  const deciding = (r: (typeof rules)[number]): boolean =>
    r.index >= 0 ? r.action !== 'match' || r.detail !== 'continue' : r.action === 'policy' && r.detail !== 'accept';
  const shown = opts.verbose === true ? rules : rules.filter(deciding).slice(-6);
  if (h.kind === 'netfilter' || h.kind === 'policy') {
    for (const r of shown) lines.push(r.index >= 0 ? `         ${r.family} ${r.table} ${r.chain}[${r.index}]: ${r.text}` : `         ${r.family} ${r.table} ${r.chain}: ${r.text}`);
    const hidden = rules.filter((r) => r.index >= 0 && !shown.includes(r)).length;
    if (opts.verbose !== true && hidden > 0) lines.push(`         (${hidden} more matched rule${hidden === 1 ? '' : 's'}; --verbose shows every step)`);
  }
  for (const c of h.service?.choices ?? []) {
    lines.push(`         ${c.chosen ? '*' : ' '} ${c.endpoint.padEnd(21)} p=${c.probability.toFixed(2)}  ${(c.pod ?? '').padEnd(30)} ${c.node ?? ''}  -> ${c.outcome}`);
  }
  for (const e of h.ecmp ?? []) lines.push(`         ${e.chosen ? '*' : ' '} via ${e.node} (${e.via})  -> ${e.outcome}`);
  if (h.policy !== undefined && !h.policy.allowed) for (const r of h.policy.reasons) lines.push(`         - ${r}`);
  return lines;
}

export function renderTrace(t: Trace, opts: RenderOptions = {}): string {
  const out: string[] = [`trace ${t.flow.from} -> ${t.flow.to} (${t.flow.protocol}/${t.flow.port})${t.destination !== undefined ? ` = ${fmt(t.destination)}` : ''}`, ''];
  t.hops.forEach((h, i) => out.push(...hopLines(h, i + 1, opts)));
  out.push('', `verdict: ${t.verdict.outcome.toUpperCase()}: ${t.verdict.reason}${t.verdict.decidedBy !== undefined ? `\n         decided by ${t.verdict.decidedBy}` : ''}`);
  if (t.http !== undefined) out.push(`http:    ${t.http.forwarded ? 'FORWARDED' : `${t.http.status ?? ''}`}: ${t.http.reason}`);
  const possible = possibleOutcomes(t);
  if (possible.length > 1) out.push(`         other endpoint or ECMP choices may end as: ${possible.filter((o) => o !== t.verdict.outcome).join(', ')}`);
  if (t.reply.length > 0) {
    out.push('', 'reply:');
    t.reply.forEach((h, i) => out.push(`${String(i + 1).padStart(3)}. ${h.where}${h.netns !== undefined ? ` [${h.netns}]` : ''}${ifaces(h) !== '' ? `  ${ifaces(h)}` : ''}`, `       ${h.summary}`));
  }
  if (t.notes.length > 0) out.push('', 'notes:', ...t.notes.map((n) => `  - ${n}`));
  return out.join('\n');
}
