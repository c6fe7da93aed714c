import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy, Protocol } from '../../api/types.ts';
import { evaluateConnection, type Endpoint, type RuleRef } from './evaluate.ts';
import { buildPolicyModel, NetpolError, type ClusterState } from './model.ts';
import { compilePolicies, computeMatrix } from './compile.ts';
import { ns, pod, policy } from './testing.ts';

// A small cluster for the feature cases: namespaces x, y (labelled ns=<name>, team=... on x) and kube-system.
function cluster(policies: NetworkPolicy[]): ClusterState {
  return {
    namespaces: [ns('x', { ns: 'x', team: 'blue' }), ns('y', { ns: 'y' }), ns('kube-system', { ns: 'kube-system' })],
    pods: [
      pod('x/a', { labels: { pod: 'a', tier: 'web' }, ip: '10.0.1.1', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
      pod('x/b', { labels: { pod: 'b', tier: 'db' }, ip: '10.0.1.2', ports: [{ name: 'http', port: 8080 }] }),
      pod('x/c', { labels: { pod: 'c' }, ip: '10.0.1.3' }),
      pod('y/a', { labels: { pod: 'a' }, ip: '10.0.2.1', ports: [{ name: 'http', port: 81 }] }),
      pod('y/b', { labels: { pod: 'b', tier: 'web' }, ip: '10.0.2.2' }),
      pod('y/c', { labels: { pod: 'c' }, ip: '10.0.2.3' }),
      pod('kube-system/dns', { labels: { 'k8s-app': 'kube-dns' }, ip: '10.0.9.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }),
    ],
    policies,
  };
}

const P = (key: string): Endpoint => ({ pod: key });
const IP = (ip: string): Endpoint => ({ ip });

interface Probe {
  from: Endpoint;
  to: Endpoint;
  port?: number;
  protocol?: Protocol;
  allowed: boolean;
  /** Substrings the one-line explanation must contain. */
  says?: string[];
  /** The first rule that allowed the ingress / egress direction. */
  ingressBy?: Partial<RuleRef>;
  egressBy?: Partial<RuleRef>;
}

interface Case {
  name: string;
  policies: NetworkPolicy[];
  probes: Probe[];
}

const denyAllIngress = (n: string): NetworkPolicy => policy(`${n}/deny-ingress`, { policyTypes: ['Ingress'] });

const cases: Case[] = [
  {
    name: 'a default-deny-ingress policy isolates every pod of its namespace for ingress only',
    policies: [denyAllIngress('x')],
    probes: [
      { from: P('x/b'), to: P('x/a'), allowed: false, says: ['pod x/a is isolated for ingress by policies [deny-ingress]', 'policy deny-ingress has no ingress rules'] },
      { from: P('y/a'), to: P('x/c'), allowed: false },
      { from: P('x/a'), to: P('y/a'), allowed: true },
      { from: P('y/a'), to: P('y/b'), allowed: true },
    ],
  },
  {
    name: 'a default-deny-egress policy isolates every pod of its namespace for egress only',
    policies: [policy('x/deny-egress', { policyTypes: ['Egress'] })],
    probes: [
      { from: P('x/a'), to: P('y/a'), allowed: false, says: ['pod x/a is isolated for egress by policies [deny-egress]', 'to y/a'] },
      { from: P('x/a'), to: IP('8.8.8.8'), allowed: false },
      { from: P('y/a'), to: P('x/a'), allowed: true },
    ],
  },
  {
    name: 'an allow-all ingress rule beside a deny-all policy admits everyone, by the rule with no peers and no ports',
    policies: [denyAllIngress('x'), policy('x/allow-all', { ingress: [{}] })],
    probes: [
      { from: P('y/c'), to: P('x/a'), allowed: true, ingressBy: { policyName: 'allow-all', rule: 0, peer: null, port: null } },
      { from: IP('203.0.113.9'), to: P('x/b'), port: 5432, allowed: true },
    ],
  },
  {
    name: 'a podSelector peer alone selects pods of the policy namespace only',
    policies: [policy('x/allow-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    probes: [
      { from: P('x/b'), to: P('x/a'), allowed: true, ingressBy: { policyName: 'allow-b', rule: 0, peer: 0, port: null } },
      { from: P('y/b'), to: P('x/a'), allowed: false, says: ['policy allow-b rule 0 peer 0 requires pod=b in namespace x'] },
      { from: P('x/c'), to: P('x/a'), allowed: false },
      { from: P('x/c'), to: P('x/b'), allowed: true },
    ],
  },
  {
    name: 'a namespaceSelector peer alone selects every pod of the matching namespaces',
    policies: [policy('x/from-y', { ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    probes: [
      { from: P('y/c'), to: P('x/a'), allowed: true },
      { from: P('x/b'), to: P('x/a'), allowed: false, says: ['requires any pod in namespaces ns=y'] },
      { from: IP('10.0.2.99'), to: P('x/a'), allowed: false },
    ],
  },
  {
    name: 'podSelector and namespaceSelector in one peer must both match (AND)',
    policies: [policy('x/and', { ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    probes: [
      { from: P('y/b'), to: P('x/a'), allowed: true },
      { from: P('y/c'), to: P('x/a'), allowed: false, says: ['requires pod=b in namespaces ns=y'] },
      { from: P('x/b'), to: P('x/a'), allowed: false },
    ],
  },
  {
    name: 'podSelector and namespaceSelector in two peers match either (OR)',
    policies: [policy('x/or', { ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    probes: [
      { from: P('y/c'), to: P('x/a'), allowed: true, ingressBy: { peer: 0 } },
      { from: P('x/b'), to: P('x/a'), allowed: true, ingressBy: { peer: 1 } },
      { from: P('x/c'), to: P('x/a'), allowed: false, says: ['peer 0 requires any pod in namespaces ns=y', 'peer 1 requires pod=b in namespace x'] },
      { from: P('kube-system/dns'), to: P('x/a'), allowed: false },
    ],
  },
  {
    name: 'matchExpressions In, NotIn, Exists and DoesNotExist select as upstream',
    policies: [
      policy('x/exprs', {
        ingress: [
          { from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }, { key: 'pod', operator: 'NotIn', values: ['b'] }] }, namespaceSelector: {} }] },
          { from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }, { key: 'pod', operator: 'In', values: ['c'] }] } }] },
        ],
      }),
    ],
    probes: [
      { from: P('x/a'), to: P('x/b'), allowed: true, ingressBy: { rule: 0 } },
      { from: P('y/b'), to: P('x/b'), allowed: false },
      { from: P('x/b'), to: P('x/a'), allowed: false, says: ['rule 0 peer 0 requires pod notin (b),tier in any namespace', 'rule 1 peer 0 requires pod in (c),!tier in namespace x'] },
      { from: P('x/c'), to: P('x/a'), allowed: true, ingressBy: { rule: 1 } },
      { from: P('y/c'), to: P('x/a'), allowed: false },
    ],
  },
  {
    name: 'an ipBlock admits addresses inside its cidr but not inside an except, pod IPs included',
    policies: [policy('x/cidr', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.2.0/24'] } }, { ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.7.0/24'] } }] }] })],
    probes: [
      { from: IP('192.168.1.5'), to: P('x/a'), allowed: true, ingressBy: { peer: 1 } },
      { from: IP('192.168.7.5'), to: P('x/a'), allowed: false, says: ['peer 1 requires IP in 192.168.0.0/16 except [192.168.7.0/24]'] },
      { from: P('x/b'), to: P('x/a'), allowed: true, ingressBy: { peer: 0 } },
      { from: P('y/a'), to: P('x/a'), allowed: false },
      { from: P('kube-system/dns'), to: P('x/a'), allowed: true },
      { from: IP('2001:db8::1'), to: P('x/a'), allowed: false },
    ],
  },
  {
    name: 'a named ingress port resolves against the destination pod and its protocol',
    policies: [policy('x/named', { ingress: [{ ports: [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }] }] })],
    probes: [
      { from: P('y/a'), to: P('x/a'), port: 80, allowed: true, ingressBy: { port: 0 } },
      { from: P('y/a'), to: P('x/b'), port: 8080, allowed: true },
      { from: P('y/a'), to: P('x/b'), port: 80, allowed: false, says: ['only on ports [TCP/http=8080 on x/b, UDP/dns (not declared by x/b)]'] },
      { from: P('y/a'), to: P('x/a'), port: 53, protocol: 'UDP', allowed: true, ingressBy: { port: 1 } },
      { from: P('y/a'), to: P('x/a'), port: 53, protocol: 'TCP', allowed: false },
      { from: P('y/a'), to: P('x/c'), port: 80, allowed: false, says: ['TCP/http (not declared by x/c)'] },
    ],
  },
  {
    name: 'a named egress port resolves against the destination pod, not the source',
    policies: [policy('x/egress-http', { podSelector: { matchLabels: { pod: 'c' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })],
    probes: [
      { from: P('x/c'), to: P('y/a'), port: 81, allowed: true, egressBy: { policyName: 'egress-http', port: 0 } },
      { from: P('x/c'), to: P('x/b'), port: 8080, allowed: true },
      { from: P('x/c'), to: P('x/a'), port: 80, allowed: true },
      { from: P('x/c'), to: P('x/a'), port: 81, allowed: false, says: ['TCP/http=80 on x/a'] },
      { from: P('x/c'), to: IP('8.8.8.8'), port: 80, allowed: false, says: ['TCP/http (destination is not a pod)'] },
    ],
  },
  {
    name: 'endPort makes a port entry an inclusive range',
    policies: [policy('x/range', { ingress: [{ ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }] }] })],
    probes: [
      { from: P('y/a'), to: P('x/a'), port: 8000, allowed: true },
      { from: P('y/a'), to: P('x/a'), port: 8100, allowed: true },
      { from: P('y/a'), to: P('x/a'), port: 8101, allowed: false, says: ['only on ports [TCP/8000-8100]'] },
      { from: P('y/a'), to: P('x/a'), port: 7999, allowed: false },
      { from: P('y/a'), to: P('x/a'), port: 8050, protocol: 'UDP', allowed: false },
    ],
  },
  {
    name: 'every policy selecting a pod adds its rules: the union decides',
    policies: [
      policy('x/allow-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
      policy('x/allow-c', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'c' } } }] }] }),
    ],
    probes: [
      { from: P('x/b'), to: P('x/a'), allowed: true, ingressBy: { policyName: 'allow-b' } },
      { from: P('x/c'), to: P('x/a'), allowed: true, ingressBy: { policyName: 'allow-c' } },
      { from: P('y/a'), to: P('x/a'), allowed: false, says: ['by policies [allow-b, allow-c]', 'policy allow-b rule 0 peer 0 requires pod=b in namespace x', 'policy allow-c rule 0 peer 0 requires pod=c in namespace x'] },
    ],
  },
  {
    name: 'a default-deny-egress namespace can still resolve names when UDP 53 to kube-dns is allowed',
    policies: [
      policy('x/deny-egress', { policyTypes: ['Egress'] }),
      policy('x/allow-dns', {
        policyTypes: ['Egress'],
        egress: [{
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        }],
      }),
    ],
    probes: [
      { from: P('x/a'), to: P('kube-system/dns'), port: 53, protocol: 'UDP', allowed: true, egressBy: { policyName: 'allow-dns', port: 0 } },
      { from: P('x/a'), to: P('kube-system/dns'), port: 53, protocol: 'TCP', allowed: true, egressBy: { port: 1 } },
      { from: P('x/a'), to: P('kube-system/dns'), port: 80, allowed: false },
      { from: P('x/a'), to: P('x/a'), port: 53, protocol: 'UDP', allowed: false },
      { from: P('x/a'), to: IP('8.8.8.8'), port: 53, protocol: 'UDP', allowed: false },
    ],
  },
  {
    name: 'policyTypes default to Ingress, plus Egress when egress rules are present',
    policies: [
      // No policyTypes and only egress rules: isolated for both directions (Ingress is always implied).
      policy('x/egress-only-rules', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{ to: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
      // No policyTypes and only ingress rules: not isolated for egress.
      policy('x/ingress-only', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ podSelector: {} }] }] }),
      // Explicit Egress only: its ingress rules are ignored and the pod stays open for ingress.
      policy('y/explicit-egress', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'zzz' } } }] }], egress: [{}] }),
    ],
    probes: [
      { from: P('x/a'), to: P('x/b'), allowed: true, egressBy: { policyName: 'egress-only-rules' } },
      { from: P('x/a'), to: P('y/b'), allowed: false, says: ['pod x/a is isolated for egress by policies [egress-only-rules]'] },
      { from: P('x/c'), to: P('x/a'), allowed: false, says: ['pod x/a is isolated for ingress by policies [egress-only-rules]', 'policy egress-only-rules has no ingress rules'] },
      { from: P('x/b'), to: P('y/c'), allowed: true },
      { from: P('y/c'), to: P('y/a'), allowed: true },
      { from: P('y/a'), to: IP('1.1.1.1'), allowed: true, egressBy: { policyName: 'explicit-egress', peer: null, port: null } },
    ],
  },
  {
    name: 'a port entry admits only its protocol',
    policies: [policy('x/udp-only', { ingress: [{ ports: [{ protocol: 'UDP', port: 80 }, { protocol: 'SCTP' }] }] })],
    probes: [
      { from: P('y/a'), to: P('x/a'), port: 80, protocol: 'UDP', allowed: true },
      { from: P('y/a'), to: P('x/a'), port: 80, protocol: 'TCP', allowed: false, says: ['only on ports [UDP/80, SCTP/any]'] },
      { from: P('y/a'), to: P('x/a'), port: 9999, protocol: 'SCTP', allowed: true, ingressBy: { port: 1 } },
    ],
  },
  {
    name: 'a connection is denied when egress denies even though ingress allows, and the reverse',
    policies: [
      policy('x/no-egress', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] }),
      policy('y/no-ingress', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'] }),
    ],
    probes: [
      { from: P('x/a'), to: P('y/a'), allowed: false, says: ['isolated for egress'] },
      { from: P('x/b'), to: P('y/b'), allowed: false, says: ['isolated for ingress'] },
      { from: P('x/a'), to: P('y/b'), allowed: false, says: ['pod x/a is isolated for egress', ' AND pod y/b is isolated for ingress'] },
      { from: P('x/b'), to: P('y/a'), allowed: true },
    ],
  },
];

