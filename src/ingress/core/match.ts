// Host and path matching of networking.k8s.io/v1 Ingress rules. Pure.
//
// Hosts: a rule host is either a DNS name (matched case-insensitively, whole) or `*.suffix`, which matches a
// request host with exactly one more, non-empty label in front of `suffix` (`*.example.com` matches
// `a.example.com`, not `a.b.example.com` and not `example.com`).
//
// Paths: `Exact` compares the whole request path (query excluded), case-sensitively, trailing slash
// included. `Prefix` compares path elements (the `/`-separated labels): `/foo` and `/foo/` both match
// `/foo`, `/foo/` and `/foo/bar`, but not `/foobar`; `/` matches everything. `ImplementationSpecific` is
// matched as `Prefix` in flatnet.
import type { PathType } from '../../api/types.ts';

export type PathMatchKind = 'Exact' | 'Prefix';

/** How flatnet matches a pathType (`ImplementationSpecific` is treated as `Prefix`). */
export function matchKindOf(pathType: PathType): PathMatchKind {
  return pathType === 'Exact' ? 'Exact' : 'Prefix';
}

/** A Prefix path with its trailing slashes removed ('' for `/`): the element list it stands for. */
export function normalizePrefix(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return path.slice(0, end);
}

/**
 * The path a matcher compares: for Exact the path as written, for Prefix the path without trailing
 * slashes. Its length orders rules ("longest path wins").
 */
export function matchPath(path: string, kind: PathMatchKind): string {
  return kind === 'Exact' ? path : normalizePrefix(path);
}

/** Whether `requestPath` (no query string) matches a rule whose normalized path is `rulePath`. */
export function pathMatches(rulePath: string, kind: PathMatchKind, requestPath: string): boolean {
  if (kind === 'Exact') return requestPath === rulePath;
  if (rulePath === '') return true;
  if (!requestPath.startsWith(rulePath)) return false;
  return requestPath.length === rulePath.length || requestPath.charCodeAt(rulePath.length) === 47;
}

/** The path part of a request target: up to `?` or `#`; '' and `*` become `/`. */
export function requestPathOf(url: string | undefined): string {
  if (url === undefined || url === '' || url === '*') return '/';
  let end = url.length;
  const q = url.indexOf('?');
  if (q >= 0) end = q;
  const h = url.indexOf('#');
  if (h >= 0 && h < end) end = h;
  const path = url.slice(0, end);
  if (path === '') return '/';
  // An absolute-form target (`http://host/path`) carries its path after the authority.
  if (path.charCodeAt(0) !== 47) {
    const scheme = path.indexOf('://');
    if (scheme > 0) {
      const slash = path.indexOf('/', scheme + 3);
      return slash < 0 ? '/' : path.slice(slash);
    }
  }
  return path;
}

/**
 * The host a request names (Host header or HTTP/2 :authority, or a TLS server name): lowercased, without
 * port and trailing dot. IPv6 literals keep their brackets. '' when absent.
 */
export function normalizeHost(host: string | undefined): string {
  if (host === undefined || host === '') return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close < 0 ? h : h.slice(0, close + 1);
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*.');
}

/** For a request host, the suffix a `*.suffix` rule would need to match it ('' if the host has < 2 labels). */
export function wildcardSuffixOf(host: string): string {
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return '';
  return host.slice(dot + 1);
}

/** Whether a rule host (exact, `*.suffix` or '' for any) matches a normalized request host. */
export function hostMatches(ruleHost: string, requestHost: string): boolean {
  if (ruleHost === '') return true;
  const rule = ruleHost.toLowerCase();
  if (isWildcardHost(rule)) {
    const suffix = wildcardSuffixOf(requestHost);
    return suffix !== '' && suffix === rule.slice(2);
  }
  return rule === requestHost;
}
