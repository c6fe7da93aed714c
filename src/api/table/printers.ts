// Per-kind Table printers: column definitions and row cells matching upstream kube-apiserver's server-side
// printing (pkg/printers/internalversion). The server always generates the wide cells; kubectl hides
// priority-1 columns unless `-o wide`. Integer columns carry numbers, everything else strings. Pure.
import type {
  ConfigMap,
  Condition,
  Container,
  DaemonSet,
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  Ingress,
  IngressClass,
  KubeObject,
  Namespace,
  NetworkPolicy,
  Node,
  Pod,
  ReplicaSet,
  Secret,
  Service,
  ServiceAccount,
  ServicePort,
  TableColumnDefinition,
} from '../types.ts';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, column, wide } from './columns.ts';
import { age, parseTimestamp } from './duration.ts';
import { POD_COLUMNS, podCells, podRowConditions } from './pod.ts';
import { formatLabelSelector, formatLabels, selectorString } from './selector-format.ts';

export interface Printer {
  columns: readonly TableColumnDefinition[];
  cells(obj: KubeObject, now: Date): unknown[];
  conditions?(obj: KubeObject): Condition[] | undefined;
}

const nameOf = (o: KubeObject): string => o.metadata.name ?? '';
const ageOf = (o: KubeObject, now: Date): string => age(o.metadata.creationTimestamp, now);
const count = (m: Record<string, unknown> | undefined | null): number => (m ? Object.keys(m).length : 0);

/** Container names and images of a template, comma-joined. */
function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** Sorted, de-duplicated IPs (or hostnames when no IP) of load-balancer ingress points, comma-joined. */
function loadBalancerAddresses(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** At most three items, then ` + N more...`. */
function firstThree(list: readonly string[], total: number): string {
  const shown = list.join(',');
  return total > 3 ? `${shown} + ${total - 3} more...` : shown;
}

// ------------------------------------------------------------------------------------------------ core

const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, column('Status', 'The lifecycle phase of the namespace.'), AGE_COLUMN],
  cells: (o, now) => [nameOf(o), (o as Namespace).status?.phase ?? '', ageOf(o, now)],
};

