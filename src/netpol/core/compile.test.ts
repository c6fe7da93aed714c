import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy, Pod, Protocol } from '../../api/types.ts';
import { compilePolicies, computeMatrix, lowerPod } from './compile.ts';
import { evaluateConnection } from './evaluate.ts';
import { buildPolicyModel, type ClusterState } from './model.ts';
import { ns, pod, policy } from './testing.ts';

/** A deterministic pseudo-random sequence (LCG), so the big cluster is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TIERS = ['web', 'api', 'db'] as const;

/** 1,000 pods in 20 namespaces with a mix of every policy feature (about 130 policies). */
function bigCluster(podCount: number): ClusterState {
  const rand = lcg(42);
  const namespaces = Array.from({ length: 20 }, (_, i) => ns(`ns${i}`, { team: `t${i % 4}`, env: i % 2 === 0 ? 'prod' : 'dev' }));
  const pods: Pod[] = [];
  for (let i = 0; i < podCount; i++) {
    const tier = TIERS[i % 3] ?? 'web';
    pods.push(pod(`ns${i % 20}/p${i}`, {
      labels: { app: `app${i % 25}`, tier, ...(i % 7 === 0 ? { canary: 'true' } : {}) },
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', port: tier === 'db' ? 5432 : 8080 }, { name: 'metrics', port: 9090 }],
    }));
  }
  const policies: NetworkPolicy[] = [];
  for (let n = 0; n < 20; n++) {
    const here = `ns${n}`;
    if (n % 2 === 0) policies.push(policy(`${here}/deny-ingress`, { policyTypes: ['Ingress'] }));
    if (n % 5 === 0) policies.push(policy(`${here}/deny-egress`, { policyTypes: ['Egress'] }));
    policies.push(policy(`${here}/web-to-api`, {
      podSelector: { matchLabels: { tier: 'api' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http' }] }],
    }));
    policies.push(policy(`${here}/team-to-db`, {
      podSelector: { matchLabels: { tier: 'db' } },
      ingress: [{
        from: [{ namespaceSelector: { matchLabels: { team: `t${n % 4}` } }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] } }],
        ports: [{ protocol: 'TCP', port: 5000, endPort: 6000 }],
      }],
    }));
    policies.push(policy(`${here}/metrics`, {
      podSelector: { matchLabels: { canary: 'true' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'prod' } } }, { ipBlock: { cidr: '10.0.0.0/22', except: ['10.0.1.0/24'] } }], ports: [{ port: 'metrics' }] }],
    }));
    policies.push(policy(`${here}/egress-web`, {
      podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }, { key: 'tier', operator: 'NotIn', values: ['db'] }] },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: {} }], ports: [{ port: 'http' }, { protocol: 'UDP', port: 53 }] },
        { to: [{ ipBlock: { cidr: '10.0.2.0/23' } }] },
      ],
    }));
    if (rand() < 0.5) {
      policies.push(policy(`${here}/app-pair`, {
        podSelector: { matchLabels: { app: `app${Math.floor(rand() * 25)}` } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: `app${Math.floor(rand() * 25)}` } }, namespaceSelector: {} }] }],
      }));
    }
  }
  return { namespaces, pods, policies };
}

