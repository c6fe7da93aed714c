import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError } from '../api/errors.ts';
import { applyDefaults } from '../api/defaults/index.ts';
import type { KubeObject, LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Service } from '../api/types.ts';
import { validateLabels } from '../api/validation/meta.ts';
import { validateCreate } from '../api/validation/index.ts';
import { cidrContains, parseCidr, parseIPv4 } from '../net/ipv4.ts';
import { ServiceIPAllocator } from '../net/service-allocation.ts';
import {
  diffScenarios, externalAddressOf, mulberry32, NAMESPACE_LABEL_KEYS, POD_LABEL_KEYS, randomScenario, Rng, underlayOf,
  type FixedPods, type ScenarioChange, type ScenarioOps,
} from './random-cluster.ts';

const FIXED: FixedPods = {
  namespaces: ['alpha', 'beta', 'gamma'],
  pods: [
    { namespace: 'alpha', name: 'p0', node: 'node-1', ip: '10.244.0.5' },
    { namespace: 'alpha', name: 'p1', node: 'node-2', ip: '10.244.1.5' },
    { namespace: 'alpha', name: 'p2', node: 'node-1', ip: '10.244.0.6' },
    { namespace: 'beta', name: 'p3', node: 'node-2', ip: '10.244.1.6' },
    { namespace: 'beta', name: 'p4', node: 'node-1', ip: '10.244.0.7' },
    { namespace: 'beta', name: 'p5', node: 'node-2', ip: '10.244.1.7' },
    { namespace: 'gamma', name: 'p6', node: 'node-1', ip: '10.244.0.8' },
    { namespace: 'gamma', name: 'p7', node: 'node-2', ip: '10.244.1.8' },
  ],
  nodes: [{ name: 'node-1', ip: '172.31.7.2', podCIDR: '10.244.0.0/24' }, { name: 'node-2', ip: '172.31.7.3', podCIDR: '10.244.1.0/24' }],
  podCIDR: '10.244.0.0/16',
  underlay: underlayOf('172.31.7.2'),
  externalIP: externalAddressOf('172.31.7.0/24'),
  declaredPorts: [{ name: 'tcp-80', port: 80, protocol: 'TCP' }, { name: 'tcp-81', port: 81, protocol: 'TCP' }, { name: 'udp-80', port: 80, protocol: 'UDP' }],
};

const SEEDS = Array.from({ length: 1000 }, (_, i) => 20261122 + i);
const scenarios = SEEDS.map((s) => randomScenario(s, FIXED));

/** Validates as the API server does on create: defaults, then (Services) allocation, then validation. */
function createErrors(kind: 'NetworkPolicy' | 'Service', obj: KubeObject, alloc: ServiceIPAllocator): FieldError[] {
  const defaulted = applyDefaults(kind, obj);
  if (kind === 'Service') {
    const r = alloc.assign(defaulted as Service, undefined);
    if (r.errors.length > 0) return r.errors;
  }
  return validateCreate(kind, defaulted);
}

function selectors(np: NetworkPolicy): { pod: LabelSelector[]; ns: LabelSelector[] } {
  const peers: NetworkPolicyPeer[] = [...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []), ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? [])];
  return {
    pod: [np.spec?.podSelector ?? {}, ...peers.flatMap((p) => (p.podSelector ? [p.podSelector] : []))],
    ns: peers.flatMap((p) => (p.namespaceSelector ? [p.namespaceSelector] : [])),
  };
}

function ports(np: NetworkPolicy): NetworkPolicyPort[] {
  return [...(np.spec?.ingress ?? []), ...(np.spec?.egress ?? [])].flatMap((r) => r.ports ?? []);
}

