// The upstream conformance model (test/e2e/network/netpol): namespaces x, y, z; pods a, b, c in each, labelled
// pod=<name>, namespaces labelled ns=<name>; every pod serving 80 and 81 on TCP and UDP. Each case states its
// expected 9x9 truth table independently of the code under test, the way upstream's Reachability does: start
// from everything allowed (or denied) and override (from, to) patterns in order. The compiled matrix, the
// explaining evaluator and the lowered per-pod allow-lists must all produce that table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy, Protocol } from '../../api/types.ts';
import { parseCIDR, parseIP } from '../../api/validation/ip.ts';
import { compilePolicies, computeMatrix, lowerPod, type LoweredDirection } from './compile.ts';
import { evaluateConnection } from './evaluate.ts';
import { buildPolicyModel, cidrHolds } from './model.ts';
import { CONFORMANCE_KEYS, conformanceCluster, conformanceIP, policy } from './testing.ts';

/** A pattern of pods: a namespace, a pod name, both, or neither (everyone). */
interface Pat {
  ns?: string;
  pod?: string;
}

const matches = (p: Pat, key: string): boolean => {
  const [n, name] = key.split('/');
  return (p.ns === undefined || p.ns === n) && (p.pod === undefined || p.pod === name);
};

type Step = [from: Pat, to: Pat, allowed: boolean];

/** The expected table as a set of "from>to" strings that are allowed. */
function expectedTable(base: boolean, steps: Step[]): Set<string> {
  const cells = new Map<string, boolean>();
  for (const f of CONFORMANCE_KEYS) for (const t of CONFORMANCE_KEYS) cells.set(`${f}>${t}`, base);
  for (const [fp, tp, v] of steps) {
    for (const f of CONFORMANCE_KEYS) for (const t of CONFORMANCE_KEYS) if (matches(fp, f) && matches(tp, t)) cells.set(`${f}>${t}`, v);
  }
  return new Set([...cells].filter(([, v]) => v).map(([k]) => k));
}

interface Probe {
  port: number;
  protocol: Protocol;
  base: boolean;
  steps: Step[];
}

interface Case {
  name: string;
  policies: NetworkPolicy[];
  probes: Probe[];
}

const ALL = {};
const nsIs = (n: string): { matchLabels: Record<string, string> } => ({ matchLabels: { ns: n } });
const podIs = (p: string): { matchLabels: Record<string, string> } => ({ matchLabels: { pod: p } });
const TCP80 = { port: 80, protocol: 'TCP' as const };
const TCP81 = { port: 81, protocol: 'TCP' as const };
const UDP80 = { port: 80, protocol: 'UDP' as const };
const UDP81 = { port: 81, protocol: 'UDP' as const };

