// The one renderer from the nftables model (types.ts) to `nft -f` script text. Respects nft 1.0.6's
// quirks: numeric priorities, a base chain's `type ...; policy ...;` on its own line, and `dnat to`
// with a port only after an L4 protocol match.
import {
  NftModelError,
  type Chain, type KeyExpr, type MapElement, type MapVerdict, type Match, type NftMap, type NftSet,
  type Rule, type Ruleset, type Selector, type SetElement, type Statement, type Table, type Value, type Verdict,
} from './types.ts';

// nft 1.0.6 cannot quote object names, so a name that lexes as a keyword breaks the script. These are the
// keywords that nft 1.0.6 refuses as a set or chain name (checked one by one with `nft -c`); names with a
// '-' or '/' in them never collide.
const KEYWORDS: ReadonlySet<string> = new Set((
  'accept add and arp bridge chain comment continue counter ct delete describe drop dnat dup elements element ether ' +
  'export fib flags flush fwd goto hook icmp import inet ip ip6 jump limit list log map mark masquerade meta monitor ' +
  'netdev numgen or policy priority queue quota random redirect reject reset return rule sctp set size snat synproxy ' +
  'table tcp timeout tproxy type udp update vlan vmap xor').split(' '));
const NAME_RE = /^[A-Za-z_.][A-Za-z0-9_./-]*$/;

/** Throws unless `name` can be written unquoted as a table/chain/set name in an nft 1.0.6 script. */
export function validateName(name: string, what: string): void {
  if (!NAME_RE.test(name) || name.length > 256) throw new NftModelError('InvalidRule', `${what} name '${name}' is not a valid nft identifier`);
  if (KEYWORDS.has(name)) throw new NftModelError('InvalidRule', `${what} name '${name}' is an nft keyword and nft 1.0.6 cannot quote names`);
}

const IFNAME_SELECTORS: ReadonlySet<Selector> = new Set(['meta iifname', 'meta oifname']);

