import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceInfo } from '../resources.ts';
import { RESOURCES, groupVersion } from '../resources.ts';
import type { KubeObject, Table } from '../types.ts';
import { toTable } from './index.ts';

const now = new Date('2025-03-01T12:00:00Z');
const created = '2025-03-01T11:50:00Z'; // 10m before now

function res(kind: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`no resource ${kind}`);
  return r;
}

function obj(kind: string, fields: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  const r = res(kind);
  return { apiVersion: groupVersion(r), kind, metadata: { name: 'x', creationTimestamp: created, ...meta }, ...fields };
}

/** The row's cells keyed by column name, wide columns included. */
function row(kind: string, fields: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, unknown> {
  const t = toTable(res(kind), [obj(kind, fields, meta)], { now });
  const out: Record<string, unknown> = {};
  t.columnDefinitions.forEach((c, i) => (out[c.name] = t.rows[0]!.cells[i]));
  return out;
}

const headers = (t: Table, priority: number): string[] => t.columnDefinitions.filter((c) => c.priority === priority).map((c) => c.name.toUpperCase());

describe('Table columns as kubectl shows them', () => {
  const expected: Record<string, [string[], string[]]> = {
    Pod: [['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']],
    Node: [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']],
    Namespace: [['NAME', 'STATUS', 'AGE'], []],
    Service: [['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], ['SELECTOR']],
    Endpoints: [['NAME', 'ENDPOINTS', 'AGE'], []],
    ConfigMap: [['NAME', 'DATA', 'AGE'], []],
    Secret: [['NAME', 'TYPE', 'DATA', 'AGE'], []],
    Event: [['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], ['SUBOBJECT', 'SOURCE', 'FIRST SEEN', 'COUNT', 'NAME']],
    ServiceAccount: [['NAME', 'SECRETS', 'AGE'], []],
    Deployment: [['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], ['CONTAINERS', 'IMAGES', 'SELECTOR']],
    ReplicaSet: [['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], ['CONTAINERS', 'IMAGES', 'SELECTOR']],
    DaemonSet: [['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'], ['CONTAINERS', 'IMAGES', 'SELECTOR']],
    EndpointSlice: [['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], []],
    NetworkPolicy: [['NAME', 'POD-SELECTOR', 'AGE'], []],
    Ingress: [['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'], []],
    IngressClass: [['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'], []],
  };
  for (const r of RESOURCES) {
    it(`${r.kind} has upstream's default and wide columns, each described, and one cell per column`, () => {
      const want = expected[r.kind];
      assert.ok(want, `no expectation for ${r.kind}`);
      const t = toTable(r, [obj(r.kind)], { now });
      assert.deepEqual(headers(t, 0), want[0]);
      assert.deepEqual(headers(t, 1), want[1]);
      for (const c of t.columnDefinitions) assert.ok(c.description.length > 0, `${r.kind} ${c.name} lacks a description`);
      assert.equal(t.rows[0]!.cells.length, t.columnDefinitions.length);
    });
  }
  it('an unknown kind falls back to NAME and AGE', () => {
    const widget: ResourceInfo = { ...res('ConfigMap'), group: 'example.com', kind: 'Widget', plural: 'widgets', singular: 'widget' };
    const t = toTable(widget, [{ metadata: { name: 'w1', creationTimestamp: created } }], { now });
    assert.deepEqual(headers(t, 0), ['NAME', 'AGE']);
    assert.deepEqual(t.rows[0]!.cells, ['w1', '10m']);
  });
  it('the NAME column is marked with the name format', () => {
    const t = toTable(res('Pod'), [], { now });
    assert.equal(t.columnDefinitions[0]!.format, 'name');
    assert.equal(t.rows.length, 0);
  });
});

describe('Service cells', () => {
  it('prints NodePort ports as port:nodePort/protocol', () => {
    const r = row('Service', { spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, nodePort: 30053, protocol: 'UDP' }] } });
    assert.equal(r['Port(s)'], '80:30080/TCP,53:30053/UDP');
    assert.equal(r['External-IP'], '<none>');
    assert.equal(r['Cluster-IP'], '10.96.0.10');
    assert.equal(r['Type'], 'NodePort');
  });
  it('prints ClusterIP ports as port/protocol and the selector sorted', () => {
    const r = row('Service', { spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.1'], ports: [{ port: 443, protocol: 'TCP' }], selector: { tier: 'fe', app: 'web' } } });
    assert.equal(r['Port(s)'], '443/TCP');
    assert.equal(r['Selector'], 'app=web,tier=fe');
    assert.equal(r['Age'], '10m');
  });
  it('prints <none> for a service without ports, cluster IP or selector', () => {
    const r = row('Service', { spec: { type: 'ClusterIP' } });
    assert.equal(r['Port(s)'], '<none>');
    assert.equal(r['Cluster-IP'], '<none>');
    assert.equal(r['Selector'], '<none>');
  });
  const external: [string, Record<string, unknown>, string][] = [
    ['ClusterIP with external IPs lists them', { spec: { type: 'ClusterIP', externalIPs: ['1.2.3.4', '5.6.7.8'] } }, '1.2.3.4,5.6.7.8'],
    ['LoadBalancer without ingress is <pending>', { spec: { type: 'LoadBalancer' } }, '<pending>'],
    [
      'LoadBalancer lists sorted unique ingress addresses, IPs before hostnames only when present',
      { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '9.9.9.9' }, { hostname: 'lb.example.com' }, { ip: '9.9.9.9' }] } } },
      '9.9.9.9,lb.example.com',
    ],
    [
      'LoadBalancer with external IPs appends them after the ingress addresses',
      { spec: { type: 'LoadBalancer', externalIPs: ['1.1.1.1'] }, status: { loadBalancer: { ingress: [{ ip: '9.9.9.9' }] } } },
      '9.9.9.9,1.1.1.1',
    ],
    ['ExternalName shows the external name', { spec: { type: 'ExternalName', externalName: 'db.example.com' } }, 'db.example.com'],
  ];
  for (const [name, fields, want] of external) {
    it(`EXTERNAL-IP: ${name}`, () => assert.equal(row('Service', fields)['External-IP'], want));
  }
});

describe('Endpoints cells', () => {
  const ips = (...n: number[]): { ip: string }[] => n.map((i) => ({ ip: `10.0.0.${i}` }));
  const cases: [string, unknown, string][] = [
    ['no subsets read <none>', undefined, '<none>'],
    ['three addresses are all shown', [{ addresses: ips(1, 2, 3), ports: [{ port: 8080 }] }], '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080'],
    ['a fourth address is summarised', [{ addresses: ips(1, 2, 3, 4), ports: [{ port: 8080 }] }], '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...'],
    [
      'every address-port pair counts toward the total',
      [{ addresses: ips(1, 2), ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }, { addresses: ips(3), ports: [{ port: 80 }] }],
      '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...',
    ],
    ['port-less subsets list bare IPs', [{ addresses: ips(7, 8) }], '10.0.0.7,10.0.0.8'],
    ['IPv6 addresses are bracketed', [{ addresses: [{ ip: 'fd00::5' }], ports: [{ port: 53 }] }], '[fd00::5]:53'],
    ['not-ready addresses are not shown', [{ notReadyAddresses: ips(1), ports: [{ port: 80 }] }], ''],
  ];
  for (const [name, subsets, want] of cases) {
    it(name, () => assert.equal(row('Endpoints', subsets === undefined ? {} : { subsets })['Endpoints'], want));
  }
});

describe('Node cells', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a Ready node', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'Ready'],
    ['a cordoned node that is not ready', { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'NotReady,SchedulingDisabled'],
    ['a node that never reported', {}, 'Unknown'],
  ];
  for (const [name, fields, want] of cases) it(`STATUS of ${name} is ${want}`, () => assert.equal(row('Node', fields)['Status'], want));
  it('ROLES come from node-role labels, sorted, and wide cells from addresses and nodeInfo', () => {
    const r = row(
      'Node',
      {
        status: {
          addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '192.168.0.2' }],
          nodeInfo: { kubeletVersion: 'v1.31.0', osImage: 'Debian', kernelVersion: '6.1.0', containerRuntimeVersion: 'flatnet://0.1' },
        },
      },
      { labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } },
    );
    assert.equal(r['Roles'], 'control-plane,edge,worker');
    assert.equal(r['Version'], 'v1.31.0');
    assert.equal(r['Internal-IP'], '192.168.0.2');
    assert.equal(r['External-IP'], '<none>');
    assert.equal(r['Container-Runtime'], 'flatnet://0.1');
    assert.equal(row('Node')['Roles'], '<none>');
    assert.equal(row('Node')['OS-Image'], '<unknown>');
  });
});

describe('workload cells', () => {
  const template = { spec: { containers: [{ name: 'web', image: 'nginx:1' }, { name: 'log', image: 'busybox' }], nodeSelector: { disk: 'ssd' } } };
  it('Deployment READY is ready/desired and the selector is its plain string', () => {
    const r = row('Deployment', {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    });
    assert.deepEqual([r['Ready'], r['Up-to-date'], r['Available']], ['2/3', 3, 2]);
    assert.deepEqual([r['Containers'], r['Images'], r['Selector']], ['web,log', 'nginx:1,busybox', 'app=web']);
  });
  it('ReplicaSet prints integer counts and a formatted selector', () => {
    const r = row('ReplicaSet', {
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, template },
      status: { replicas: 2, readyReplicas: 1 },
    });
    assert.deepEqual([r['Desired'], r['Current'], r['Ready']], [2, 2, 1]);
    assert.equal(r['Selector'], 'app=web,tier in (a,b)');
  });
  it('DaemonSet prints scheduling counts and the template node selector', () => {
    const r = row('DaemonSet', {
      spec: { selector: { matchLabels: { app: 'agent' } }, template },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2, numberMisscheduled: 0 },
    });
    assert.deepEqual([r['Desired'], r['Current'], r['Ready'], r['Up-to-date'], r['Available']], [3, 3, 2, 1, 2]);
    assert.equal(r['Node Selector'], 'disk=ssd');
    assert.equal(r['Selector'], 'app=agent');
  });
});

describe('config and identity cells', () => {
  it('ConfigMap DATA counts data and binaryData keys', () => {
    assert.equal(row('ConfigMap', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } })['Data'], 3);
  });
  it('Secret prints its type and key count', () => {
    const r = row('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } });
    assert.deepEqual([r['Type'], r['Data']], ['kubernetes.io/tls', 2]);
  });
  it('ServiceAccount SECRETS counts the listed secrets', () => {
    assert.equal(row('ServiceAccount', { secrets: [{ name: 't' }] })['Secrets'], 1);
  });
  it('Namespace STATUS is its phase', () => {
    assert.equal(row('Namespace', { status: { phase: 'Terminating' } })['Status'], 'Terminating');
  });
});

