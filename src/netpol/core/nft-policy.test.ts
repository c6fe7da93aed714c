// The per-node policy tables walked by the nft evaluator (src/nft/evaluate.ts) must give the same truth
// table as the compiled matrix: for every pair of conformance pods spread over three nodes, the packet is
// evaluated on the source pod's node (egress) and on the destination pod's node (ingress).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy, Protocol } from '../../api/types.ts';
import { evaluate } from '../../nft/evaluate.ts';
import { renderTable } from '../../nft/render.ts';
import { compilePolicies, computeMatrix } from './compile.ts';
import { buildPolicyModel } from './model.ts';
import {
  buildNodePolicyTable, deniedPacketsByPolicy, EGRESS_MAP, INGRESS_MAP, parsePolicyCounters, peerSetName, podChainName, unexpressiblePolicies,
} from './nft-policy.ts';
import { CONFORMANCE_KEYS, conformanceCluster, conformanceIP, policy } from './testing.ts';

const podIs = (p: string) => ({ matchLabels: { pod: p } });
const nsIs = (n: string) => ({ matchLabels: { ns: n } });
const nodeOf = (key: string): string => `node-${'abc'.indexOf(key.split('/')[1] ?? 'a') + 1}`;

const cases: { name: string; policies: NetworkPolicy[] }[] = [
  { name: 'no policies', policies: [] },
  { name: 'default deny ingress in x', policies: [policy('x/deny', { policyTypes: ['Ingress'] })] },
  { name: 'default deny egress in y with DNS allowed', policies: [policy('y/deny-egress', { policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] })] },
  { name: 'podSelector and namespaceSelector peers, AND and OR', policies: [
    policy('x/and', { podSelector: podIs('a'), ingress: [{ from: [{ podSelector: podIs('b'), namespaceSelector: nsIs('y') }] }] }),
    policy('x/or', { podSelector: podIs('b'), ingress: [{ from: [{ podSelector: podIs('b') }, { namespaceSelector: nsIs('z') }] }] }),
  ] },
  { name: 'matchExpressions and ports with endPort', policies: [
    policy('y/expr', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'c'] }] }, ingress: [{
      from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] } }],
      ports: [{ port: 79, endPort: 80, protocol: 'TCP' }],
    }] }),
  ] },
  { name: 'ipBlock with except on egress', policies: [
    policy('z/egress-cidr', { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.2.0/24'] } }] }] }),
  ] },
  { name: 'named ports on ingress and egress', policies: [
    policy('x/named-in', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }, { port: 'serve-80-tcp' }] }] }),
    policy('y/named-out', { podSelector: podIs('c'), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'serve-81-tcp' }] }] }),
  ] },
  { name: 'several policies unioned over both directions', policies: [
    policy('x/deny-all', { policyTypes: ['Ingress', 'Egress'] }),
    policy('x/a-out', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: nsIs('y') }] }] }),
    policy('x/a-in', { podSelector: podIs('a'), ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 81 }] }] }),
  ] },
];

function tablesFor(policies: NetworkPolicy[]) {
  const compiled = compilePolicies(buildPolicyModel(conformanceCluster(policies)));
  const nodes = new Map<string, ReturnType<typeof buildNodePolicyTable>>();
  for (const node of ['node-1', 'node-2', 'node-3']) {
    nodes.set(node, buildNodePolicyTable(compiled, { localPods: new Set(CONFORMANCE_KEYS.filter((k) => nodeOf(k) === node)) }));
  }
  return { compiled, nodes };
}

