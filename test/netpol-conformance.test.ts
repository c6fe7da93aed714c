// Upstream's NetworkPolicy model on the real kernel (issue 7): namespaces x, y, z labelled ns=<name>; pods
// a, b, c in each labelled pod=<name> (a on node-1, b on node-2, c on node-3, so every namespace has pairs on
// one node and across nodes); every pod serves 80 and 81 on TCP and UDP (two agnhost netexec containers,
// ports named serve-<port>-<tcp|udp>). Each case applies its policies, waits until every node's agent reports
// them in force (printing the time to enforcement), then asserts that the full 9x9 table from
// `flatnet probe -o json` equals the offline model's table (src/netpol/core computeMatrix on the objects read
// back from the API), plus a few cells stated by hand so a degenerate oracle cannot pass.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../src/api/types.ts';
import { upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';
import { oracleRows, policyVersions, probe, readObjects, renderRows, waitEnforced } from './netpol-support.ts';

const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];

/** As JSON: YAML 1.1 would read a namespace named `y` as a boolean. */
function topology(): string {
  const docs: unknown[] = [];
  for (const ns of NS) docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } });
  for (const ns of NS) {
    PODS.forEach((p, i) => {
      docs.push({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: p, namespace: ns, labels: { pod: p } },
        spec: {
          nodeName: `node-${i + 1}`,
          containers: [80, 81].map((port) => ({
            name: `cont-${port}`, image: 'registry.k8s.io/e2e-test-images/agnhost:2.39',
            args: ['netexec', `--http-port=${port}`, `--udp-port=${port}`],
            ports: [{ name: `serve-${port}-tcp`, containerPort: port, protocol: 'TCP' }, { name: `serve-${port}-udp`, containerPort: port, protocol: 'UDP' }],
          })),
        },
      });
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
}

const np = (ns: string, name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });

type Probe = [port: number, protocol: 'TCP' | 'UDP'];
/** A cell stated by hand: [from, to, port, allowed]. */
type Fact = [from: string, to: string, port: number, allowed: boolean];

interface Case {
  name: string;
  policies: (ctx: Ctx) => string[];
  probes: Probe[];
  facts: Fact[];
}

interface Ctx { ip: (key: string) => string; podCIDROf: (node: string) => string }

