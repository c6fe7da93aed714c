// `flatnet matrix` end to end: the real CLI (bin/flatnet) on manifests written to a temporary directory, with
// the two NetworkPolicy examples of the seed material — backend-policy (only app=frontend reaches app=backend,
// on 8080) and allow-frontend-to-backend (only role=frontend reaches role=backend, any port).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
