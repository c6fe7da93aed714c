// `flatnet matrix` end to end: the real CLI (bin/flatnet) on manifests written to a temporary directory, with
// the two NetworkPolicy examples of the seed material — backend-policy (only app=frontend reaches app=backend,
// on 8080) and allow-frontend-to-backend (only role=frontend reaches role=backend, any port). `flatnet matrix
// --live` on a real 3-node cluster running the same manifests: the model's table equals the offline one and
// the kernel agrees, until an nft rule of our own drops one pod pair.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pod } from '../src/api/types.ts';
import type { LiveMatrixComparison } from '../src/cli/matrix-command.ts';
import { policyVersions, waitEnforced } from './netpol-support.ts';
import { run, upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';
import { SEED_ALLOW_FRONTEND_TO_BACKEND, SEED_BACKEND_POLICY } from './support/seed-policies.ts';

const root = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function manifestDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-matrix-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function flatnet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(root, 'bin/flatnet'), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface JsonReport {
  port: number;
  protocol: string;
  pods: string[];
  cells: { from: string; to: string; allowed: boolean; explanation: string }[];
  podIPs: Record<string, string>;
  createdNamespaces: string[];
}

function matrixJson(dir: string, ...extra: string[]): JsonReport {
  const r = flatnet('matrix', '-f', dir, '-o', 'json', ...extra);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonReport;
}

/** The denied (from, to) pairs of a report, as "from>to". */
function denied(report: JsonReport): string[] {
  return report.cells.filter((c) => !c.allowed).map((c) => `${c.from}>${c.to}`).sort();
}

/** Every ordered pair of `pods` whose destination is `to` and whose source is not in `allowedFrom`. */
function deniedInto(pods: string[], to: string, allowedFrom: string[]): string[] {
  return pods.filter((f) => !allowedFrom.includes(f)).map((f) => `${f}>${to}`).sort();
}

const deployment = (name: string, labels: string, replicas: number, namespace = 'default'): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {${labels}}
  template:
    metadata:
      labels: {${labels}}
    spec:
      containers:
      - name: app
        image: nginx
        ports:
        - containerPort: 8080
          name: http
`;

describe('flatnet matrix', () => {
  const seed001 = manifestDir({
    'workloads.yaml': [deployment('frontend', 'app: frontend', 2), deployment('backend', 'app: backend', 1), deployment('worker', 'app: worker', 1)].join('---\n'),
    'policy.yml': SEED_BACKEND_POLICY,
  });

  it('backend-policy lets only app=frontend pods reach app=backend on 8080', () => {
    const r = matrixJson(seed001, '--port', '8080');
    assert.equal(r.port, 8080);
    assert.deepEqual(r.pods, ['default/backend-0', 'default/frontend-0', 'default/frontend-1', 'default/worker-0']);
    assert.deepEqual(denied(r), deniedInto(r.pods, 'default/backend-0', ['default/frontend-0', 'default/frontend-1']));
    const cell = r.cells.find((c) => c.from === 'default/worker-0' && c.to === 'default/backend-0');
    assert.match(cell?.explanation ?? '', /isolated for ingress by policies \[backend-policy\].*requires app=frontend in namespace default/);
  });

  it('backend-policy closes every other port of app=backend, to frontends too', () => {
    const r = matrixJson(seed001, '--port', '80');
    assert.deepEqual(denied(r), deniedInto(r.pods, 'default/backend-0', []));
    const udp = matrixJson(seed001, '--port', '8080', '--protocol', 'UDP');
    assert.deepEqual(denied(udp), deniedInto(udp.pods, 'default/backend-0', []));
  });

  const seed004 = manifestDir({
    'all.yaml': [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
      deployment('web', 'role: frontend', 1, 'shop'),
      deployment('api', 'role: backend', 2, 'shop'),
      deployment('db', 'role: db', 1, 'shop'),
      deployment('web', 'role: frontend', 1, 'elsewhere'),
      SEED_ALLOW_FRONTEND_TO_BACKEND.replace('name: allow-frontend-to-backend', 'name: allow-frontend-to-backend\n  namespace: shop'),
    ].join('---\n'),
  });

  it('allow-frontend-to-backend lets only role=frontend pods of its namespace reach role=backend, on any port', () => {
    for (const port of ['80', '5432']) {
      const r = matrixJson(seed004, '--port', port);
      assert.deepEqual(r.pods, ['elsewhere/web-0', 'shop/api-0', 'shop/api-1', 'shop/db-0', 'shop/web-0']);
      assert.deepEqual(denied(r), [
        ...deniedInto(r.pods, 'shop/api-0', ['shop/web-0']),
        ...deniedInto(r.pods, 'shop/api-1', ['shop/web-0']),
      ].sort(), `port ${port}`);
      assert.deepEqual(r.createdNamespaces, ['elsewhere']);
    }
  });

  it('prints a . / X grid with a line for every denied cell, and markdown, exiting 0', () => {
    const t = flatnet('matrix', '-f', join(seed001, 'workloads.yaml'), join(seed001, 'policy.yml'), '--port', '8080');
    assert.equal(t.status, 0, t.stderr);
    const lines = t.stdout.split('\n');
    assert.match(lines[0] ?? '', /^TCP\/8080\s+default\/backend-0 default\/frontend-0 default\/frontend-1 default\/worker-0$/);
    assert.match(lines[1] ?? '', /^default\/backend-0\s+X\s+\.\s+\.\s+\.$/);
    assert.match(lines[2] ?? '', /^default\/frontend-0\s+\.\s+\.\s+\.\s+\.$/);
    assert.equal(lines.filter((l) => l.startsWith('X ')).length, 2);
    const md = flatnet('matrix', '-f', seed001, '--port', '8080', '-o', 'md');
    assert.equal(md.status, 0, md.stderr);
    assert.ok(md.stdout.includes('| **default/worker-0** | X | . | . | . |'), md.stdout);
  });

  it('fails with a usage error for a bad protocol and with the field errors of an invalid policy', () => {
    assert.equal(flatnet('matrix', '-f', seed001, '--protocol', 'ICMP').status, 2);
    assert.equal(flatnet('matrix').status, 2);
    const bad = manifestDir({ 'bad.yaml': 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 70000\n' });
    const r = flatnet('matrix', '-f', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /NetworkPolicy default\/bad is invalid: spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 70000/);
  });
});

/** A pod serving TCP and UDP on 8080 (agnhost netexec), pinned to a node. */
function server(name: string, ns: string, node: string, labels: Record<string, string>): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${JSON.stringify(labels)}
spec:
  nodeName: ${node}
  containers:
  - name: s
    image: registry.k8s.io/e2e-test-images/agnhost:2.39
    args: ["netexec", "--http-port=8080", "--udp-port=8080"]
    ports:
    - {containerPort: 8080, protocol: TCP}
`;
}