/** Features a scenario set must cover, each a predicate over one object. */
const POLICY_FEATURES: Record<string, (np: NetworkPolicy) => boolean> = {
  'empty podSelector': (np) => Object.keys(np.spec?.podSelector ?? {}).length === 0,
  'matchLabels': (np) => selectors(np).pod.some((s) => s.matchLabels !== undefined),
  'matchExpressions In': (np) => [...selectors(np).pod, ...selectors(np).ns].some((s) => s.matchExpressions?.some((e) => e.operator === 'In')),
  'matchExpressions NotIn': (np) => [...selectors(np).pod, ...selectors(np).ns].some((s) => s.matchExpressions?.some((e) => e.operator === 'NotIn')),
  'matchExpressions Exists': (np) => [...selectors(np).pod, ...selectors(np).ns].some((s) => s.matchExpressions?.some((e) => e.operator === 'Exists')),
  'matchExpressions DoesNotExist': (np) => [...selectors(np).pod, ...selectors(np).ns].some((s) => s.matchExpressions?.some((e) => e.operator === 'DoesNotExist')),
  'matchLabels and matchExpressions in one selector': (np) => selectors(np).pod.some((s) => s.matchLabels !== undefined && s.matchExpressions !== undefined),
  'namespaceSelector alone': (np) => [...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []), ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? [])].some((p) => p.namespaceSelector && !p.podSelector),
  'empty namespaceSelector': (np) => selectors(np).ns.some((s) => Object.keys(s).length === 0),
  'namespaceSelector on the metadata.name label': (np) => selectors(np).ns.some((s) => JSON.stringify(s).includes('kubernetes.io/metadata.name')),
  'namespaceSelector and podSelector in one peer': (np) => [...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []), ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? [])].some((p) => p.namespaceSelector && p.podSelector),
  'ipBlock with except': (np) => JSON.stringify(np.spec).includes('"except"'),
  'ipBlock on the external address': (np) => JSON.stringify(np.spec).includes(`"${FIXED.externalIP}/32"`),
  'ipBlock on a node IP': (np) => FIXED.nodes.some((n) => JSON.stringify(np.spec).includes(`"${n.ip}/32"`)),
  'ipBlock on a node pod CIDR': (np) => FIXED.nodes.some((n) => JSON.stringify(np.spec).includes(`"${n.podCIDR}"`)),
  'port by number': (np) => ports(np).some((p) => typeof p.port === 'number' && p.endPort === undefined),
  'port by name': (np) => ports(np).some((p) => typeof p.port === 'string'),
  'endPort range': (np) => ports(np).some((p) => p.endPort !== undefined),
  'protocol only': (np) => ports(np).some((p) => p.port === undefined && p.protocol !== undefined),
  'UDP': (np) => ports(np).some((p) => p.protocol === 'UDP'),
  'TCP explicit': (np) => ports(np).some((p) => p.protocol === 'TCP'),
  'policyTypes absent': (np) => np.spec?.policyTypes === undefined,
  'policyTypes Ingress': (np) => JSON.stringify(np.spec?.policyTypes) === '["Ingress"]',
  'policyTypes Egress': (np) => JSON.stringify(np.spec?.policyTypes) === '["Egress"]',
  'policyTypes both': (np) => np.spec?.policyTypes?.length === 2,
  'empty ingress list (deny all)': (np) => np.spec?.ingress?.length === 0,
  'empty egress list (deny all)': (np) => np.spec?.egress?.length === 0,
  'ingress [{}] (allow all)': (np) => JSON.stringify(np.spec?.ingress) === '[{}]',
  'egress [{}] (allow all)': (np) => JSON.stringify(np.spec?.egress) === '[{}]',
};