describe('compilePolicies and computeMatrix', () => {
  it('evaluates a 1,000 x 1,000 pod matrix within 10 seconds and agrees with the evaluator on sampled cells', (t) => {
    const state = bigCluster(1000);
    const t0 = performance.now();
    const model = buildPolicyModel(state);
    const compiled = compilePolicies(model);
    const t1 = performance.now();
    const ports: [number, Protocol][] = [[8080, 'TCP'], [5432, 'TCP'], [53, 'UDP']];
    const matrices = ports.map(([port, protocol]) => computeMatrix(compiled, { port, protocol }));
    const t2 = performance.now();
    t.diagnostic(`${state.pods.length} pods, ${state.policies.length} policies: model+compile ${(t1 - t0).toFixed(0)} ms, ` +
      `3 matrices ${(t2 - t1).toFixed(0)} ms (${((t2 - t1) / 3).toFixed(0)} ms each)`);
    assert.ok(t2 - t0 < 10_000, `took ${(t2 - t0).toFixed(0)} ms`);
    const rand = lcg(7);
    const n = model.pods.length;
    let allowed = 0;
    for (let s = 0; s < 3000; s++) {
      const m = matrices[s % 3];
      const [port, protocol] = ports[s % 3] ?? [80, 'TCP'];
      if (!m) continue;
      const i = Math.floor(rand() * n);
      const j = Math.floor(rand() * n);
      const from = model.pods[i]?.key ?? '';
      const to = model.pods[j]?.key ?? '';
      const v = evaluateConnection(model, { from: { pod: from }, to: { pod: to }, port, protocol });
      assert.equal(m.allowed[i * n + j] === 1, v.allowed, `${from} -> ${to} ${protocol}/${port}: ${v.explanation}`);
      assert.equal(m.egress[i * n + j] === 1, v.egress.allowed);
      if (v.allowed) allowed++;
    }
    // The sample exercises both outcomes.
    assert.ok(allowed > 100 && allowed < 2900, `allowed ${allowed} of 3000`);
  });

  it('shares one compiled rule among all the pods its policy selects', () => {
    const compiled = compilePolicies(buildPolicyModel({
      namespaces: [],
      pods: [pod('x/a', { labels: { r: 'be' } }), pod('x/b', { labels: { r: 'be' } }), pod('x/c')],
      policies: [policy('x/p', { podSelector: { matchLabels: { r: 'be' } }, ingress: [{ from: [{ podSelector: {} }] }] })],
    }));
    assert.equal(compiled.ingress[0]?.rules[0], compiled.ingress[1]?.rules[0]);
    assert.equal(compiled.ingress[2]?.isolated, false);
    assert.deepEqual([...(compiled.ingress[0]?.rules[0]?.peerPods ?? [])], [1, 1, 1]);
  });
});

describe('lowerPod', () => {
  const model = buildPolicyModel({
    namespaces: [ns('x'), ns('y')],
    pods: [
      pod('x/a', { labels: { pod: 'a' }, ip: '10.0.0.1', ports: [{ name: 'http', port: 80 }] }),
      pod('x/b', { labels: { pod: 'b' }, ip: '10.0.0.2', ports: [{ name: 'http', port: 8080 }] }),
      pod('y/c', { labels: { pod: 'c' }, ip: '10.0.1.3', ports: [{ name: 'http', port: 8080 }] }),
      pod('y/d', { labels: { pod: 'd' }, ip: '10.0.1.4' }),
    ],
    policies: [
      policy('x/in', {
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { pod: 'b' } } }, { ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }], ports: [{ port: 'http' }, { protocol: 'UDP' }] },
          { from: [{ namespaceSelector: {} }], ports: [{ port: 'nope' }] },
        ],
      }),
      policy('x/out', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'http' }, { protocol: 'TCP', port: 443 }] }] }),
    ],
  });
  const lowered = lowerPod(compilePolicies(model), 0);

  it('lowers ingress rules to (peer IP set, port set) pairs with named ports resolved on the pod itself', () => {
    assert.equal(lowered.pod, 'x/a');
    assert.equal(lowered.ingress.isolated, true);
    assert.deepEqual(lowered.ingress.allow, [{
      ips: { any: false, addresses: ['10.0.0.2'], blocks: [{ cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] }] },
      ports: [{ protocol: 'TCP', from: 80, to: 80 }, { protocol: 'UDP', from: 0, to: 65535 }],
      policy: 'x/in',
      rule: 0,
    }]);
  });

  it('splits a named egress port by the number each destination pod gives it', () => {
    assert.deepEqual(lowered.egress.allow.map((a) => [a.ips.addresses, a.ports]), [
      [['10.0.0.1', '10.0.0.2', '10.0.1.3', '10.0.1.4'], [{ protocol: 'TCP', from: 443, to: 443 }]],
      [['10.0.0.1'], [{ protocol: 'TCP', from: 80, to: 80 }]],
      [['10.0.0.2', '10.0.1.3'], [{ protocol: 'TCP', from: 8080, to: 8080 }]],
    ]);
  });

  it('leaves a pod that no policy selects unisolated with empty allow-lists', () => {
    const other = lowerPod(compilePolicies(model), 3);
    assert.deepEqual(other.ingress, { isolated: false, policies: [], allow: [] });
    assert.deepEqual(other.egress, { isolated: false, policies: [], allow: [] });
  });
});