describe('evaluateConnection', () => {
  for (const c of cases) {
    it(c.name, () => {
      const model = buildPolicyModel(cluster(c.policies));
      const matrix80 = computeMatrix(compilePolicies(model), { port: 80, protocol: 'TCP' });
      c.probes.forEach((p, i) => {
        const port = p.port ?? 80;
        const protocol = p.protocol ?? 'TCP';
        const v = evaluateConnection(model, { from: p.from, to: p.to, port, protocol });
        const label = `probe ${i}: ${JSON.stringify(p.from)} -> ${JSON.stringify(p.to)} ${protocol}/${port}: ${v.explanation}`;
        assert.equal(v.allowed, p.allowed, label);
        assert.equal(v.allowed, v.egress.allowed && v.ingress.allowed, label);
        for (const s of p.says ?? []) assert.ok(v.explanation.includes(s), `${label}\n  should say: ${s}`);
        if (p.ingressBy) assert.deepEqual({ ...v.ingress.allowedBy[0], ...p.ingressBy }, v.ingress.allowedBy[0], label);
        if (p.egressBy) assert.deepEqual({ ...v.egress.allowedBy[0], ...p.egressBy }, v.egress.allowedBy[0], label);
        // The compiled matrix agrees on pod-to-pod TCP/80 probes.
        if ('pod' in p.from && 'pod' in p.to && port === 80 && protocol === 'TCP') {
          const n = matrix80.pods.length;
          const k = matrix80.pods.indexOf(p.from.pod) * n + matrix80.pods.indexOf(p.to.pod);
          assert.equal(matrix80.allowed[k] === 1, p.allowed, `${label} (compiled matrix)`);
        }
      });
    });
  }

  it('explains a denied connection naming the isolating policies, the direction and each rule that fell short', () => {
    const model = buildPolicyModel({
      namespaces: [ns('x'), ns('y')],
      pods: [pod('x/a', { labels: { pod: 'a' }, ip: '10.0.0.1' }), pod('y/b', { labels: { pod: 'b' }, ip: '10.0.0.2' }), pod('y/c', { labels: { pod: 'c' }, ip: '10.0.0.3' })],
      policies: [
        policy('y/deny-all', { policyTypes: ['Ingress'] }),
        policy('y/allow-c', { ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'c' } } }] }] }),
      ],
    });
    const v = evaluateConnection(model, { from: { pod: 'x/a' }, to: { pod: 'y/b' }, port: 80, protocol: 'TCP' });
    assert.equal(v.ingress.explanation,
      'pod y/b is isolated for ingress by policies [allow-c, deny-all]; no ingress rule allows TCP/80 from x/a: ' +
      'policy allow-c rule 0 peer 0 requires pod=c in namespace y; policy deny-all has no ingress rules');
    assert.equal(v.explanation, `denied: ${v.ingress.explanation}`);
    assert.deepEqual(v.ingress.isolatingPolicies, ['y/allow-c', 'y/deny-all']);
    assert.equal(v.egress.explanation, 'pod x/a is not isolated for egress');
  });

  it('treats an IP that a pod holds as that pod, and an external source as having no egress policies', () => {
    const model = buildPolicyModel(cluster([policy('x/from-b', { ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })]));
    assert.equal(evaluateConnection(model, { from: { ip: '10.0.1.2' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' }).allowed, true);
    const ext = evaluateConnection(model, { from: { ip: '198.51.100.1' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' });
    assert.equal(ext.allowed, false);
    assert.equal(ext.egress.subject, null);
    assert.match(ext.egress.explanation, /not applicable/);
  });

  it('rejects unknown pods and malformed addresses with NetpolError codes', () => {
    const model = buildPolicyModel(cluster([]));
    assert.throws(() => evaluateConnection(model, { from: { pod: 'x/nope' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' }),
      (e: unknown) => e instanceof NetpolError && e.code === 'UnknownPod');
    assert.throws(() => evaluateConnection(model, { from: { ip: '300.1.1.1' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' }),
      (e: unknown) => e instanceof NetpolError && e.code === 'InvalidAddress');
  });

  it('rejects a policy whose selector no API server would accept', () => {
    const bad = policy('x/bad', { ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }] }] });
    assert.throws(() => buildPolicyModel(cluster([bad])), (e: unknown) => e instanceof NetpolError && e.code === 'InvalidPolicy');
  });
});
