// Transactions: typed nft commands, a full-replace builder and a DIFF of desired vs current model that
// yields the minimal element/chain commands. Rendered together they form ONE `nft -f` script, which
// the kernel applies atomically (all or nothing).
import {
  renderChainDeclInline, renderElementKey, renderMapElement, renderRule, renderSetDeclInline, renderSetElement, renderTable, renderComment, validateName,
} from './render.ts';
import type { Chain, Family, MapElement, NftMap, NftSet, Rule, Ruleset, SetElement, Table, Value } from './types.ts';

interface TableRef { readonly family: Family; readonly table: string }

export type NftCommand =
  | TableRef & { readonly op: 'add-table'; readonly comment?: string }
  | TableRef & { readonly op: 'delete-table' }
  | TableRef & { readonly op: 'flush-table' }
  /** The whole `table ... { ... }` block (declarative: creates or adds to the table). */
  | { readonly op: 'define-table'; readonly definition: Table }
  | TableRef & { readonly op: 'add-chain'; readonly chain: Chain }
  | TableRef & { readonly op: 'flush-chain'; readonly chain: string }
  | TableRef & { readonly op: 'delete-chain'; readonly chain: string }
  | TableRef & { readonly op: 'add-rule'; readonly chain: string; readonly rule: Rule }
  | TableRef & { readonly op: 'add-set'; readonly set: NftSet }
  | TableRef & { readonly op: 'add-map'; readonly map: NftMap }
  | TableRef & { readonly op: 'delete-set'; readonly name: string }
  | TableRef & { readonly op: 'delete-map'; readonly name: string }
  | TableRef & { readonly op: 'flush-set'; readonly name: string }
  | TableRef & { readonly op: 'add-element'; readonly set: string; readonly elements: readonly (SetElement | MapElement)[] }
  | TableRef & { readonly op: 'delete-element'; readonly set: string; readonly keys: readonly (readonly Value[])[] };

const ELEMENT_BATCH = 500;

function isMapElement(e: SetElement | MapElement): e is MapElement {
  return 'value' in e;
}

export function renderCommand(c: NftCommand): string {
  if (c.op === 'define-table') return renderTable(c.definition).trimEnd();
  const t = `${c.family} ${c.table}`;
  switch (c.op) {
    case 'add-table': return `add table ${t}${c.comment !== undefined ? ` { comment ${renderComment(c.comment)}; }` : ''}`;
    case 'delete-table': return `delete table ${t}`;
    case 'flush-table': return `flush table ${t}`;
    case 'add-chain': validateName(c.chain.name, 'chain'); return `add chain ${t} ${c.chain.name}${renderChainDeclInline(c.chain)}`;
    case 'flush-chain': return `flush chain ${t} ${c.chain}`;
    case 'delete-chain': return `delete chain ${t} ${c.chain}`;
    case 'add-rule': return `add rule ${t} ${c.chain} ${renderRule(c.rule, `${c.table}/${c.chain}`)}`;
    case 'add-set': validateName(c.set.name, 'set'); return `add set ${t} ${c.set.name} ${renderSetDeclInline(c.set)}`;
    case 'add-map': validateName(c.map.name, 'set'); return `add map ${t} ${c.map.name} ${renderSetDeclInline(c.map)}`;
    case 'delete-set': return `delete set ${t} ${c.name}`;
    case 'delete-map': return `delete map ${t} ${c.name}`;
    case 'flush-set': return `flush set ${t} ${c.name}`;
    case 'add-element': {
      const lines: string[] = [];
      for (let i = 0; i < c.elements.length; i += ELEMENT_BATCH) {
        const items = c.elements.slice(i, i + ELEMENT_BATCH).map((e) => (isMapElement(e) ? renderMapElement(e) : renderSetElement(e)));
        lines.push(`add element ${t} ${c.set} { ${items.join(', ')} }`);
      }
      return lines.join('\n');
    }
    case 'delete-element': {
      const lines: string[] = [];
      for (let i = 0; i < c.keys.length; i += ELEMENT_BATCH) {
        lines.push(`delete element ${t} ${c.set} { ${c.keys.slice(i, i + ELEMENT_BATCH).map(renderElementKey).join(', ')} }`);
      }
      return lines.join('\n');
    }
  }
}

