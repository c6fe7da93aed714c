// How each list (and a few maps/structs) of the served kinds merges: the Go struct tags of upstream's types
// (`patchStrategy`, `patchMergeKey`, `+listType`, `+listMapKey`, `+structType`, `+mapType`) as data.
// One table serves strategic merge patch, server-side apply and the OpenAPI extensions, so they agree.
// Pure.

export interface ListSemantics {
  /** SSA list type. `map`: items keyed by `keys`; `set`: scalar items; `atomic`: replaced whole. */
  listType: 'map' | 'set' | 'atomic';
  keys?: readonly string[];
  /** Strategic-merge-patch strategy; absent means the list is replaced by a patch. */
  patchStrategy?: 'merge' | 'merge,retainKeys' | 'retainKeys';
  patchMergeKey?: string;
}

/** A path is the sequence of field names from the object root; list items are elided. */
type Table = Record<string, ListSemantics>;

const mapBy = (key: string, ...more: string[]): ListSemantics => ({ listType: 'map', keys: [key, ...more], patchStrategy: 'merge', patchMergeKey: key });
const setMerge: ListSemantics = { listType: 'set', patchStrategy: 'merge' };
const atomic: ListSemantics = { listType: 'atomic' };

const objectMeta: Table = {
  'metadata.finalizers': setMerge,
  'metadata.ownerReferences': mapBy('uid'),
  'metadata.managedFields': atomic,
};

function podSpecAt(prefix: string): Table {
  const container = (p: string): Table => ({
    [p]: mapBy('name'),
    [`${p}.ports`]: { listType: 'map', keys: ['containerPort', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'containerPort' },
    [`${p}.env`]: mapBy('name'),
    [`${p}.envFrom`]: atomic,
    [`${p}.volumeMounts`]: mapBy('mountPath'),
    [`${p}.volumeDevices`]: mapBy('devicePath'),
    [`${p}.command`]: atomic,
    [`${p}.args`]: atomic,
    [`${p}.resizePolicy`]: atomic,
  });
  return {
    ...container(`${prefix}.containers`),
    ...container(`${prefix}.initContainers`),
    ...container(`${prefix}.ephemeralContainers`),
    [`${prefix}.volumes`]: { listType: 'map', keys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' },
    [`${prefix}.imagePullSecrets`]: mapBy('name'),
    [`${prefix}.tolerations`]: atomic,
    [`${prefix}.hostAliases`]: mapBy('ip'),
    [`${prefix}.readinessGates`]: atomic,
    [`${prefix}.topologySpreadConstraints`]: { listType: 'map', keys: ['topologyKey', 'whenUnsatisfiable'], patchStrategy: 'merge', patchMergeKey: 'topologyKey' },
    [`${prefix}.dnsConfig.nameservers`]: atomic,
    [`${prefix}.dnsConfig.searches`]: atomic,
    [`${prefix}.dnsConfig.options`]: atomic,
  };
}

const conditionsByType = (path: string): Table => ({ [path]: mapBy('type') });

const byKind: Record<string, Table> = {
  Pod: {
    ...podSpecAt('spec'),
    ...conditionsByType('status.conditions'),
    'status.podIPs': mapBy('ip'),
    'status.hostIPs': mapBy('ip'),
    'status.containerStatuses': atomic,
    'status.initContainerStatuses': atomic,
  },
  Node: {
    'spec.podCIDRs': setMerge,
    'spec.taints': atomic,
    ...conditionsByType('status.conditions'),
    'status.addresses': mapBy('type'),
    'status.images': atomic,
  },
  Namespace: { 'spec.finalizers': atomic, ...conditionsByType('status.conditions') },
  Service: {
    'spec.ports': { listType: 'map', keys: ['port', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'port' },
    'spec.externalIPs': atomic,
    'spec.clusterIPs': atomic,
    'spec.ipFamilies': atomic,
    'spec.loadBalancerSourceRanges': atomic,
    'status.loadBalancer.ingress': atomic,
    ...conditionsByType('status.conditions'),
  },
  Endpoints: { subsets: atomic },
  ServiceAccount: { secrets: mapBy('name'), imagePullSecrets: atomic },
  Deployment: { ...podSpecAt('spec.template.spec'), ...conditionsByType('status.conditions') },
  ReplicaSet: { ...podSpecAt('spec.template.spec'), ...conditionsByType('status.conditions') },
  DaemonSet: { ...podSpecAt('spec.template.spec'), ...conditionsByType('status.conditions') },
  EndpointSlice: { endpoints: atomic, ports: atomic, 'endpoints.addresses': { listType: 'set' } },
  NetworkPolicy: {
    'spec.ingress': atomic,
    'spec.egress': atomic,
    'spec.policyTypes': atomic,
    'spec.ingress.from': atomic,
    'spec.ingress.ports': atomic,
    'spec.egress.to': atomic,
    'spec.egress.ports': atomic,
  },
  Ingress: {
    'spec.rules': atomic,
    'spec.tls': atomic,
    'spec.tls.hosts': atomic,
    'spec.rules.http.paths': atomic,
    'status.loadBalancer.ingress': atomic,
  },
};

/** Struct/map types replaced whole by SSA (`+structType=atomic` / `+mapType=atomic`), by path suffix. */
const ATOMIC_STRUCT_SUFFIXES: readonly string[] = ['selector', 'podSelector', 'namespaceSelector', 'labelSelector'];
const ATOMIC_STRUCT_KINDS_WITH_PLAIN_SELECTOR = new Set(['Deployment', 'ReplicaSet', 'DaemonSet']);

/**
 * The merge semantics of the list at `path` (field names from the root, list items elided, e.g.
 * ['spec', 'template', 'spec', 'containers', 'ports']) of an object of `kind`. Lists not in the table are
 * atomic, as upstream's default for lists without tags.
 */
export function listSemanticsAt(kind: string, path: readonly string[]): ListSemantics {
  const key = path.join('.');
  return byKind[kind]?.[key] ?? objectMeta[key] ?? atomic;
}

/**
 * Whether the struct at `path` is atomic for server-side apply. Label selectors are
 * (`metav1.LabelSelector` is `+structType=atomic`); a Service's `spec.selector` is a granular map.
 */
export function isAtomicStructAt(kind: string, path: readonly string[]): boolean {
  const last = path[path.length - 1];
  if (last === undefined) return false;
  if (last === 'selector') return ATOMIC_STRUCT_KINDS_WITH_PLAIN_SELECTOR.has(kind) && path.length === 2;
  return ATOMIC_STRUCT_SUFFIXES.includes(last);
}