const cases: Case[] = [
  {
    name: 'default deny ingress in x denies everything into x and nothing else',
    policies: () => [np('x', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })],
    probes: [[80, 'TCP'], [81, 'UDP']],
    facts: [['y/a', 'x/a', 80, false], ['x/b', 'x/a', 80, false], ['x/a', 'y/b', 80, true]],
  },
  {
    name: 'default deny egress in x with DNS allowed denies x\'s connections on 80 but not into x',
    policies: () => [np('x', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] })],
    probes: [[80, 'TCP'], [80, 'UDP']],
    facts: [['x/a', 'y/a', 80, false], ['x/a', 'x/b', 80, false], ['y/a', 'x/a', 80, true]],
  },
  {
    name: 'allow-all ingress next to a deny-all opens x again',
    policies: () => [np('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] }), np('x', 'allow-all', { podSelector: {}, ingress: [{}] })],
    probes: [[80, 'TCP']],
    facts: [['z/c', 'x/a', 80, true]],
  },
  {
    name: 'a podSelector peer admits only x/b into x/a',
    policies: () => [np('x', 'a-from-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    probes: [[80, 'TCP']],
    facts: [['x/b', 'x/a', 80, true], ['y/b', 'x/a', 80, false], ['x/c', 'x/a', 80, false]],
  },
  {
    name: 'a namespaceSelector peer admits every pod of y into x/a',
    policies: () => [np('x', 'a-from-y', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    probes: [[80, 'TCP']],
    facts: [['y/c', 'x/a', 80, true], ['x/b', 'x/a', 80, false]],
  },
  {
    name: 'podSelector and namespaceSelector in one peer admit only y/b (AND)',
    policies: () => [np('x', 'a-from-yb', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    probes: [[80, 'TCP']],
    facts: [['y/b', 'x/a', 80, true], ['y/c', 'x/a', 80, false], ['x/b', 'x/a', 80, false]],
  },
  {
    name: 'matchExpressions select pods b and c outside namespace x',
    policies: () => [np('x', 'a-exprs', {
      podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a'] }] },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] }, podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }],
    })],
    probes: [[80, 'TCP']],
    facts: [['z/c', 'x/a', 80, true], ['z/a', 'x/a', 80, false], ['x/b', 'x/a', 80, false]],
  },
  {
    name: 'an egress ipBlock with except keeps x/a from the pods of node-2',
    policies: (ctx) => [np('x', 'a-egress-cidr', {
      podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: [ctx.podCIDROf('node-2')] } }] }],
    })],
    probes: [[80, 'TCP']],
    facts: [['x/a', 'y/b', 80, false], ['x/a', 'y/c', 80, true], ['x/a', 'x/c', 80, true]],
  },
  {
    name: 'a named port admits serve-81-tcp only',
    policies: () => [np('x', 'a-named-81', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
    probes: [[80, 'TCP'], [81, 'TCP'], [81, 'UDP']],
    facts: [['y/a', 'x/a', 81, true], ['y/a', 'x/a', 80, false]],
  },
  {
    name: 'endPort admits the range 81-90 and not 80',
    policies: () => [np('x', 'a-range', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81, endPort: 90, protocol: 'TCP' }] }] })],
    probes: [[80, 'TCP'], [81, 'TCP']],
    facts: [['z/b', 'x/a', 81, true], ['z/b', 'x/a', 80, false]],
  },
  {
    name: 'several policies on x/a are unioned, egress and ingress together',
    policies: () => [
      np('x', 'a-from-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
      np('x', 'a-from-z', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] }),
      np('y', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }),
    ],
    probes: [[80, 'TCP']],
    facts: [['x/b', 'x/a', 80, true], ['z/a', 'x/a', 80, true], ['y/b', 'x/a', 80, false], ['y/a', 'z/a', 80, false]],
  },
];