/** One `nft -f` script; empty commands render to ''. */
export function renderCommands(cmds: readonly NftCommand[]): string {
  const parts = cmds.map(renderCommand).filter((s) => s.length > 0);
  return parts.length === 0 ? '' : parts.join('\n') + '\n';
}

/**
 * Full replace of each table: `add table` (so the delete cannot fail), `delete table`, then the whole
 * definition. Atomic: readers never see a half-built table. Dynamic set contents (affinity) are reset.
 */
export function fullReplaceCommands(desired: Ruleset, alsoDelete: readonly TableRef[] = []): NftCommand[] {
  const cmds: NftCommand[] = [];
  for (const ref of alsoDelete) {
    if (desired.tables.some((t) => t.family === ref.family && t.name === ref.table)) continue;
    cmds.push({ op: 'add-table', ...ref }, { op: 'delete-table', ...ref });
  }
  for (const t of desired.tables) {
    const ref = { family: t.family, table: t.name };
    cmds.push({ op: 'add-table', ...ref }, { op: 'delete-table', ...ref }, { op: 'define-table', definition: t });
  }
  return cmds;
}

const chainSignature = (c: Chain): string =>
  `${c.base ? `${c.base.type}/${c.base.hook}/${c.base.priority}/${c.base.policy ?? 'accept'}` : '-'}|${c.comment ?? ''}`;
// Rendering is the costly part of a diff; builders that reuse rule arrays and elements across syncs get
// these for free (and identical rule arrays are not even compared).
const renderedRules = new WeakMap<readonly Rule[], string>();
const rulesSignature = (c: Chain): string => {
  let s = renderedRules.get(c.rules);
  if (s === undefined) { s = c.rules.map((r) => renderRule(r, c.name)).join('\n'); renderedRules.set(c.rules, s); }
  return s;
};
const renderedElements = new WeakMap<SetElement | MapElement, string>();
const renderElement = (e: SetElement | MapElement): string => {
  let s = renderedElements.get(e);
  if (s === undefined) { s = isMapElement(e) ? renderMapElement(e) : renderSetElement(e); renderedElements.set(e, s); }
  return s;
};
const setSignature = (s: NftSet | NftMap): string => renderSetDeclInline(s);

const renderedKeys = new WeakMap<SetElement | MapElement, string>();
const elementKey = (e: SetElement | MapElement): string => {
  let s = renderedKeys.get(e);
  if (s === undefined) { s = renderElementKey(e.key); renderedKeys.set(e, s); }
  return s;
};

function elementIndex<E extends SetElement | MapElement>(elements: readonly E[]): Map<string, E> {
  const m = new Map<string, E>();
  for (const e of elements) m.set(elementKey(e), e);
  return m;
}

export interface DiffStats {
  chainsAdded: number; chainsChanged: number; chainsDeleted: number;
  elementsAdded: number; elementsDeleted: number; setsAdded: number; setsDeleted: number; tablesReplaced: number;
}

export interface DiffResult { readonly commands: NftCommand[]; readonly stats: DiffStats }

