// API discovery documents, as kube-apiserver serves them: the legacy per-path documents (/api, /apis,
// /apis/<group>, /api/v1, /apis/<group>/<version>) and the aggregated APIGroupDiscoveryList (apidiscovery.k8s.io
// v2 and v2beta1) that kubectl >= 1.26 asks for on /api and /apis. Everything derives from RESOURCES. Pure.
import type { ResourceInfo, Subresource } from '../resources.ts';
import { RESOURCES, groupVersion, servedGroups } from '../resources.ts';

// ------------------------------------------------------------------------------------------ wire types

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIVersions {
  kind: 'APIVersions';
  versions: string[];
  serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[];
}

export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

export interface APIGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: APIGroup[];
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion?: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Cluster' | 'Namespaced';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  version: string;
  resources: APIResourceDiscovery[];
  freshness: 'Current';
}

export interface APIGroupDiscovery {
  metadata: { name?: string; creationTimestamp: null };
  versions: APIVersionDiscovery[];
}

export type AggregatedDiscoveryVersion = 'v2' | 'v2beta1';

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: `apidiscovery.k8s.io/${AggregatedDiscoveryVersion}`;
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

// ------------------------------------------------------------------------------------------ subresources

interface SubresourceShape {
  kind: string;
  /** Set when the subresource speaks a kind of another group/version (scale, eviction). */
  group?: string;
  version?: string;
  verbs: string[];
}

const GET_PATCH_UPDATE = ['get', 'patch', 'update'];
const CONNECT_GET = ['create', 'get'];
const PROXY_VERBS = ['create', 'delete', 'get', 'patch', 'update'];

/** The kind and verbs kube-apiserver reports for each subresource of `r`. */
function subresourceShape(r: ResourceInfo, sub: Subresource): SubresourceShape {
  switch (sub) {
    case 'status':
      return { kind: r.kind, verbs: GET_PATCH_UPDATE };
    case 'scale':
      return { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: GET_PATCH_UPDATE };
    case 'log':
      return { kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { kind: 'PodExecOptions', verbs: CONNECT_GET };
    case 'attach':
      return { kind: 'PodAttachOptions', verbs: CONNECT_GET };
    case 'portforward':
      return { kind: 'PodPortForwardOptions', verbs: CONNECT_GET };
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'proxy':
      return { kind: `${r.kind}ProxyOptions`, verbs: PROXY_VERBS };
  }
}

const resourcesOf = (group: string, version: string): ResourceInfo[] => RESOURCES.filter((r) => r.group === group && r.version === version);

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ------------------------------------------------------------------------------------------ legacy documents

/** GET /api: the core group's versions and the address clients should use. */
export function apiVersions(serverAddress: string): APIVersions {
  const core = servedGroups().find((g) => g.group === '');
  return {
    kind: 'APIVersions',
    versions: core ? [...core.versions] : [],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDocument(group: string, versions: readonly string[]): APIGroup {
  const gvs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: gvs, preferredVersion: gvs[0]! };
}

/** GET /apis: every named group with its versions, the first one preferred. */
export function apiGroupList(): APIGroupList {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: servedGroups()
      .filter((g) => g.group !== '')
      .map((g) => groupDocument(g.group, g.versions)),
  };
}

/** GET /apis/<group>, or undefined when the group is not served (the core group lives at /api). */
export function apiGroup(group: string): APIGroup | undefined {
  if (group === '') return undefined;
  const g = servedGroups().find((x) => x.group === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(g.group, g.versions) };
}

/**
 * GET /api/v1 (group '') or /apis/<group>/<version>: resources and their subresources (`pods/status`,
 * `deployments/scale`, ...) sorted by name, or undefined when the group/version is not served.
 */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  const served = resourcesOf(group, version);
  if (served.length === 0) return undefined;
  const resources: APIResource[] = [];
  for (const r of served) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
      ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories.length > 0 ? { categories: [...r.categories] } : {}),
    });
    for (const sub of r.subresources) {
      const shape = subresourceShape(r, sub);
      resources.push({
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(shape.group !== undefined ? { group: shape.group, version: shape.version ?? 'v1' } : {}),
        kind: shape.kind,
        verbs: [...shape.verbs],
      });
    }
  }
  resources.sort((a, b) => byName(a.name, b.name));
  const gv = groupVersion({ group, version });
  // kube-apiserver omits apiVersion on the legacy /api/v1 document and sets it on /apis/<g>/<v>.
  return group === '' ? { kind: 'APIResourceList', groupVersion: gv, resources } : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
}

// ------------------------------------------------------------------------------------------ aggregated

function resourceDiscovery(r: ResourceInfo): APIResourceDiscovery {
  const subresources = r.subresources
    .map((sub): APISubresourceDiscovery => {
      const shape = subresourceShape(r, sub);
      return {
        subresource: sub,
        responseKind: { group: shape.group ?? r.group, version: shape.version ?? r.version, kind: shape.kind },
        verbs: [...shape.verbs],
      };
    })
    .sort((a, b) => byName(a.subresource, b.subresource));
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs],
    ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
    ...(r.categories.length > 0 ? { categories: [...r.categories] } : {}),
    ...(subresources.length > 0 ? { subresources } : {}),
  };
}

function groupDiscovery(group: string, versions: readonly string[]): APIGroupDiscovery {
  return {
    metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      resources: resourcesOf(group, version)
        .map(resourceDiscovery)
        .sort((a, b) => byName(a.resource, b.resource)),
      freshness: 'Current',
    })),
  };
}

/**
 * The aggregated discovery document: for `legacy` (GET /api) the core group alone, for `apis` (GET /apis)
 * every named group, each with its versions, resources, subresources and response kinds.
 */
export function aggregatedDiscovery(kind: 'legacy' | 'apis', version: AggregatedDiscoveryVersion): APIGroupDiscoveryList {
  const groups = servedGroups().filter((g) => (kind === 'legacy' ? g.group === '' : g.group !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => groupDiscovery(g.group, g.versions)),
  };
}

// ------------------------------------------------------------------------------------------ negotiation

/** The Content-Type of an aggregated discovery response of `version`. */
export function aggregatedDiscoveryContentType(version: AggregatedDiscoveryVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
  order: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  const parts = accept.split(',');
  for (let i = 0; i < parts.length; i++) {
    const [type = '', ...rawParams] = parts[i]!.split(';').map((s) => s.trim());
    if (type === '') continue;
    const params = new Map<string, string>();
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    ranges.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, order: i });
  }
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order);
}

/**
 * Which discovery document an Accept header asks for on /api or /apis: the aggregated list (v2 or v2beta1,
 * JSON only) when the client prefers it, otherwise the legacy document (plain JSON, `* / *`, or no header).
 */
export function discoveryFormat(accept: string | undefined): AggregatedDiscoveryVersion | 'legacy' {
  if (!accept) return 'legacy';
  for (const range of parseAccept(accept)) {
    if (range.q <= 0) continue;
    const g = range.params.get('g');
    const as = range.params.get('as');
    const v = range.params.get('v');
    if (g === undefined && as === undefined) {
      if (range.type === 'application/json' || range.type === 'application/*' || range.type === '*/*') return 'legacy';
      continue;
    }
    if (range.type === 'application/json' && g === 'apidiscovery.k8s.io' && as === 'APIGroupDiscoveryList' && (v === 'v2' || v === 'v2beta1')) {
      return v;
    }
  }
  return 'legacy';
}