/** A comment as nft accepts it: double-quoted, no quotes inside, at most 128 bytes. */
export function renderComment(text: string): string {
  const clean = text.replace(/["\\\n\r]/g, '').slice(0, 128);
  return `"${clean}"`;
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

function renderValue(v: Value, selector?: Selector): string {
  if (typeof v === 'number') return selector === 'meta mark' || selector === 'ct mark' ? hex(v) : String(v);
  if (selector !== undefined && IFNAME_SELECTORS.has(selector)) return `"${v.replace(/"/g, '')}"`;
  return v;
}

function renderRight(right: Value | readonly Value[], selector: Selector): string {
  if (Array.isArray(right)) return `{ ${(right as readonly Value[]).map((v) => renderValue(v, selector)).join(', ')} }`;
  return renderValue(right as Value, selector);
}

export function renderKeyExpr(k: KeyExpr): string {
  if (typeof k === 'string') return k;
  return `numgen ${k.numgen} mod ${k.mod}${k.offset ? ` offset ${k.offset}` : ''}`;
}

export function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'cmp':
      return `${m.left} ${m.op === '!=' ? '!= ' : ''}${renderRight(m.right, m.left)}`;
    case 'masked':
      return `${m.left} & ${hex(m.mask)} ${m.op ?? '=='} ${hex(m.value)}`;
    case 'lookup':
      return `${m.keys.join(' . ')} ${m.negate ? '!= ' : ''}@${m.set}`;
  }
}

export function renderStatement(s: Statement): string {
  switch (s.kind) {
    case 'counter': return 'counter';
    case 'mark': {
      const sel = s.target === 'meta' ? 'meta mark' : 'ct mark';
      return s.op === 'set' ? `${sel} set ${hex(s.value)}` : `${sel} set ${sel} ${s.op} ${hex(s.value)}`;
    }
    case 'log': return s.prefix === undefined ? 'log' : `log prefix ${renderComment(s.prefix)}`;
    case 'nftrace': return 'meta nftrace set 1';
    case 'set-update': return `${s.op} @${s.set} { ${s.keys.join(' . ')} }`;
    case 'dnat': return `dnat to ${s.addr}${s.port !== undefined ? `:${s.port}` : ''}`;
    case 'snat': return `snat to ${s.addr}${s.port !== undefined ? `:${s.port}` : ''}`;
    case 'masquerade': return s.fullyRandom ? 'masquerade fully-random' : 'masquerade';
  }
}

export function renderMapVerdict(v: MapVerdict): string {
  switch (v.kind) {
    case 'jump': case 'goto': return `${v.kind} ${v.chain}`;
    default: return v.kind;
  }
}

export function renderVerdict(v: Verdict): string {
  switch (v.kind) {
    case 'reject': {
      if (v.with === undefined) return 'reject';
      if ('tcpReset' in v.with) return 'reject with tcp reset';
      return `reject with icmp type ${v.with.icmp}`;
    }
    case 'vmap': return `${v.key.map(renderKeyExpr).join(' . ')} vmap @${v.map}`;
    case 'vmap-inline':
      return `${v.key.map(renderKeyExpr).join(' . ')} vmap { ${v.entries.map((e) => `${e.key.map((k) => renderValue(k)).join(' . ')} : ${renderMapVerdict(e.verdict)}`).join(', ')} }`;
    default: return renderMapVerdict(v);
  }
}

const L4_SELECTORS: ReadonlySet<Selector> = new Set(['meta l4proto', 'ip protocol', 'tcp sport', 'tcp dport', 'udp sport', 'udp dport', 'sctp sport', 'sctp dport']);

/** Checks what nft itself would refuse and what the model forbids: NAT with a port needs an L4 match; a NAT statement ends the rule. */
export function validateRule(rule: Rule, where = 'rule'): void {
  const stmts = rule.statements ?? [];
  stmts.forEach((s, i) => {
    const isNat = s.kind === 'dnat' || s.kind === 'snat' || s.kind === 'masquerade';
    if ((s.kind === 'dnat' || s.kind === 'snat') && s.port !== undefined) {
      const hasL4 = rule.match.some((m) => (m.kind === 'cmp' && L4_SELECTORS.has(m.left)) || (m.kind === 'lookup' && m.keys.some((k) => L4_SELECTORS.has(k))));
      if (!hasL4) throw new NftModelError('InvalidRule', `${where}: '${s.kind} to ${s.addr}:${s.port}' needs an L4 protocol match (e.g. meta l4proto tcp) before it`);
    }
    if (isNat && (i !== stmts.length - 1 || rule.verdict !== undefined)) {
      throw new NftModelError('InvalidRule', `${where}: a ${s.kind} statement is terminal and must be the last thing in the rule`);
    }
  });
  if (rule.verdict?.kind === 'reject' && rule.verdict.with !== undefined && 'tcpReset' in rule.verdict.with) {
    const tcp = rule.match.some((m) => m.kind === 'cmp' && (m.left === 'tcp dport' || m.left === 'tcp sport' || ((m.left === 'meta l4proto' || m.left === 'ip protocol') && m.right === 'tcp' && m.op !== '!=')));
    if (!tcp) throw new NftModelError('InvalidRule', `${where}: 'reject with tcp reset' needs a TCP match before it`);
  }
  if (rule.match.length === 0 && stmts.length === 0 && rule.verdict === undefined) {
    throw new NftModelError('InvalidRule', `${where}: empty rule`);
  }
}

export function renderRule(rule: Rule, where?: string): string {
  validateRule(rule, where);
  const parts: string[] = [];
  for (const m of rule.match) parts.push(renderMatch(m));
  for (const s of rule.statements ?? []) parts.push(renderStatement(s));
  if (rule.verdict) parts.push(renderVerdict(rule.verdict));
  if (rule.comment !== undefined) parts.push(`comment ${renderComment(rule.comment)}`);
  return parts.join(' ');
}

export function renderElementKey(key: readonly Value[]): string {
  return key.map((k) => renderValue(k)).join(' . ');
}

export function renderSetElement(e: SetElement): string {
  return renderElementKey(e.key) + (e.comment !== undefined ? ` comment ${renderComment(e.comment)}` : '');
}

export function renderMapElement(e: MapElement): string {
  const value = Array.isArray(e.value) ? renderElementKey(e.value as readonly Value[]) : renderMapVerdict(e.value as MapVerdict);
  return `${renderElementKey(e.key)}${e.comment !== undefined ? ` comment ${renderComment(e.comment)}` : ''} : ${value}`;
}

/** The body lines of a set/map declaration, without elements. */
function setBody(s: NftSet | NftMap, indent: string): string[] {
  const lines: string[] = [];
  const type = s.type.join(' . ');
  if ('valueType' in s) {
    lines.push(`${indent}type ${type} : ${s.valueType === 'verdict' ? 'verdict' : s.valueType.join(' . ')}`);
  } else {
    lines.push(`${indent}type ${type}`);
  }
  if (s.flags && s.flags.length > 0) lines.push(`${indent}flags ${s.flags.join(',')}`);
  if ('timeoutSeconds' in s && s.timeoutSeconds !== undefined) lines.push(`${indent}timeout ${s.timeoutSeconds}s`);
  if (s.comment !== undefined) lines.push(`${indent}comment ${renderComment(s.comment)}`);
  return lines;
}

/** `{ type ...; flags ...; }` on one line, for `add set`/`add map` commands. */
export function renderSetDeclInline(s: NftSet | NftMap): string {
  return `{ ${setBody(s, '').join('; ')}; }`;
}

function chainHeader(c: Chain, indent: string): string[] {
  const lines: string[] = [];
  if (c.base) {
    // nft 1.0.6: the base-chain line must end its own line; the policy goes on the same line.
    lines.push(`${indent}type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy ?? 'accept'};`);
  }
  if (c.comment !== undefined) lines.push(`${indent}comment ${renderComment(c.comment)}`);
  return lines;
}

/** `{ type nat hook ...; policy accept; }` for an `add chain` command (empty braces for regular chains). */
export function renderChainDeclInline(c: Chain): string {
  const parts: string[] = [];
  if (c.base) parts.push(`type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy ?? 'accept'};`);
  if (c.comment !== undefined) parts.push(`comment ${renderComment(c.comment)};`);
  return parts.length === 0 ? '' : ` { ${parts.join(' ')} }`;
}

const ELEMENTS_PER_LINE = 1;

function renderElementsBlock(items: readonly string[], indent: string): string[] {
  if (items.length === 0) return [];
  const lines = [`${indent}elements = {`];
  for (let i = 0; i < items.length; i += ELEMENTS_PER_LINE) {
    const chunk = items.slice(i, i + ELEMENTS_PER_LINE).join(', ');
    lines.push(`${indent}\t${chunk}${i + ELEMENTS_PER_LINE < items.length ? ',' : ''}`);
  }
  lines.push(`${indent}}`);
  return lines;
}

/** The full `table <family> <name> { ... }` block: sets and maps (with elements), then chains. */
export function renderTable(t: Table): string {
  validateName(t.name, 'table');
  for (const s of [...t.sets, ...t.maps]) validateName(s.name, 'set');
  for (const c of t.chains) validateName(c.name, 'chain');
  const out: string[] = [`table ${t.family} ${t.name} {`];
  if (t.comment !== undefined) out.push(`\tcomment ${renderComment(t.comment)}`);
  for (const s of t.sets) {
    out.push(`\tset ${s.name} {`, ...setBody(s, '\t\t'), ...renderElementsBlock(s.elements.map(renderSetElement), '\t\t'), '\t}');
  }
  for (const m of t.maps) {
    out.push(`\tmap ${m.name} {`, ...setBody(m, '\t\t'), ...renderElementsBlock(m.elements.map(renderMapElement), '\t\t'), '\t}');
  }
  for (const c of t.chains) {
    out.push(`\tchain ${c.name} {`, ...chainHeader(c, '\t\t'));
    c.rules.forEach((r, i) => out.push(`\t\t${renderRule(r, `${t.name}/${c.name} rule ${i}`)}`));
    out.push('\t}');
  }
  out.push('}');
  return out.join('\n') + '\n';
}

export function renderRuleset(rs: Ruleset): string {
  return rs.tables.map(renderTable).join('\n');
}