describe('per-node nftables policy tables', () => {
  for (const c of cases) {
    it(`give the compiled matrix's verdict for every pod pair when walked by the nft evaluator: ${c.name}`, () => {
      const { compiled, nodes } = tablesFor(c.policies);
      for (const [port, protocol] of [[80, 'TCP'], [81, 'TCP'], [80, 'UDP'], [81, 'UDP'], [53, 'UDP']] as [number, Protocol][]) {
        const m = computeMatrix(compiled, { port, protocol });
        for (const [i, from] of m.pods.entries()) {
          for (const [j, to] of m.pods.entries()) {
            if (i === j) continue; // loopback never reaches the node
            const packet = { saddr: conformanceIP(from), daddr: conformanceIP(to), l4proto: protocol.toLowerCase() as 'tcp' | 'udp', sport: 40000, dport: port };
            const onSource = evaluate({ tables: [nodes.get(nodeOf(from))?.table ?? assert.fail('no table')] }, packet, 'forward').verdict;
            const onDest = nodeOf(from) === nodeOf(to) ? 'accept' : evaluate({ tables: [nodes.get(nodeOf(to))?.table ?? assert.fail('no table')] }, packet, 'forward').verdict;
            const kernel = onSource === 'accept' && onDest === 'accept';
            assert.equal(kernel, m.allowed[i * m.pods.length + j] === 1, `${protocol}/${port} ${from} -> ${to}`);
          }
        }
        // Replies of any connection pass.
        const reply = evaluate({ tables: [...nodes.values()].map((n) => n.table) }, { saddr: '10.0.1.1', daddr: '10.0.2.2', l4proto: 'tcp', sport: 80, dport: 40000, ctState: 'established' }, 'forward');
        assert.equal(reply.verdict, 'accept');
      }
    });
  }

  it('gives chains and dispatch entries only to the isolated pods of its own node', () => {
    const { nodes } = tablesFor([policy('x/deny', { policyTypes: ['Ingress'] })]);
    const t1 = nodes.get('node-1')?.table;
    assert.ok(t1);
    assert.deepEqual(t1.chains.map((ch) => ch.name), ['forward', 'input', podChainName('ingress', 'x/a')]);
    assert.deepEqual(t1.maps.find((mp) => mp.name === INGRESS_MAP)?.elements.map((e) => e.key[0]), [conformanceIP('x/a')]);
    assert.deepEqual(t1.maps.find((mp) => mp.name === EGRESS_MAP)?.elements, []);
    assert.match(renderTable(t1), /counter drop comment "deny ingress x\/a isolated by x\/deny"/);
  });

  it('shares one peer set per policy rule among the pods it selects and keeps it stable when a peer appears', () => {
    const p = policy('x/from-b', { podSelector: {}, ingress: [{ from: [{ podSelector: podIs('b') }] }] });
    const { nodes } = tablesFor([p]);
    const name = peerSetName('ingress', 'x/from-b', 0, 0);
    for (const n of nodes.values()) {
      const set = n.table.sets.find((s) => s.name === name);
      assert.deepEqual(set?.elements.map((e) => e.key[0]), [conformanceIP('x/b')]);
    }
  });

  it('refuses IPv6 ipBlocks as unexpressible and accepts IPv4 ones', () => {
    const model = buildPolicyModel(conformanceCluster([
      policy('x/v6', { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '2001:db8::/32' } }] }] }),
      policy('x/v4', { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }),
    ]));
    const bad = unexpressiblePolicies(model);
    assert.deepEqual([...bad.keys()], ['x/v6']);
    assert.match(bad.get('x/v6') ?? '', /IPv6/);
  });

  it('reads allow and deny counters back from nft JSON and sums denied packets per isolating policy', () => {
    const json = { nftables: [
      { metainfo: { version: '1.0.6' } },
      { rule: { family: 'ip', table: 'flatnet-netpol', chain: 'ingress-x/a', comment: 'allow x/p rule 0', expr: [{ counter: { packets: 3, bytes: 180 } }, { accept: null }] } },
      { rule: { family: 'ip', table: 'flatnet-netpol', chain: 'ingress-x/a', comment: 'deny ingress x/a isolated by x/p,x/q', expr: [{ counter: { packets: 5, bytes: 300 } }, { drop: null }] } },
      { rule: { family: 'ip', table: 'flatnet-netpol', chain: 'egress-y/b', comment: 'deny egress y/b isolated by y/r', expr: [{ counter: { packets: 2, bytes: 120 } }, { drop: null }] } },
      { rule: { family: 'ip', table: 'flatnet-netpol', chain: 'forward', expr: [{ accept: null }] } },
    ] };
    const counters = parsePolicyCounters(json);
    assert.equal(counters.length, 3);
    assert.deepEqual(counters[0], { chain: 'ingress-x/a', direction: 'ingress', pod: 'x/a', kind: 'allow', policies: ['x/p'], rule: 0, comment: 'allow x/p rule 0', packets: 3, bytes: 180 });
    assert.deepEqual([...deniedPacketsByPolicy(counters)], [['x/p', 5], ['x/q', 5], ['y/r', 2]]);
  });
});