const SERVICE_FEATURES: Record<string, (s: Service) => boolean> = {
  'ClusterIP': (s) => s.spec?.type === 'ClusterIP',
  'NodePort': (s) => s.spec?.type === 'NodePort',
  'LoadBalancer': (s) => s.spec?.type === 'LoadBalancer',
  'LoadBalancer without node ports': (s) => s.spec?.allocateLoadBalancerNodePorts === false,
  'headless': (s) => s.spec?.clusterIP === 'None',
  'ExternalName': (s) => s.spec?.type === 'ExternalName',
  'no selector': (s) => s.spec?.type !== 'ExternalName' && s.spec?.selector === undefined,
  'externalTrafficPolicy Local': (s) => s.spec?.externalTrafficPolicy === 'Local',
  'internalTrafficPolicy Local': (s) => s.spec?.internalTrafficPolicy === 'Local',
  'sessionAffinity ClientIP': (s) => s.spec?.sessionAffinity === 'ClientIP',
  'ClientIP with a timeout': (s) => s.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds !== undefined,
  'targetPort by number': (s) => (s.spec?.ports ?? []).some((p) => typeof p.targetPort === 'number'),
  'targetPort by name': (s) => (s.spec?.ports ?? []).some((p) => typeof p.targetPort === 'string'),
  'targetPort defaulted': (s) => s.spec?.type !== 'ExternalName' && (s.spec?.ports ?? []).some((p) => p.targetPort === undefined),
  'UDP port': (s) => (s.spec?.ports ?? []).some((p) => p.protocol === 'UDP'),
  'two ports': (s) => (s.spec?.ports ?? []).length === 2,
};