function nodeStatus(node: Node): string {
  const parts: string[] = [];
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').at(-1);
  if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else parts.push('Unknown');
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

const nodeAddress = (node: Node, type: 'InternalIP' | 'ExternalIP'): string =>
  (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';

const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'Whether the node is Ready, and SchedulingDisabled when cordoned.'),
    column('Roles', 'Roles taken from the node-role.kubernetes.io/* labels.'),
    AGE_COLUMN,
    column('Version', 'The kubelet version the node reports.'),
    wide('Internal-IP', 'The first InternalIP address of the node.'),
    wide('External-IP', 'The first ExternalIP address of the node.'),
    wide('OS-Image', 'The operating system image the node reports.'),
    wide('Kernel-Version', 'The kernel version the node reports.'),
    wide('Container-Runtime', 'The container runtime and version the node reports.'),
  ],
  cells: (o, now) => {
    const node = o as Node;
    const info = node.status?.nodeInfo;
    return [
      nameOf(o),
      nodeStatus(node),
      nodeRoles(node),
      ageOf(o, now),
      info?.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};

function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(ports: readonly ServicePort[] | undefined): string {
  const text = (ports ?? [])
    .map((p) => (p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
  return text || '<none>';
}

const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    column('Cluster-IP', 'The virtual IP allocated to the service inside the cluster.'),
    column('External-IP', 'Addresses reachable from outside: external IPs, load-balancer ingress or the external name.'),
    column('Port(s)', 'Service ports as port[:nodePort]/protocol.'),
    AGE_COLUMN,
    wide('Selector', 'Labels of the pods the service routes to.'),
  ],
  cells: (o, now) => {
    const svc = o as Service;
    const spec = svc.spec ?? {};
    return [
      nameOf(o),
      spec.type ?? 'ClusterIP',
      spec.clusterIPs?.[0] || spec.clusterIP || '<none>',
      serviceExternalIP(svc),
      servicePorts(spec.ports),
      ageOf(o, now),
      formatLabels(spec.selector),
    ];
  },
};

/** Ready addresses as ip:port (or bare IPs for port-less subsets), three shown then `+ N more...`. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let total = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      total += addresses.length;
      for (const a of addresses) {
        if (list.length === 3) break;
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      total += addresses.length;
      for (const a of addresses) {
        if (list.length === 3) break;
        list.push(hostPort(a.ip, port.port));
      }
    }
  }
  return firstThree(list, total);
}

const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'Ready endpoint addresses of the service.'), AGE_COLUMN],
  cells: (o, now) => [nameOf(o), formatEndpoints(o as Endpoints), ageOf(o, now)],
};

const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, column('Data', 'Number of keys in data and binaryData.'), AGE_COLUMN],
  cells: (o, now) => {
    const cm = o as ConfigMap;
    return [nameOf(o), count(cm.data) + count(cm.binaryData), ageOf(o, now)];
  },
};

const secretPrinter: Printer = {
  columns: [NAME_COLUMN, column('Type', 'The secret type, which fixes the keys it must hold.'), column('Data', 'Number of keys in data.'), AGE_COLUMN],
  cells: (o, now) => {
    const s = o as Secret;
    return [nameOf(o), s.type ?? '', count(s.data), ageOf(o, now)];
  },
};

function eventSource(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function eventSeries(ev: Event): { count: number; lastObservedTime?: string } | undefined {
  const s = ev['series'];
  if (typeof s !== 'object' || s === null) return undefined;
  const rec = s as Record<string, unknown>;
  return {
    count: typeof rec['count'] === 'number' ? rec['count'] : 0,
    ...(typeof rec['lastObservedTime'] === 'string' ? { lastObservedTime: rec['lastObservedTime'] } : {}),
  };
}

const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'How long ago the event was last observed.'),
    column('Type', 'Normal or Warning.'),
    column('Reason', 'A short machine-readable cause of the event.'),
    column('Object', 'The object the event is about, as kind/name.'),
    wide('Subobject', 'The part of the object the event is about (a field path), if any.'),
    wide('Source', 'The component (and host) that reported the event.'),
    column('Message', 'A human-readable description of what happened.'),
    wide('First Seen', 'How long ago the event was first observed.'),
    wide('Count', 'How many times the event has occurred.'),
    column('Name', 'The event object name.', { priority: 1, format: 'name' }),
  ],
  cells: (o, now) => {
    const ev = o as Event;
    const first = parseTimestamp(ev.firstTimestamp) !== undefined ? age(ev.firstTimestamp, now) : age(ev.eventTime, now);
    let last = parseTimestamp(ev.lastTimestamp) !== undefined ? age(ev.lastTimestamp, now) : first;
    const series = eventSeries(ev);
    let n = ev.count ?? 0;
    if (series) {
      last = age(series.lastObservedTime, now);
      n = series.count;
    } else if (n === 0) {
      n = 1;
    }
    const involved = ev.involvedObject ?? {};
    const kind = (involved.kind ?? '').toLowerCase();
    const target = involved.name ? `${kind}/${involved.name}` : kind;
    return [last, ev.type ?? '', ev.reason ?? '', target, involved.fieldPath ?? '', eventSource(ev), (ev.message ?? '').trim(), first, n, nameOf(o)];
  },
};

const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, column('Secrets', 'Number of secrets listed on the service account.'), AGE_COLUMN],
  cells: (o, now) => [nameOf(o), ((o as ServiceAccount).secrets ?? []).length, ageOf(o, now)],
};

// ------------------------------------------------------------------------------------------------ apps

const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'Ready pods out of the desired replicas.'),
    column('Up-to-date', 'Pods running the latest pod template.'),
    column('Available', 'Pods ready for at least minReadySeconds.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    wide('Selector', 'The label selector of the pods the deployment manages.'),
  ],
  cells: (o, now) => {
    const d = o as Deployment;
    const st = d.status ?? {};
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      nameOf(o),
      `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      st.updatedReplicas ?? 0,
      st.availableReplicas ?? 0,
      ageOf(o, now),
      names,
      images,
      selectorString(d.spec?.selector) ?? '<invalid>',
    ];
  },
};

const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'The number of pods wanted.', { type: 'integer' }),
    column('Current', 'The number of pods that exist.', { type: 'integer' }),
    column('Ready', 'The number of pods that are ready.', { type: 'integer' }),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    wide('Selector', 'The label selector of the pods the replica set manages.'),
  ],
  cells: (o, now) => {
    const rs = o as ReplicaSet;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      nameOf(o),
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      ageOf(o, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
};

const daemonSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'Nodes that should run the daemon pod.', { type: 'integer' }),
    column('Current', 'Nodes running at least one daemon pod.', { type: 'integer' }),
    column('Ready', 'Nodes whose daemon pod is ready.', { type: 'integer' }),
    column('Up-to-date', 'Nodes running the latest pod template.', { type: 'integer' }),
    column('Available', 'Nodes whose daemon pod has been ready for minReadySeconds.', { type: 'integer' }),
    column('Node Selector', 'The node selector of the pod template.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    wide('Selector', 'The label selector of the pods the daemon set manages.'),
  ],
  cells: (o, now) => {
    const ds = o as DaemonSet;
    const st = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      nameOf(o),
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      ageOf(o, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
};

// --------------------------------------------------------------------------------- discovery, networking

function endpointSliceCells(slice: EndpointSlice): [string, string] {
  const ports = slice.ports ?? [];
  const portList = ports.slice(0, 3).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name ?? '*'));
  const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  const portText = firstThree(portList, ports.length) || '<unset>';
  const endpointText = firstThree(addresses.slice(0, 3), addresses.length) || '<unset>';
  return [portText, endpointText];
}

const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'The address family of the endpoints: IPv4, IPv6 or FQDN.'),
    column('Ports', 'Ports exposed by the endpoints.'),
    column('Endpoints', 'Addresses of the endpoints.'),
    AGE_COLUMN,
  ],
  cells: (o, now) => {
    const slice = o as EndpointSlice;
    const [ports, endpoints] = endpointSliceCells(slice);
    return [nameOf(o), slice.addressType ?? '', ports, endpoints, ageOf(o, now)];
  },
};

const networkPolicyPrinter: Printer = {
  columns: [NAME_COLUMN, column('Pod-Selector', 'The pods the policy applies to.'), AGE_COLUMN],
  cells: (o, now) => [nameOf(o), formatLabelSelector((o as NetworkPolicy).spec?.podSelector ?? {}), ageOf(o, now)],
};

function ingressHosts(ing: Ingress): string {
  const rules = ing.spec?.rules ?? [];
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === 3) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

const ingressPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Class', 'The IngressClass that handles this ingress.'),
    column('Hosts', 'Host names the rules match.'),
    column('Address', 'Addresses of the load balancer serving the ingress.'),
    column('Ports', 'Ports the ingress is served on (443 too when TLS is configured).'),
    AGE_COLUMN,
  ],
  cells: (o, now) => {
    const ing = o as Ingress;
    return [
      nameOf(o),
      ing.spec?.ingressClassName ?? '<none>',
      ingressHosts(ing),
      loadBalancerAddresses(ing.status?.loadBalancer?.ingress),
      (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
      ageOf(o, now),
    ];
  },
};

const ingressClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'The controller that implements this class.'),
    column('Parameters', 'The resource holding extra configuration for the controller, if any.'),
    AGE_COLUMN,
  ],
  cells: (o, now) => {
    const spec = (o as IngressClass).spec;
    const p = spec?.parameters;
    const parameters = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [nameOf(o), spec?.controller ?? '', parameters, ageOf(o, now)];
  },
};

// ------------------------------------------------------------------------------------------------ table

const podPrinter: Printer = {
  columns: POD_COLUMNS,
  cells: (o, now) => podCells(o as Pod, now),
  conditions: (o) => podRowConditions(o as Pod),
};

/** Printer for kinds without a dedicated one: NAME and AGE. */
export const DEFAULT_PRINTER: Printer = {
  columns: [NAME_COLUMN, AGE_COLUMN],
  cells: (o, now) => [nameOf(o), ageOf(o, now)],
};

const PRINTERS: Readonly<Record<string, Printer>> = {
  '/Namespace': namespacePrinter,
  '/Node': nodePrinter,
  '/Pod': podPrinter,
  '/Service': servicePrinter,
  '/Endpoints': endpointsPrinter,
  '/ConfigMap': configMapPrinter,
  '/Secret': secretPrinter,
  '/Event': eventPrinter,
  '/ServiceAccount': serviceAccountPrinter,
  'apps/Deployment': deploymentPrinter,
  'apps/ReplicaSet': replicaSetPrinter,
  'apps/DaemonSet': daemonSetPrinter,
  'discovery.k8s.io/EndpointSlice': endpointSlicePrinter,
  'networking.k8s.io/NetworkPolicy': networkPolicyPrinter,
  'networking.k8s.io/Ingress': ingressPrinter,
  'networking.k8s.io/IngressClass': ingressClassPrinter,
};

/** The printer for a group and kind; DEFAULT_PRINTER when the kind has none. */
export function printerFor(group: string, kind: string): Printer {
  return PRINTERS[`${group}/${kind}`] ?? DEFAULT_PRINTER;
}