const cases: Case[] = [
  {
    name: 'default-deny-ingress in x denies every connection into x and nothing else',
    policies: [policy('x/deny-ingress', { policyTypes: ['Ingress'] })],
    probes: [TCP80, UDP81].map((p) => ({ ...p, base: true, steps: [[ALL, { ns: 'x' }, false]] })),
  },
  {
    name: 'default-deny-all in x denies every connection into and out of x',
    policies: [policy('x/deny-all', { policyTypes: ['Ingress', 'Egress'] })],
    probes: [{ ...TCP80, base: true, steps: [[ALL, { ns: 'x' }, false], [{ ns: 'x' }, ALL, false]] }],
  },
  {
    name: 'x/a admitting pod=b admits only x/b into x/a',
    policies: [policy('x/x-a-allows-x-b', { podSelector: podIs('a'), ingress: [{ from: [{ podSelector: podIs('b') }] }] })],
    probes: [{ ...TCP80, base: true, steps: [[ALL, { ns: 'x', pod: 'a' }, false], [{ ns: 'x', pod: 'b' }, { ns: 'x', pod: 'a' }, true]] }],
  },
  {
    name: 'deny-all plus allow-all-to-a opens x/a to everyone and keeps x/b and x/c closed',
    policies: [
      policy('x/deny-all', { policyTypes: ['Ingress'] }),
      policy('x/allow-all-to-a', { podSelector: podIs('a'), ingress: [{ from: [{ podSelector: {}, namespaceSelector: {} }] }] }),
    ],
    probes: [{ ...TCP80, base: true, steps: [[ALL, { ns: 'x' }, false], [ALL, { ns: 'x', pod: 'a' }, true]] }],
  },
  {
    name: 'a namespaceSelector for y admits y into x/a and denies x and z',
    policies: [policy('x/allow-ns-y', { podSelector: podIs('a'), ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }] }] })],
    probes: [{ ...TCP80, base: true, steps: [[{ ns: 'x' }, { ns: 'x', pod: 'a' }, false], [{ ns: 'z' }, { ns: 'x', pod: 'a' }, false]] }],
  },
  {
    name: 'namespace NotIn x AND pod=b admits only y/b and z/b into x/a',
    policies: [policy('x/and', {
      podSelector: podIs('a'),
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] }, podSelector: podIs('b') }] }],
    })],
    probes: [{
      ...TCP80, base: true,
      steps: [[ALL, { ns: 'x', pod: 'a' }, false], [{ ns: 'y', pod: 'b' }, { ns: 'x', pod: 'a' }, true], [{ ns: 'z', pod: 'b' }, { ns: 'x', pod: 'a' }, true]],
    }],
  },
  {
    name: 'namespace NotIn x OR pod=b admits every other namespace and x/b into x/a',
    policies: [policy('x/or', {
      podSelector: podIs('a'),
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] } }, { podSelector: podIs('b') }] }],
    })],
    probes: [{ ...TCP80, base: true, steps: [[{ ns: 'x', pod: 'a' }, { ns: 'x', pod: 'a' }, false], [{ ns: 'x', pod: 'c' }, { ns: 'x', pod: 'a' }, false]] }],
  },
  {
    name: 'a port-81 rule for namespace y admits y on 81 only; 80 is closed for all',
    policies: [policy('x/allow-81-from-y', { podSelector: podIs('a'), ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ protocol: 'TCP', port: 81 }] }] })],
    probes: [
      { ...TCP81, base: true, steps: [[{ ns: 'x' }, { ns: 'x', pod: 'a' }, false], [{ ns: 'z' }, { ns: 'x', pod: 'a' }, false]] },
      { ...TCP80, base: true, steps: [[ALL, { ns: 'x', pod: 'a' }, false]] },
      { ...UDP81, base: true, steps: [[ALL, { ns: 'x', pod: 'a' }, false]] },
    ],
  },
  {
    name: 'stacked policies for ports 80 and 81 union to admit y on both',
    policies: [
      policy('x/allow-81-from-y', { podSelector: podIs('a'), ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ protocol: 'TCP', port: 81 }] }] }),
      policy('x/allow-80-from-y', { podSelector: podIs('a'), ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ protocol: 'TCP', port: 80 }] }] }),
    ],
    probes: [TCP80, TCP81].map((p) => ({ ...p, base: true, steps: [[ALL, { ns: 'x', pod: 'a' }, false], [{ ns: 'y' }, { ns: 'x', pod: 'a' }, true]] as Step[] })),
  },
  {
    name: 'an ingress named port serve-81-tcp opens 81 and closes 80 into x',
    policies: [policy('x/allow-named-81', { ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
    probes: [
      { ...TCP81, base: true, steps: [] },
      { ...TCP80, base: true, steps: [[ALL, { ns: 'x' }, false]] },
      { ...UDP81, base: true, steps: [[ALL, { ns: 'x' }, false]] },
    ],
  },
  {
    name: 'an egress named port serve-80-tcp lets x reach 80 everywhere and nothing on 81',
    policies: [policy('x/allow-egress-named-80', { policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
    probes: [
      { ...TCP80, base: true, steps: [] },
      { ...TCP81, base: true, steps: [[{ ns: 'x' }, ALL, false]] },
      { ...UDP80, base: true, steps: [[{ ns: 'x' }, ALL, false]] },
    ],
  },
  {
    name: 'egress from x/a to an ipBlock of y/b alone reaches only y/b',
    policies: [policy('x/egress-to-yb', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `${conformanceIP('y/b')}/32` } }] }] })],
    probes: [{ ...TCP80, base: true, steps: [[{ ns: 'x', pod: 'a' }, ALL, false], [{ ns: 'x', pod: 'a' }, { ns: 'y', pod: 'b' }, true]] }],
  },
  {
    name: 'ingress from an ipBlock except namespace y admits x and z into x/a',
    policies: [policy('x/cidr-except-y', { podSelector: podIs('a'), ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.2.0/24'] } }] }] })],
    probes: [{ ...TCP80, base: true, steps: [[{ ns: 'y' }, { ns: 'x', pod: 'a' }, false]] }],
  },
  {
    name: 'a UDP-only rule into x admits UDP 80 and denies TCP 80',
    policies: [policy('x/udp-80', { ingress: [{ ports: [{ protocol: 'UDP', port: 80 }] }] })],
    probes: [
      { ...UDP80, base: true, steps: [] },
      { ...TCP80, base: true, steps: [[ALL, { ns: 'x' }, false]] },
      { ...UDP81, base: true, steps: [[ALL, { ns: 'x' }, false]] },
    ],
  },
  {
    name: 'an endPort range 81-90 into x/a admits 81 and not 80',
    policies: [policy('x/range', { podSelector: podIs('a'), ingress: [{ ports: [{ protocol: 'TCP', port: 81, endPort: 90 }] }] })],
    probes: [
      { ...TCP81, base: true, steps: [] },
      { ...TCP80, base: true, steps: [[ALL, { ns: 'x', pod: 'a' }, false]] },
    ],
  },
  {
    name: 'egress from y limited to z/c and ingress into z limited to x: y reaches nothing and z admits only x',
    policies: [
      policy('y/egress-to-z-c', { policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: nsIs('z'), podSelector: podIs('c') }] }] }),
      policy('z/allow-from-x', { ingress: [{ from: [{ namespaceSelector: nsIs('x') }] }] }),
    ],
    probes: [{
      ...TCP80, base: true,
      steps: [
        [{ ns: 'y' }, ALL, false],
        [{ ns: 'y' }, { ns: 'z', pod: 'c' }, true],
        [ALL, { ns: 'z' }, false],
        [{ ns: 'x' }, { ns: 'z' }, true],
      ],
    }],
  },
];