describe('random cluster scenarios', () => {
  it('mulberry32 is deterministic in the seed and spreads over [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(Array.from({ length: 1000 }, () => b()), xs);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
    assert.notDeepEqual(Array.from({ length: 10 }, mulberry32(43)), xs.slice(0, 10));
  });

  it('Rng.weighted never picks a zero-weight choice and Rng.sample returns distinct elements', () => {
    const r = new Rng(7);
    for (let i = 0; i < 500; i++) assert.notEqual(r.weighted([[0, 'never'], [1, 'a'], [2, 'b']] as const), 'never');
    for (let i = 0; i < 100; i++) {
      const s = r.sample([1, 2, 3, 4, 5], 3);
      assert.equal(new Set(s).size, 3);
    }
  });

  it('the same seed gives the same scenario and neighbouring seeds give different ones', () => {
    assert.deepEqual(randomScenario(SEEDS[3] ?? 0, FIXED), scenarios[3]);
    const distinct = new Set(scenarios.map((s) => JSON.stringify({ ...s, seed: 0 })));
    assert.ok(distinct.size > 990, `${distinct.size} distinct scenarios of 1000`);
  });

  it('every policy and Service of 1,000 seeds is valid for the API server (defaulted, allocated, validated)', () => {
    const failures: string[] = [];
    let policies = 0;
    let services = 0;
    for (const sc of scenarios) {
      const alloc = new ServiceIPAllocator({ serviceCIDR: '10.96.0.0/12', nodePortRange: '30000-32767' });
      for (const np of sc.policies) {
        policies++;
        const errs = createErrors('NetworkPolicy', np, alloc);
        if (errs.length > 0) failures.push(`seed ${sc.seed} policy ${np.metadata.name}: ${JSON.stringify(errs)} ${JSON.stringify(np.spec)}`);
      }
      for (const svc of sc.services) {
        services++;
        const errs = createErrors('Service', svc, alloc);
        if (errs.length > 0) failures.push(`seed ${sc.seed} service ${svc.metadata.name}: ${JSON.stringify(errs)} ${JSON.stringify(svc.spec)}`);
      }
      for (const [ns, labels] of Object.entries(sc.namespaceLabels)) {
        const errs = validateLabels({ ...labels }, 'metadata.labels');
        if (errs.length > 0) failures.push(`seed ${sc.seed} namespace ${ns}: ${JSON.stringify(errs)}`);
        assert.ok(Object.keys(labels).every((k) => (NAMESPACE_LABEL_KEYS as readonly string[]).includes(k)));
      }
      for (const [pod, labels] of Object.entries(sc.podLabels)) {
        const errs = validateLabels({ ...labels }, 'metadata.labels');
        if (errs.length > 0) failures.push(`seed ${sc.seed} pod ${pod}: ${JSON.stringify(errs)}`);
        assert.ok(Object.keys(labels).every((k) => (POD_LABEL_KEYS as readonly string[]).includes(k)));
      }
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(policies > 1500 && services > 1200, `${policies} policies, ${services} services`);
  });

  it('the validation path used above rejects what the API server rejects', () => {
    const alloc = new ServiceIPAllocator({ serviceCIDR: '10.96.0.0/12', nodePortRange: '30000-32767' });
    const badPolicy: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'alpha' },
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/24', except: ['10.244.0.0/16'] } }], ports: [{ port: 'tcp-80', endPort: 90 }] }] } };
    assert.deepEqual(createErrors('NetworkPolicy', badPolicy, alloc).map((e) => e.field).sort(), ['spec.ingress[0].from[0].ipBlock.except[0]', 'spec.ingress[0].ports[0].endPort']);
    const badService: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc-x', namespace: 'alpha' },
      spec: { type: 'ClusterIP', externalTrafficPolicy: 'Local', ports: [{ port: 80 }, { port: 81 }] } };
    assert.deepEqual(createErrors('Service', badService, alloc).map((e) => e.field).sort(), ['spec.externalTrafficPolicy', 'spec.ports[0].name', 'spec.ports[1].name']);
  });

  it('stays within 0-4 policies and 0-3 Services, in the fixed namespaces, with every count occurring', () => {
    const policyCounts = new Set(scenarios.map((s) => s.policies.length));
    const serviceCounts = new Set(scenarios.map((s) => s.services.length));
    assert.deepEqual([...policyCounts].sort(), [0, 1, 2, 3, 4]);
    assert.deepEqual([...serviceCounts].sort(), [0, 1, 2, 3]);
    for (const sc of scenarios) {
      for (const o of [...sc.policies, ...sc.services]) assert.ok(FIXED.namespaces.includes(o.metadata.namespace ?? ''), `${o.metadata.namespace}`);
      assert.deepEqual(Object.keys(sc.podLabels).sort(), FIXED.pods.map((p) => `${p.namespace}/${p.name}`).sort());
    }
  });

  it('uses every policy field over the scenarios', () => {
    const all = scenarios.flatMap((s) => s.policies);
    const missing = Object.entries(POLICY_FEATURES).filter(([, f]) => !all.some(f)).map(([k]) => k);
    assert.deepEqual(missing, []);
    // And no feature dominates so much that the others are rare: each occurs in at least 1% of policies.
    const rare = Object.entries(POLICY_FEATURES).filter(([, f]) => all.filter(f).length < all.length / 100).map(([k]) => k);
    assert.deepEqual(rare, []);
  });

  it('uses every Service type and field over the scenarios', () => {
    const all = scenarios.flatMap((s) => s.services);
    const missing = Object.entries(SERVICE_FEATURES).filter(([, f]) => !all.some(f)).map(([k]) => k);
    assert.deepEqual(missing, []);
  });

  it('only writes ipBlocks whose excepts lie inside their cidr', () => {
    for (const sc of scenarios) {
      for (const np of sc.policies) {
        const peers = [...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []), ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? [])];
        for (const p of peers) {
          if (!p.ipBlock) continue;
          const outer = parseCidr(p.ipBlock.cidr);
          for (const ex of p.ipBlock.except ?? []) {
            const inner = parseCidr(ex);
            assert.ok(inner.prefix > outer.prefix && cidrContains(outer, inner.network), `${ex} in ${p.ipBlock.cidr}`);
          }
        }
      }
    }
    assert.ok(cidrContains(parseCidr(FIXED.underlay), parseIPv4(FIXED.externalIP)));
  });
});

/** Applies ops to a simulated API state. */
interface SimState {
  nsLabels: Map<string, Record<string, string>>;
  podLabels: Map<string, Record<string, string>>;
  policies: Map<string, NetworkPolicy>;
  services: Map<string, Service>;
}