describe('upstream\'s x/y/z model on the kernel: probe tables equal the offline model', () => {
  let c: ClusterFixture;
  let ctx: Ctx;
  const enforcedMs: number[] = [];

  before(async () => {
    c = await upCluster({ nodes: 3 });
    await c.k(['apply', '-f', '-'], topology());
    const pods = await waitFor('9 running pods', async () => {
      const items = (JSON.parse(await c.k(['get', 'pods', '-A', '-o', 'json'])) as { items: Pod[] }).items.filter((p) => NS.includes(p.metadata.namespace ?? ''));
      return items.length === 9 && items.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
    }, 120_000);
    const nodes = (JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] }).items;
    ctx = {
      ip: (key) => pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === key)?.status?.podIP ?? '',
      podCIDROf: (node) => nodes.find((n) => n.metadata.name === node)?.spec.podCIDR ?? assert.fail(`no node ${node}`),
    };
  });
  after(async () => {
    if (enforcedMs.length > 0) {
      const s = [...enforcedMs].sort((a, b) => a - b);
      process.stderr.write(`time to enforced on every node (kubectl apply start -> all agents report): min ${s[0]} ms, median ${s[Math.floor(s.length / 2)]} ms, max ${s[s.length - 1]} ms over ${s.length} changes\n`);
    }
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  /** Applies (or deletes everything, with []) and waits for the agents; returns ms to enforcement. */
  async function setPolicies(docs: string[]): Promise<number> {
    const t0 = Date.now();
    await c.k(['delete', 'networkpolicies', '--all', '-n', 'x']);
    await c.k(['delete', 'networkpolicies', '--all', '-n', 'y']);
    await c.k(['delete', 'networkpolicies', '--all', '-n', 'z']);
    if (docs.length > 0) await c.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs.map((d) => JSON.parse(d) as unknown) }));
    const ms = await waitEnforced(c, await policyVersions(c, NS), NS, t0);
    enforcedMs.push(ms);
    return ms;
  }

  async function assertTables(probes: Probe[], facts: Fact[], label: string): Promise<void> {
    for (const [port, protocol] of probes) {
      const report = await probe(c, NS, port, protocol);
      assert.equal(report.pods.length, 9, `probed ${report.pods.join(',')}`);
      const oracle = oracleRows(await readObjects(c, NS), report.pods, port, protocol);
      assert.deepEqual(report.matrix, oracle, `${label} ${protocol}/${port}\nprobe:\n${renderRows(report.pods, report.matrix)}\nmodel:\n${renderRows(report.pods, oracle)}`);
      for (const [from, to, p, allowed] of facts) {
        if (p !== port || protocol !== 'TCP') continue;
        const mark = report.matrix[report.pods.indexOf(from)]?.[report.pods.indexOf(to)];
        assert.equal(mark, allowed ? '.' : 'X', `${label}: ${from} -> ${to} on ${port}`);
      }
      process.stderr.write(`  ${label} ${protocol}/${port}: ${report.allowedCount} connected, ${report.deniedCount} not, probe ${report.wallMs} ms\n`);
    }
  }

  it('connects every pod to every pod on 80 and 81 without policies', async () => {
    await setPolicies([]);
    await assertTables([[80, 'TCP'], [81, 'TCP'], [80, 'UDP']], [['x/a', 'z/c', 80, true]], 'no policies');
    const report = await probe(c, NS, 80);
    assert.equal(report.deniedCount, 0);
  });

  for (const k of cases) {
    it(k.name, async () => {
      const ms = await setPolicies(k.policies(ctx));
      process.stderr.write(`${k.name}: enforced on every node in ${ms} ms\n`);
      await assertTables(k.probes, k.facts, k.name);
    });
  }

  it('follows a policy update: x/a switches from admitting pod=b to admitting pod=c', async () => {
    await setPolicies([np('x', 'a-from', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })]);
    await assertTables([[80, 'TCP']], [['x/b', 'x/a', 80, true], ['x/c', 'x/a', 80, false]], 'before update');
    const t0 = Date.now();
    await c.k(['apply', '-f', '-'], np('x', 'a-from', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'c' } } }] }] }));
    const ms = await waitEnforced(c, await policyVersions(c, NS), NS, t0);
    enforcedMs.push(ms);
    process.stderr.write(`policy update enforced in ${ms} ms\n`);
    await assertTables([[80, 'TCP']], [['x/b', 'x/a', 80, false], ['x/c', 'x/a', 80, true]], 'after update');
  });

  it('follows pod and namespace label changes', async () => {
    await setPolicies([
      np('x', 'a-from-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }, { namespaceSelector: { matchLabels: { team: 'blue' } } }] }] }),
    ]);
    await assertTables([[80, 'TCP']], [['x/c', 'x/a', 80, false], ['z/a', 'x/a', 80, false]], 'before relabel');
    try {
      await c.k(['label', 'pod', 'c', '-n', 'x', 'pod=b', '--overwrite']);
      await c.k(['label', 'namespace', 'z', 'team=blue']);
      // No resourceVersion to wait for: the table must converge within a bounded time.
      const t0 = Date.now();
      await waitFor('x/c and z/* admitted into x/a', async () => {
        const r = await probe(c, NS, 80);
        const row = (from: string) => r.matrix[r.pods.indexOf(from)]?.[r.pods.indexOf('x/a')];
        return row('x/c') === '.' && row('z/a') === '.' ? true : undefined;
      }, 20_000);
      process.stderr.write(`label changes enforced within ${Date.now() - t0} ms (probe-bounded)\n`);
      await assertTables([[80, 'TCP']], [['x/c', 'x/a', 80, true], ['z/b', 'x/a', 80, true], ['y/a', 'x/a', 80, false]], 'after relabel');
    } finally {
      await c.k(['label', 'pod', 'c', '-n', 'x', 'pod=c', '--overwrite']);
      await c.k(['label', 'namespace', 'z', 'team-']);
    }
  });
});