function diffTable(cur: Table, des: Table, cmds: NftCommand[], stats: DiffStats): void {
  const ref = { family: des.family, table: des.name };
  const curSets = new Map<string, NftSet | NftMap>([...cur.sets, ...cur.maps].map((s) => [s.name, s]));
  const desSets = new Map<string, NftSet | NftMap>([...des.sets, ...des.maps].map((s) => [s.name, s]));
  // A set whose declaration changed, or a base chain whose hook changed, cannot be patched: replace the table.
  for (const [name, d] of desSets) {
    const c = curSets.get(name);
    if (c !== undefined && (setSignature(c) !== setSignature(d) || ('valueType' in c) !== ('valueType' in d))) {
      stats.tablesReplaced++;
      cmds.push(...fullReplaceCommands({ tables: [des] }));
      return;
    }
  }
  const curChains = new Map(cur.chains.map((c) => [c.name, c]));
  const desChains = new Map(des.chains.map((c) => [c.name, c]));
  for (const [name, d] of desChains) {
    const c = curChains.get(name);
    if (c !== undefined && c !== d && (c.base !== undefined || d.base !== undefined || c.comment !== d.comment) && chainSignature(c) !== chainSignature(d)) {
      stats.tablesReplaced++;
      cmds.push(...fullReplaceCommands({ tables: [des] }));
      return;
    }
  }

  // 1. New sets/maps and chains (declarations first, so later rules and elements can refer to them).
  const newElements: NftCommand[] = [];
  for (const [name, d] of desSets) {
    if (curSets.has(name)) continue;
    stats.setsAdded++;
    if ('valueType' in d) cmds.push({ op: 'add-map', ...ref, map: { ...d, elements: [] } });
    else cmds.push({ op: 'add-set', ...ref, set: { ...d, elements: [] } });
    if (d.elements.length > 0) newElements.push({ op: 'add-element', ...ref, set: name, elements: d.elements });
    stats.elementsAdded += d.elements.length;
  }
  const changed: Chain[] = [];
  for (const [name, d] of desChains) {
    const c = curChains.get(name);
    if (c === undefined) {
      stats.chainsAdded++;
      cmds.push({ op: 'add-chain', ...ref, chain: d });
      changed.push(d);
    } else if (c.rules !== d.rules && rulesSignature(c) !== rulesSignature(d)) {
      stats.chainsChanged++;
      cmds.push({ op: 'flush-chain', ...ref, chain: name });
      changed.push(d);
    }
  }
  // 2. Rules of new and changed chains.
  for (const ch of changed) for (const r of ch.rules) cmds.push({ op: 'add-rule', ...ref, chain: ch.name, rule: r });
  // 3. Elements: delete gone/changed ones, then add new/changed ones.
  cmds.push(...newElements);
  for (const [name, d] of desSets) {
    const c = curSets.get(name);
    if (c === undefined) continue;
    const ci = elementIndex<SetElement | MapElement>(c.elements);
    const di = elementIndex<SetElement | MapElement>(d.elements);
    const del: (readonly Value[])[] = [];
    const add: (SetElement | MapElement)[] = [];
    const same = (a: SetElement | MapElement, b: SetElement | MapElement) => a === b || renderElement(a) === renderElement(b);
    for (const [k, v] of ci) {
      const n = di.get(k);
      if (n === undefined || !same(n, v)) del.push(v.key);
    }
    for (const [k, v] of di) {
      const o = ci.get(k);
      if (o === undefined || !same(o, v)) add.push(v);
    }
    if (del.length > 0) cmds.push({ op: 'delete-element', ...ref, set: name, keys: del });
    if (add.length > 0) cmds.push({ op: 'add-element', ...ref, set: name, elements: add });
    stats.elementsDeleted += del.length;
    stats.elementsAdded += add.length;
  }
  // 4. Chains no longer wanted: flush, then delete (their referrers were rewritten or removed above).
  const gone = [...curChains.keys()].filter((n) => !desChains.has(n));
  for (const name of gone) cmds.push({ op: 'flush-chain', ...ref, chain: name });
  for (const name of gone) { cmds.push({ op: 'delete-chain', ...ref, chain: name }); stats.chainsDeleted++; }
  // 5. Sets/maps no longer wanted.
  for (const [name, c] of curSets) {
    if (desSets.has(name)) continue;
    stats.setsDeleted++;
    cmds.push('valueType' in c ? { op: 'delete-map', ...ref, name } : { op: 'delete-set', ...ref, name });
  }
}

/**
 * The minimal commands turning `current` (what was last applied) into `desired`: element adds/deletes,
 * new chains, flushed-and-refilled changed chains, deleted stale chains and sets. Tables only in
 * `desired` are defined whole; tables only in `current` are deleted. Apply as one `nft -f` script.
 */
export function diffRulesets(current: Ruleset, desired: Ruleset): DiffResult {
  const stats: DiffStats = { chainsAdded: 0, chainsChanged: 0, chainsDeleted: 0, elementsAdded: 0, elementsDeleted: 0, setsAdded: 0, setsDeleted: 0, tablesReplaced: 0 };
  const cmds: NftCommand[] = [];
  const key = (t: Table) => `${t.family} ${t.name}`;
  const cur = new Map(current.tables.map((t) => [key(t), t]));
  const des = new Map(desired.tables.map((t) => [key(t), t]));
  for (const [k, t] of cur) {
    if (!des.has(k)) cmds.push({ op: 'delete-table', family: t.family, table: t.name });
  }
  for (const [k, t] of des) {
    const c = cur.get(k);
    if (c === undefined) {
      stats.tablesReplaced++;
      cmds.push(...fullReplaceCommands({ tables: [t] }));
    } else {
      diffTable(c, t, cmds, stats);
    }
  }
  return { commands: cmds, stats };
}
