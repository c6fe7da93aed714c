// Checks the OpenAPI documents against the real kubectl binaries, offline: a throwaway plain-HTTP server
// on 127.0.0.1 serves only legacy discovery, /version and /openapi/v3*, and kubectl explain / apply run
// against it. (The real API server will replace this harness; it stays inside this test file.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES, servedGroups, groupVersion } from '../resources.ts';
import { openApiV2Document, openApiV2Protobuf, openApiV3Document, openApiV3Index, OPENAPI_V2_PROTOBUF_TYPE } from './openapi.ts';

// -------------------------------------------------------------------------------------- harness

interface Seen { method: string; url: string; contentType: string; body: string }

const LAST_APPLIED = JSON.stringify({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const LIVE_SERVICE = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '7', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': LAST_APPLIED } },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
};

function discovery(url: string): unknown {
  if (url === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (url === '/apis') {
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: servedGroups().filter((g) => g.group !== '').map((g) => {
        const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
        return { name: g.group, versions, preferredVersion: versions[0] };
      }),
    };
  }
  for (const g of servedGroups()) {
    for (const v of g.versions) {
      const gv = groupVersion({ group: g.group, version: v });
      if (url !== (g.group === '' ? `/api/${v}` : `/apis/${gv}`)) continue;
      const resources = RESOURCES.filter((r) => r.group === g.group && r.version === v).map((r) => ({
        name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind,
        verbs: [...r.verbs], shortNames: [...r.shortNames], categories: [...r.categories],
      }));
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
    }
  }
  return undefined;
}

function handle(req: IncomingMessage, body: string, res: ServerResponse, seen: Seen[]): void {
  const url = req.url ?? '/';
  const path = url.replace(/\?.*$/, '');
  seen.push({ method: req.method ?? '', url, contentType: req.headers['content-type'] ?? '', body });
  const send = (code: number, value: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const notFound = (): void => send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  if (path === '/version') { send(200, { major: '1', minor: '33', gitVersion: 'v1.33.0', gitCommit: 'x', gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.24', compiler: 'gc', platform: 'linux/amd64' }); return; }
  if (path === '/openapi/v2') {
    if ((req.headers.accept ?? '').includes('protobuf')) {
      res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF_TYPE });
      res.end(openApiV2Protobuf());
    } else send(200, openApiV2Document());
    return;
  }
  if (path === '/openapi/v3') { send(200, openApiV3Index()); return; }
  if (path.startsWith('/openapi/v3/')) {
    const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
    if (doc === undefined) notFound(); else send(200, doc);
    return;
  }
  if (path === '/api/v1/namespaces/default/services/web') {
    if (req.method === 'GET') { send(200, LIVE_SERVICE); return; }
    if (req.method === 'PATCH') { send(200, LIVE_SERVICE); return; }
  }
  const doc = req.method === 'GET' ? discovery(path) : undefined;
  if (doc === undefined) notFound(); else send(200, doc);
}

interface Harness { server: Server; url: string; seen: Seen[]; dir: string }

async function startHarness(): Promise<Harness> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res, seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('harness did not bind a TCP port');
  return { server, url: `http://127.0.0.1:${address.port}`, seen, dir: mkdtempSync(join(tmpdir(), 'flatnet-openapi-')) };
}

interface Run { code: number; stdout: string; stderr: string }

function kubectl(binary: string, h: Harness, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(binary, ['--server', h.url, '--cache-dir', join(h.dir, 'cache'), ...args], {
      timeout: 60_000,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: h.dir, KUBECONFIG: '/dev/null', ...env },
    }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];
const BINARIES = VERSIONS.map((v) => ({ version: v, path: join(SDK, `kubectl.${v}`) }));

// ---------------------------------------------------------------------------------------- tests

describe('kubectl against the OpenAPI documents', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => {
    await new Promise<void>((resolve) => h.server.close(() => resolve()));
    rmSync(h.dir, { recursive: true, force: true });
  });

  it('has the kubectl binaries this test drives', () => {
    for (const b of BINARIES) assert.ok(existsSync(b.path), `missing ${b.path}`);
  });

  for (const b of BINARIES) {
    it(`kubectl ${b.version} explain service.spec.ports prints the port fields with our descriptions`, async () => {
      const run = await kubectl(b.path, h, ['explain', 'service.spec.ports']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /KIND:\s+Service/);
      assert.match(run.stdout, /FIELD:\s+ports\s+<\[\]ServicePort>/);
      assert.match(run.stdout, /Ports the service exposes and where each one forwards to\./);
      assert.match(run.stdout, /targetPort\s+<IntOrString>/);
      assert.match(run.stdout, /Port number or named container port on the pods/);
      assert.match(run.stdout, /port\s+<integer> -required-/);
      assert.match(run.stdout, /protocol\s+<string>/);
    });
  }

  it('explains a field nested in a pod template of a named group', async () => {
    const run = await kubectl(BINARIES[BINARIES.length - 1]!.path, h, ['explain', 'deployment.spec.template.spec.containers.ports']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /GROUP:\s+apps/);
    assert.match(run.stdout, /containerPort\s+<integer> -required-/);
    assert.match(run.stdout, /Port number the container listens on\./);
  });

  it('explains every served kind at its top level', async () => {
    const binary = BINARIES[BINARIES.length - 1]!.path;
    for (const r of RESOURCES) {
      const args = ['explain', r.plural, ...(r.group === '' ? [] : [`--api-version=${r.group}/${r.version}`])];
      const run = await kubectl(binary, h, args);
      assert.equal(run.code, 0, `${r.kind}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`KIND:\\s+${r.kind}\\b`), r.kind);
      assert.match(run.stdout, /metadata\s+<ObjectMeta>/, r.kind);
    }
  });

  for (const b of BINARIES) {
    it(`kubectl ${b.version} apply --validate=strict finds server-side field validation in the OpenAPI documents and merges ports by key`, async () => {
      const file = join(h.dir, `svc-${b.version}.yaml`);
      // An unknown field: client-side validation would need /openapi/v2, which this harness does not serve.
      writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  bogusField: 1\n  selector:\n    app: web\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n  - name: https\n    port: 443\n    targetPort: 8443\n');
      const before = h.seen.length;
      const run = await kubectl(b.path, h, ['apply', '--validate=strict', '-f', file], { KUBECTL_OPENAPIV3_PATCH: 'true' });
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /error calculating patch/);
      const seen = h.seen.slice(before);
      assert.ok(seen.some((s) => s.url.startsWith('/openapi/v3/api/v1?hash=')), 'kubectl read the api/v1 document');
      const patch = seen.find((s) => s.method === 'PATCH');
      assert.ok(patch !== undefined, 'kubectl sent a patch');
      assert.equal(patch.contentType, 'application/strategic-merge-patch+json');
      assert.match(patch.url, /fieldValidation=Strict/);
      const body: unknown = JSON.parse(patch.body);
      assert.ok(typeof body === 'object' && body !== null);
      assert.match(patch.body, /\$setElementOrder\/ports/, 'ports merged by key, not replaced');
    });
  }
});
