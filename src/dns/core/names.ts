// Name helpers for the cluster-DNS core: splitting presentation-format names into labels, the dashed form
// of IP addresses used for pod and endpoint names, and in-addr.arpa / ip6.arpa reverse names.

/**
 * Splits a presentation-format name into lower-cased labels. A label holding an escape (`\.`, `\\`,
 * `\DDD`) keeps its backslash, so it never equals a Kubernetes name (those are [a-z0-9-]) and lookups
 * simply miss.
 */
export function splitLabels(name: string): string[] {
  if (name === '' || name === '.') return [];
  const trimmed = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  const lower = trimmed.toLowerCase();
  if (!lower.includes('\\')) return lower.split('.');
  const labels: string[] = [];
  let current = '';
  for (let i = 0; i < lower.length; i++) {
    const ch = lower[i] ?? '';
    if (ch === '\\') {
      // Keep the escape visible so the label cannot match a Kubernetes name.
      current += '\\' + (lower[i + 1] ?? '');
      i++;
    } else if (ch === '.') {
      labels.push(current);
      current = '';
    } else current += ch;
  }
  labels.push(current);
  return labels;
}

/** Lower-cased, without a trailing dot. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') && !lower.endsWith('\\.') ? lower.slice(0, -1) : lower;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Canonical dotted-quad text, or undefined. */
export function parseIPv4Text(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  for (const p of parts) if (!OCTET.test(p) || Number(p) > 255) return undefined;
  return parts.join('.');
}

/** The 8 groups of an IPv6 address as numbers, or undefined (no zone ids, optional embedded IPv4 tail). */
export function parseIPv6Groups(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const v4 = parseIPv4Text(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    const o = v4.split('.').map(Number);
    tail = [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const dbl = head.indexOf('::');
  let groups: number[];
  if (dbl >= 0) {
    if (head.indexOf('::', dbl + 1) >= 0) return undefined;
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === undefined || right === undefined) return undefined;
    const missing = 8 - tail.length - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (all === undefined) return undefined;
    groups = all;
  }
  groups = [...groups, ...tail];
  return groups.length === 8 ? groups : undefined;
}

/** RFC 5952 text of an IPv6 address given as 8 groups. */
export function formatIPv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

export type IpFamily = 4 | 6;

/** Canonical text and family of an IP address, or undefined when it is neither. */
export function normalizeIP(text: string): { ip: string; family: IpFamily } | undefined {
  const v4 = parseIPv4Text(text);
  if (v4 !== undefined) return { ip: v4, family: 4 };
  const g = parseIPv6Groups(text);
  if (g !== undefined) return { ip: formatIPv6Groups(g), family: 6 };
  return undefined;
}

/** `10.0.0.1` -> `10-0-0-1`; `fd00::1` -> `fd00--1` (as CoreDNS names endpoints without a hostname). */
export function dashedIP(ip: string): string {
  return ip.includes(':') ? ip.replaceAll(':', '-') : ip.replaceAll('.', '-');
}

/** The address a dashed label stands for (`10-0-0-1`, `fd00--1`), or undefined. */
export function parseDashedIP(label: string): { ip: string; family: IpFamily } | undefined {
  if (/^[0-9]{1,3}(-[0-9]{1,3}){3}$/.test(label)) {
    const v4 = parseIPv4Text(label.replaceAll('-', '.'));
    return v4 === undefined ? undefined : { ip: v4, family: 4 };
  }
  if (/^[0-9a-f-]+$/.test(label) && label.includes('-')) {
    const g = parseIPv6Groups(label.replaceAll('-', ':'));
    return g === undefined ? undefined : { ip: formatIPv6Groups(g), family: 6 };
  }
  return undefined;
}

/** `10.0.0.1` -> `1.0.0.10.in-addr.arpa`; IPv6 -> 32 nibbles `.ip6.arpa`. Input must be canonical. */
export function reverseName(ip: string): string {
  if (!ip.includes(':')) return ip.split('.').reverse().join('.') + '.in-addr.arpa';
  const groups = parseIPv6Groups(ip) ?? [];
  const nibbles: string[] = [];
  for (const g of groups) for (let s = 12; s >= 0; s -= 4) nibbles.push(((g >> s) & 15).toString(16));
  return nibbles.reverse().join('.') + '.ip6.arpa';
}

/**
 * The IP a full reverse name stands for (lower-case labels, without the arpa suffix handled by the caller):
 * `['1','0','0','10','in-addr','arpa']` -> `10.0.0.1`. Undefined for partial or malformed names.
 */
export function ipFromReverseLabels(labels: readonly string[]): string | undefined {
  const n = labels.length;
  if (n === 6 && labels[4] === 'in-addr' && labels[5] === 'arpa') {
    return parseIPv4Text([labels[3], labels[2], labels[1], labels[0]].join('.'));
  }
  if (n === 34 && labels[32] === 'ip6' && labels[33] === 'arpa') {
    const nibbles = labels.slice(0, 32).reverse();
    if (!nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const groups: number[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(parseInt(nibbles.slice(i, i + 4).join(''), 16));
    return formatIPv6Groups(groups);
  }
  return undefined;
}

/** Whether the lower-cased labels end with the reverse zones. */
export function isReverseName(labels: readonly string[]): boolean {
  const n = labels.length;
  return n >= 2 && labels[n - 1] === 'arpa' && (labels[n - 2] === 'in-addr' || labels[n - 2] === 'ip6');
}
