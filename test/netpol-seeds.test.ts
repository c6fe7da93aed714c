// NetworkPolicy enforced by the kernel (issue 7), on the seeds' two examples as written: backend-policy
// (only app=frontend reaches app=backend, on 8080) and allow-frontend-to-backend (only role=frontend reaches
// role=backend, every port). Pods are spread over nodes so both bridged (same node) and routed (cross node)
// pairs are checked, every table is compared with the offline model's, and the Service path, counters,
// established connections and an unexpressible policy are covered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../src/api/types.ts';
import { podNetns } from '../src/lab/core/names.ts';
import { deniedPacketsByPolicy } from '../src/netpol/core/nft-policy.ts';
import { readPolicyCounters } from '../src/netpol/policy-agent.ts';
import { run, upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';
import { oracleRows, policyVersions, probe, readObjects, renderRows, waitEnforced } from './netpol-support.ts';
import { SEED_ALLOW_FRONTEND_TO_BACKEND, SEED_BACKEND_POLICY } from './support/seed-policies.ts';

/** A pod serving TCP and UDP on 8080 and 5432 (agnhost netexec), pinned to a node. */
function server(name: string, ns: string, node: string, labels: Record<string, string>): string {
  const container = (port: number) => `  - name: s${port}
    image: registry.k8s.io/e2e-test-images/agnhost:2.39
    args: ["netexec", "--http-port=${port}", "--udp-port=${port}"]
    ports:
    - {containerPort: ${port}, protocol: TCP}`;
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${JSON.stringify(labels)}
spec:
  nodeName: ${node}
  containers:
${container(8080)}
${container(5432)}
`;
}

const WORKLOAD = [
  'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n',
  server('frontend-1', 'default', 'node-1', { app: 'frontend' }),
  server('frontend-2', 'default', 'node-2', { app: 'frontend' }),
  server('backend', 'default', 'node-1', { app: 'backend' }),
  server('worker', 'default', 'node-1', { app: 'worker' }),
  server('web', 'default', 'node-2', { role: 'frontend' }),
  server('db', 'default', 'node-3', { role: 'backend' }),
  server('api', 'default', 'node-3', {}),
  server('web', 'other', 'node-3', { role: 'frontend' }),
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: backend\nspec:\n  selector: {app: backend}\n  ports:\n  - {port: 80, targetPort: 8080}\n',
].join('---\n');

const NAMESPACES = ['default', 'other'];

describe('the seeds\' NetworkPolicies enforced in the kernel of a 3-node cluster', () => {
  let c: ClusterFixture;
  let pods: Pod[];
  const podByKey = (key: string): Pod => pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === key) ?? assert.fail(`no pod ${key}`);
  const cell = (r: { pods: string[]; matrix: string[] }, from: string, to: string): string => r.matrix[r.pods.indexOf(from)]?.[r.pods.indexOf(to)] ?? '?';

  before(async () => {
    c = await upCluster({ nodes: 3 });
    await c.k(['apply', '-f', '-'], WORKLOAD);
    pods = await waitFor('8 running pods with IPs', async () => {
      const items = (JSON.parse(await c.k(['get', 'pods', '-A', '-o', 'json'])) as { items: Pod[] }).items.filter((p) => NAMESPACES.includes(p.metadata.namespace ?? ''));
      return items.length === 8 && items.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
    }, 90_000);
    const t0 = Date.now();
    await c.k(['apply', '-f', '-'], SEED_BACKEND_POLICY + '---\n' + SEED_ALLOW_FRONTEND_TO_BACKEND);
    const ms = await waitEnforced(c, await policyVersions(c, NAMESPACES), NAMESPACES, t0);
    process.stderr.write(`seed policies enforced on every node ${ms} ms after kubectl apply started\n`);
  });
  after(async () => {
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('lets only app=frontend pods reach the backend on 8080, on the same node and across nodes, as the model says', async () => {
    const report = await probe(c, NAMESPACES, 8080);
    const objects = await readObjects(c, NAMESPACES);
    assert.deepEqual(report.matrix, oracleRows(objects, report.pods, 8080, 'TCP'), `probe:\n${renderRows(report.pods, report.matrix)}`);
    assert.equal(cell(report, 'default/frontend-1', 'default/backend'), '.', 'same node, allowed');
    assert.equal(cell(report, 'default/frontend-2', 'default/backend'), '.', 'cross node, allowed');
    assert.equal(cell(report, 'default/worker', 'default/backend'), 'X', 'same node, denied');
    assert.equal(cell(report, 'default/web', 'default/backend'), 'X', 'cross node, denied');
    assert.equal(cell(report, 'other/web', 'default/backend'), 'X', 'other namespace, denied');
    assert.equal(cell(report, 'default/backend', 'default/worker'), '.', 'the backend\'s egress stays open');
  });

  it('lets only role=frontend pods of its namespace reach role=backend on any port, as the model says', async () => {
    for (const port of [5432, 8080]) {
      const report = await probe(c, NAMESPACES, port);
      const objects = await readObjects(c, NAMESPACES);
      assert.deepEqual(report.matrix, oracleRows(objects, report.pods, port, 'TCP'), `port ${port}:\n${renderRows(report.pods, report.matrix)}`);
      assert.equal(cell(report, 'default/web', 'default/db'), '.');
      assert.equal(cell(report, 'default/api', 'default/db'), 'X', 'same node, no role');
      assert.equal(cell(report, 'other/web', 'default/db'), 'X', 'role=frontend in another namespace');
    }
    const udp = await probe(c, NAMESPACES, 5432, 'UDP');
    assert.deepEqual(udp.matrix, oracleRows(await readObjects(c, NAMESPACES), udp.pods, 5432, 'UDP'), `UDP:\n${renderRows(udp.pods, udp.matrix)}`);
    assert.equal(cell(udp, 'default/api', 'default/db'), 'X');
    assert.equal(cell(udp, 'default/web', 'default/db'), '.');
  });

  it('filters Service traffic after DNAT: the ClusterIP reaches the backend only from frontends', async () => {
    const svc = JSON.parse(await c.k(['get', 'service', 'backend', '-o', 'json'])) as { spec: { clusterIP: string } };
    const tryFrom = async (key: string) => {
      const netns = podNetns(c.name, podByKey(key).metadata.uid ?? '');
      return (await run('ip', ['netns', 'exec', netns, 'nc', '-z', '-w', '2', svc.spec.clusterIP, '80'])).status === 0;
    };
    assert.equal(await tryFrom('default/frontend-1'), true, 'frontend on the backend\'s node');
    assert.equal(await tryFrom('default/frontend-2'), true, 'frontend on another node');
    assert.equal(await tryFrom('default/worker'), false, 'worker on the backend\'s node');
    assert.equal(await tryFrom('default/api'), false, 'api on another node');
  });

  it('counts the dropped packets on the backend\'s node under the policy that isolates it', async () => {
    const before = deniedPacketsByPolicy(await readPolicyCounters(`fn-${c.name}-node-1`)).get('default/backend-policy') ?? 0;
    const netns = podNetns(c.name, podByKey('default/worker').metadata.uid ?? '');
    await run('ip', ['netns', 'exec', netns, 'nc', '-z', '-w', '1', podByKey('default/backend').status?.podIP ?? '', '8080']);
    const counters = await readPolicyCounters(`fn-${c.name}-node-1`);
    const afterCount = deniedPacketsByPolicy(counters).get('default/backend-policy') ?? 0;
    assert.ok(afterCount > before, `deny counter of backend-policy grew (${before} -> ${afterCount})`);
    assert.ok(counters.some((x) => x.kind === 'allow' && x.policies[0] === 'default/backend-policy' && x.packets > 0), 'allow counter of backend-policy counted the frontends');
  });

  it('keeps established connections when a policy starts denying them, and denies new ones (conntrack)', async () => {
    const target = podByKey('default/frontend-2').status?.podIP ?? '';
    const netns = podNetns(c.name, podByKey('default/api').metadata.uid ?? '');
    const script = `import { request, Agent } from 'node:http';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const get = (a) => new Promise((res) => { const r = request({ host: '${target}', port: 8080, path: '/hostname', agent: a, timeout: 1500 }, (s) => { s.resume(); s.on('end', () => res(true)); }); r.on('timeout', () => r.destroy(new Error('t'))); r.on('error', () => res(false)); r.end(); });
const results = [];
for (let i = 0; i < 16; i++) { results.push(await get(agent)); await new Promise((r) => setTimeout(r, 250)); }
const fresh = await get(false);
process.stdout.write(JSON.stringify({ results, fresh }));
`;
    const running = run('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', script], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await c.k(['apply', '-f', '-'], 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: isolate-frontends}\nspec:\n  podSelector: {matchLabels: {app: frontend}}\n');
    await waitEnforced(c, await policyVersions(c, NAMESPACES), NAMESPACES, t0);
    const out = await running;
    await c.k(['delete', 'networkpolicy', 'isolate-frontends']);
    const parsed = JSON.parse(out.stdout) as { results: boolean[]; fresh: boolean };
    assert.deepEqual(parsed.results, parsed.results.map(() => true), 'every request on the kept-alive connection succeeded');
    assert.equal(parsed.fresh, false, 'a new connection after the policy is denied');
  });

  it('raises a Warning Event for a policy version it cannot express and keeps the previous version in force', async () => {
    const previous = await policyVersions(c, NAMESPACES);
    const v6 = SEED_BACKEND_POLICY.replace('    ports:', '    - ipBlock:\n        cidr: 2001:db8::/32\n    ports:');
    assert.notEqual(v6, SEED_BACKEND_POLICY);
    await c.k(['apply', '-f', '-'], v6);
    const ev = await waitFor('a PolicyNotEnforced event', async () => {
      const list = JSON.parse(await c.k(['get', 'events', '--field-selector', 'involvedObject.name=backend-policy', '-o', 'json'])) as { items: { type: string; reason: string; message: string }[] };
      return list.items.find((e) => e.reason === 'PolicyNotEnforced');
    }, 20_000);
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /IPv6/);
    await new Promise((r) => setTimeout(r, 500));
    // Every node still enforces the previous resourceVersion.
    await waitEnforced(c, previous, NAMESPACES, Date.now(), 3, 5_000);
    const report = await probe(c, NAMESPACES, 8080);
    assert.equal(cell(report, 'default/frontend-1', 'default/backend'), '.');
    assert.equal(cell(report, 'default/worker', 'default/backend'), 'X');
    await c.k(['apply', '-f', '-'], SEED_BACKEND_POLICY);
  });
});