function applyPatch(labels: Record<string, string>, patch: Readonly<Record<string, string | null>>): Record<string, string> {
  const out = { ...labels };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

function applyOps(st: SimState, ops: ScenarioOps): void {
  for (const op of ops.namespaceLabels) st.nsLabels.set(op.namespace, applyPatch(st.nsLabels.get(op.namespace) ?? {}, op.patch.metadata.labels));
  for (const op of ops.podLabels) st.podLabels.set(`${op.namespace}/${op.name}`, applyPatch(st.podLabels.get(`${op.namespace}/${op.name}`) ?? {}, op.patch.metadata.labels));
  for (const r of ops.deletePolicies) assert.ok(st.policies.delete(`${r.namespace}/${r.name}`), `delete of absent policy ${r.name}`);
  for (const np of ops.createPolicies) {
    const k = `${np.metadata.namespace}/${np.metadata.name}`;
    assert.ok(!st.policies.has(k), `create of existing policy ${k}`);
    st.policies.set(k, np);
  }
  for (const r of ops.deleteServices) assert.ok(st.services.delete(`${r.namespace}/${r.name}`), `delete of absent service ${r.name}`);
  for (const s of ops.createServices) {
    const k = `${s.metadata.namespace}/${s.metadata.name}`;
    assert.ok(!st.services.has(k), `create of existing service ${k}`);
    st.services.set(k, s);
  }
}

function expectState(st: SimState, sc: ScenarioChange): void {
  const managed = (labels: Record<string, string>, keys: readonly string[]) => Object.fromEntries(Object.entries(labels).filter(([k]) => keys.includes(k)));
  for (const [ns, labels] of Object.entries(sc.namespaceLabels)) assert.deepEqual(managed(st.nsLabels.get(ns) ?? {}, NAMESPACE_LABEL_KEYS), labels);
  for (const [pod, labels] of Object.entries(sc.podLabels)) assert.deepEqual(managed(st.podLabels.get(pod) ?? {}, POD_LABEL_KEYS), labels);
  assert.deepEqual([...st.policies.keys()].sort(), sc.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort());
  for (const p of sc.policies) assert.deepEqual(st.policies.get(`${p.metadata.namespace}/${p.metadata.name}`)?.spec, p.spec);
  assert.deepEqual([...st.services.keys()].sort(), sc.services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort());
  for (const s of sc.services) assert.deepEqual(st.services.get(`${s.metadata.namespace}/${s.metadata.name}`)?.spec, s.spec);
}

describe('diffScenarios', () => {
  it('turns each scenario into the next when its operations are applied, keeping other labels', () => {
    const st: SimState = {
      nsLabels: new Map(FIXED.namespaces.map((n) => [n, { 'kubernetes.io/metadata.name': n, team: 'stale' }])),
      podLabels: new Map(FIXED.pods.map((p) => [`${p.namespace}/${p.name}`, { keep: 'me', app: 'stale' }])),
      policies: new Map(), services: new Map(),
    };
    let prev: ScenarioChange | undefined;
    for (const sc of scenarios.slice(0, 200)) {
      const ops = diffScenarios(prev, sc);
      applyOps(st, ops);
      expectState(st, sc);
      prev = sc;
    }
    for (const [k, labels] of st.podLabels) assert.equal(labels['keep'], 'me', k);
    for (const [k, labels] of st.nsLabels) assert.equal(labels['kubernetes.io/metadata.name'], k);
  });

  it('keeps an unchanged policy and Service and recreates a changed one', () => {
    const base = scenarios.find((s) => s.policies.length > 0 && s.services.length > 0);
    assert.ok(base);
    const same = diffScenarios(base, base);
    assert.deepEqual([same.createPolicies.length, same.deletePolicies.length, same.createServices.length, same.deleteServices.length, same.podLabels.length, same.namespaceLabels.length], [0, 0, 0, 0, 0, 0]);
    const first = base.policies[0] as NetworkPolicy;
    const changed: ScenarioChange = { ...base, policies: [{ ...first, spec: { podSelector: { matchLabels: { app: 'zzz' } } } }, ...base.policies.slice(1)] };
    const ops = diffScenarios(base, changed);
    assert.deepEqual(ops.deletePolicies, [{ namespace: first.metadata.namespace, name: first.metadata.name }]);
    assert.equal(ops.createPolicies.length, 1);
    assert.deepEqual(ops.createServices, []);
  });
});