describe('Event cells', () => {
  it('prints last seen, kind/name, source and a count defaulting to 1', () => {
    const r = row('Event', {
      involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      type: 'Warning',
      reason: 'BackOff',
      message: '  Back-off restarting failed container  ',
      source: { component: 'kubelet', host: 'node-a' },
      firstTimestamp: '2025-03-01T11:00:00Z',
      lastTimestamp: '2025-03-01T11:58:00Z',
    });
    assert.deepEqual(
      [r['Last Seen'], r['Type'], r['Reason'], r['Object'], r['Subobject'], r['Source'], r['Message'], r['First Seen'], r['Count']],
      ['2m', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-a', 'Back-off restarting failed container', '60m', 1],
    );
  });
  it('uses eventTime, the reporting controller and the series for events.k8s.io-style events', () => {
    const r = row('Event', {
      involvedObject: { kind: 'Node' },
      eventTime: '2025-03-01T11:00:00Z',
      reportingComponent: 'flatnet-controller',
      series: { count: 7, lastObservedTime: '2025-03-01T11:59:00Z' },
    });
    assert.deepEqual([r['Last Seen'], r['First Seen'], r['Count'], r['Object'], r['Source']], ['60s', '60m', 7, 'node', 'flatnet-controller']);
  });
});

describe('networking cells', () => {
  it('EndpointSlice lists up to three ports and endpoints, then + N more...', () => {
    const r = row('EndpointSlice', {
      addressType: 'IPv4',
      ports: [{ port: 80 }, { name: 'metrics' }, {}, { port: 9000 }],
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
    });
    assert.deepEqual([r['AddressType'], r['Ports'], r['Endpoints']], ['IPv4', '80,metrics,* + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...']);
    const empty = row('EndpointSlice', { addressType: 'IPv4', endpoints: null, ports: null });
    assert.deepEqual([empty['Ports'], empty['Endpoints']], ['<unset>', '<unset>']);
  });
  it('NetworkPolicy with an empty pod selector prints <none>', () => {
    assert.equal(row('NetworkPolicy', { spec: { podSelector: {} } })['Pod-Selector'], '<none>');
    assert.equal(row('NetworkPolicy', { spec: { podSelector: { matchLabels: { role: 'db' } } } })['Pod-Selector'], 'role=db');
  });
  const hosts: [string, unknown[], string][] = [
    ['no host rules are *', [{ http: { paths: [] } }], '*'],
    ['hosts are listed', [{ host: 'a.example' }, { host: 'b.example' }], 'a.example,b.example'],
    ['more than three hosts are summarised', [{ host: 'a' }, { host: 'b' }, { host: 'c' }, { host: 'd' }, { host: 'e' }], 'a,b,c + 2 more...'],
  ];
  for (const [name, rules, want] of hosts) it(`Ingress HOSTS: ${name}`, () => assert.equal(row('Ingress', { spec: { rules } })['Hosts'], want));
  it('Ingress prints its class, load-balancer address and 443 when TLS is set', () => {
    const r = row('Ingress', { spec: { ingressClassName: 'flatnet', tls: [{ hosts: ['a'] }] }, status: { loadBalancer: { ingress: [{ ip: '192.168.0.10' }] } } });
    assert.deepEqual([r['Class'], r['Address'], r['Ports']], ['flatnet', '192.168.0.10', '80, 443']);
    const plain = row('Ingress', { spec: {} });
    assert.deepEqual([plain['Class'], plain['Address'], plain['Ports']], ['<none>', '', '80']);
  });
  it('IngressClass prints controller and parameters as Kind.group/name', () => {
    const r = row('IngressClass', { spec: { controller: 'flatnet.dev/ingress', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p1' } } });
    assert.deepEqual([r['Controller'], r['Parameters']], ['flatnet.dev/ingress', 'IngressParameters.k8s.example.com/p1']);
    assert.equal(row('IngressClass', { spec: { controller: 'c' } })['Parameters'], '<none>');
  });
});

describe('row objects and list metadata', () => {
  const cm = obj('ConfigMap', { data: { a: '1' } }, { namespace: 'default', resourceVersion: '42', labels: { app: 'x' } });
  it('carries PartialObjectMetadata by default', () => {
    const t = toTable(res('ConfigMap'), [cm], { now });
    assert.deepEqual(t.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm.metadata });
  });
  it('carries the whole object, with apiVersion and kind, for includeObject=Object', () => {
    const bare = { metadata: { name: 'y', creationTimestamp: created }, data: {} };
    const t = toTable(res('ConfigMap'), [bare], { now, includeObject: 'Object' });
    assert.deepEqual(t.rows[0]!.object, { ...bare, apiVersion: 'v1', kind: 'ConfigMap' });
  });
  it('carries null for includeObject=None', () => {
    assert.equal(toTable(res('ConfigMap'), [cm], { now, includeObject: 'None' }).rows[0]!.object, null);
  });
  it('copies resourceVersion, continue and remainingItemCount from the list metadata', () => {
    const t = toTable(res('ConfigMap'), [cm], { now, listMeta: { resourceVersion: '77', continue: 'tok', remainingItemCount: 3 } });
    assert.deepEqual(t.metadata, { resourceVersion: '77', continue: 'tok', remainingItemCount: 3 });
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(toTable(res('ConfigMap'), [cm], { now }).metadata, {});
  });
  it('attaches Completed conditions to rows of finished pods only', () => {
    const t = toTable(res('Pod'), [obj('Pod', { status: { phase: 'Succeeded' } }), obj('Pod', { status: { phase: 'Running' } })], { now });
    assert.equal(t.rows[0]!.conditions?.[0]?.type, 'Completed');
    assert.equal(t.rows[1]!.conditions, undefined);
  });
});