function ipAllowed(dir: LoweredDirection, peerIP: string, protocol: Protocol, port: number): boolean {
  if (!dir.isolated) return true;
  const ip = parseIP(peerIP);
  if (!ip) return false;
  const inBlock = (text: string): boolean => {
    const c = parseCIDR(text);
    return c !== undefined && cidrHolds(c, ip);
  };
  return dir.allow.some((a) => {
    const ipOk = a.ips.any || a.ips.addresses.includes(peerIP) || a.ips.blocks.some((b) => inBlock(b.cidr) && !b.except.some(inBlock));
    const portOk = a.ports === null || a.ports.some((p) => p.protocol === protocol && port >= p.from && port <= p.to);
    return ipOk && portOk;
  });
}

function show(set: Set<string>): string {
  const lines = [`    ${CONFORMANCE_KEYS.join(' ')}`];
  for (const f of CONFORMANCE_KEYS) lines.push(`${f} ${CONFORMANCE_KEYS.map((t) => (set.has(`${f}>${t}`) ? ' . ' : ' X ')).join('')}`);
  return lines.join('\n');
}

describe('conformance model truth tables (x, y, z x a, b, c)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const model = buildPolicyModel(conformanceCluster(c.policies));
      assert.deepEqual(model.pods.map((p) => p.key), CONFORMANCE_KEYS);
      const compiled = compilePolicies(model);
      const lowered = model.pods.map((p) => lowerPod(compiled, p.index));
      for (const probe of c.probes) {
        const want = expectedTable(probe.base, probe.steps);
        const matrix = computeMatrix(compiled, { port: probe.port, protocol: probe.protocol });
        const fromMatrix = new Set<string>();
        const fromEvaluator = new Set<string>();
        const fromLowered = new Set<string>();
        CONFORMANCE_KEYS.forEach((f, i) => {
          CONFORMANCE_KEYS.forEach((t, j) => {
            if (matrix.allowed[i * CONFORMANCE_KEYS.length + j]) fromMatrix.add(`${f}>${t}`);
            if (evaluateConnection(model, { from: { pod: f }, to: { pod: t }, ...probe }).allowed) fromEvaluator.add(`${f}>${t}`);
            const src = lowered[i];
            const dst = lowered[j];
            if (src && dst && ipAllowed(src.egress, conformanceIP(t), probe.protocol, probe.port) && ipAllowed(dst.ingress, conformanceIP(f), probe.protocol, probe.port)) {
              fromLowered.add(`${f}>${t}`);
            }
          });
        });
        const where = `${probe.protocol}/${probe.port}\nwant:\n${show(want)}`;
        assert.equal(show(fromMatrix), show(want), `compiled matrix, ${where}`);
        assert.equal(show(fromEvaluator), show(want), `evaluator, ${where}`);
        assert.equal(show(fromLowered), show(want), `lowered allow-lists, ${where}`);
      }
    });
  }

  it('allowLoopback marks every pod-to-itself cell allowed and leaves the others as policy decides', () => {
    const compiled = compilePolicies(buildPolicyModel(conformanceCluster([policy('x/deny-all', { policyTypes: ['Ingress', 'Egress'] })])));
    const strict = computeMatrix(compiled, { port: 80, protocol: 'TCP' });
    const loose = computeMatrix(compiled, { port: 80, protocol: 'TCP', allowLoopback: true });
    const n = CONFORMANCE_KEYS.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const k = i * n + j;
        assert.equal(loose.allowed[k], i === j ? 1 : strict.allowed[k]);
      }
    }
    assert.equal(strict.allowed[0], 0);
  });
});