// Allowed and denied pairs both on one node (bridged) and across nodes (routed).
const LIVE_PODS = [
  server('frontend-1', 'default', 'node-1', { app: 'frontend' }),
  server('frontend-2', 'default', 'node-2', { app: 'frontend' }),
  server('backend', 'default', 'node-1', { app: 'backend' }),
  server('worker', 'default', 'node-1', { app: 'worker' }),
  server('web', 'default', 'node-2', { role: 'frontend' }),
  server('db', 'default', 'node-3', { role: 'backend' }),
  server('web', 'other', 'node-3', { role: 'frontend' }),
];
const LIVE_NAMESPACES = ['default', 'other'];

describe('flatnet matrix --live on a running 3-node cluster with the seed policies', () => {
  let c: ClusterFixture;
  const dir = manifestDir({
    'namespaces.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n',
    'pods.yaml': LIVE_PODS.join('---\n'),
    'policies.yaml': SEED_BACKEND_POLICY + '---\n' + SEED_ALLOW_FRONTEND_TO_BACKEND,
  });
  const live = async (...extra: string[]): Promise<{ status: number; stdout: string; stderr: string; json?: LiveMatrixComparison }> => {
    const r = await c.flatnet(['matrix', '--live', '--name', c.name, '-n', LIVE_NAMESPACES.join(','), '--port', '8080', '--timeout-ms', '600', '--parallel', '8', ...extra]);
    return { ...r, ...(extra.includes('json') && r.stdout.trim() !== '' ? { json: JSON.parse(r.stdout) as LiveMatrixComparison } : {}) };
  };

  before(async () => {
    c = await upCluster({ nodes: 3 });
    await c.k(['apply', '-f', join(dir, 'namespaces.yaml')]);
    await c.k(['apply', '-f', join(dir, 'pods.yaml')]);
    await waitFor('7 running pods with IPs', async () => {
      const items = (JSON.parse(await c.k(['get', 'pods', '-A', '-o', 'json'])) as { items: Pod[] }).items.filter((p) => LIVE_NAMESPACES.includes(p.metadata.namespace ?? ''));
      return items.length === 7 && items.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
    }, 90_000);
    const t0 = Date.now();
    await c.k(['apply', '-f', join(dir, 'policies.yaml')]);
    await waitEnforced(c, await policyVersions(c, LIVE_NAMESPACES), LIVE_NAMESPACES, t0);
  });
  after(async () => {
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('agrees with the kernel on every cell (exit 0) and its table equals the offline table of the same manifests', async () => {
    const r = await live('-o', 'json');
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout.slice(0, 4000)}`);
    const cmp = r.json ?? assert.fail('no JSON');
    assert.equal(cmp.modelSource, 'live');
    assert.deepEqual(cmp.disagreements, []);
    assert.deepEqual([cmp.cellCount, cmp.agreeCount, cmp.disagreeCount], [49, 49, 0]);
    assert.deepEqual(cmp.onlyInModel, []);
    assert.deepEqual(cmp.onlyInCluster, []);
    const offline = matrixJson(dir, '--port', '8080', '--allow-loopback');
    const verdicts = (cells: { from: string; to: string; allowed: boolean }[]) => Object.fromEntries(cells.map((x) => [`${x.from}>${x.to}`, x.allowed]));
    assert.deepEqual(cmp.model.pods, offline.pods);
    assert.deepEqual(verdicts(cmp.model.cells), verdicts(offline.cells));
    // The kernel's own table says the same: worker and other/web are kept from the backend, web reaches db.
    const kernel = Object.fromEntries(cmp.probe.cells.map((x) => [`${x.from}>${x.to}`, x.result]));
    assert.equal(kernel['default/worker>default/backend'], 'timeout');
    assert.equal(kernel['other/web>default/backend'], 'timeout');
    assert.equal(kernel['default/frontend-2>default/backend'], 'connected');
    assert.equal(kernel['default/web>default/db'], 'connected');
    assert.equal(cmp.marks[cmp.pods.indexOf('default/worker')]?.[cmp.pods.indexOf('default/backend')], 'X');
    assert.equal(cmp.model.deniedCount, 9);
  });

  it('with -f reports the pods found on one side only and exits 1', async () => {
    const partial = manifestDir({
      'all.yaml': [
        ...LIVE_PODS.filter((p) => !p.includes('namespace: other')),
        server('ghost', 'default', 'node-1', { app: 'frontend' }),
        SEED_BACKEND_POLICY, SEED_ALLOW_FRONTEND_TO_BACKEND,
      ].join('---\n'),
    });
    const r = await live('-f', partial, '-o', 'json');
    assert.equal(r.status, 1, r.stderr);
    const cmp = r.json ?? assert.fail('no JSON');
    assert.equal(cmp.modelSource, 'manifests');
    assert.deepEqual(cmp.onlyInModel, ['default/ghost']);
    assert.deepEqual(cmp.onlyInCluster, ['other/web']);
    assert.deepEqual([cmp.cellCount, cmp.disagreeCount], [36, 0]);
    assert.equal(cmp.marks[cmp.pods.indexOf('default/ghost')], '?'.repeat(8));
    const t = await live('-f', partial);
    assert.equal(t.status, 1, t.stderr);
    assert.match(t.stdout, /^36 cells, 36 agree, 0 disagree \(28 not compared/m);
    assert.match(t.stdout, /^\? default\/ghost: in the manifests but not probed/m);
    assert.match(t.stdout, /^\? other\/web: running in the cluster but not in the manifests/m);
  });

  it('reports exactly the cell an extra nft drop rule in one node breaks, and exits 1', async () => {
    const pods = (JSON.parse(await c.k(['get', 'pods', '-n', 'default', '-o', 'json'])) as { items: Pod[] }).items;
    const ip = (name: string) => pods.find((p) => p.metadata.name === name)?.status?.podIP ?? assert.fail(`no IP for ${name}`);
    // frontend-2 (node-2) -> worker (node-1) is allowed by every policy; drop it where it arrives.
    const nodeNs = `fn-${c.name}-node-1`;
    const table = `fnmx-${c.name}`;
    const nft = async (cmd: string) => {
      const r = await run('ip', ['netns', 'exec', nodeNs, 'nft', cmd]);
      assert.equal(r.status, 0, `nft ${cmd}: ${r.stderr}`);
    };
    await nft(`add table ip ${table}`);
    try {
      await nft(`add chain ip ${table} forward { type filter hook forward priority -10; policy accept; }`);
      await nft(`insert rule ip ${table} forward ip saddr ${ip('frontend-2')} ip daddr ${ip('worker')} tcp dport 8080 drop`);
      const t = await live('-o', 'table');
      assert.equal(t.status, 1, `${t.stderr}\n${t.stdout}`);
      const lines = t.stdout.split('\n');
      assert.match(t.stdout, /^49 cells, 48 agree, 1 disagree$/m);
      const gridRows = lines.slice(1, 8);
      assert.deepEqual(gridRows.map((l) => (l.match(/!/g) ?? []).length), [0, 0, 0, 1, 0, 0, 0], t.stdout);
      const bang = lines.filter((l) => l.startsWith('! '));
      assert.equal(bang.length, 1, t.stdout);
      assert.match(bang[0] ?? '', /^! default\/frontend-2 -> default\/worker: model allowed \(.*\); kernel timed out after 600 ms/);
      const j = await live('-f', dir, '-o', 'json');
      assert.equal(j.status, 1, j.stderr);
      const cmp = j.json ?? assert.fail('no JSON');
      assert.deepEqual(cmp.disagreements.map((d) => [d.from, d.to, d.model.allowed, d.kernel.result]), [['default/frontend-2', 'default/worker', true, 'timeout']]);
      assert.deepEqual([cmp.cellCount, cmp.agreeCount], [49, 48]);
    } finally {
      await run('ip', ['netns', 'exec', nodeNs, 'nft', 'delete', 'table', 'ip', table]);
    }
  });
});
