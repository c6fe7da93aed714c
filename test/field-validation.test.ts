// Server-side field validation against the real kubectl and raw requests: fieldValidation=Strict rejects
// unknown and duplicated fields with upstream's messages, Warn answers with Warning headers, Ignore says
// nothing; server-side apply always rejects undeclared fields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { startFixture, KUBECTL, type ApiFixture } from './support/api-fixture.ts';

const KUBECTL_1_27 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const KUBECTLS: readonly { name: string; bin: string }[] = [
  { name: 'kubectl 1.27', bin: KUBECTL_1_27 },
  { name: 'the default kubectl', bin: KUBECTL },
];

const serviceYaml = (name: string, portLine = 'portz: 8080') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: web
  ports:
  - port: 80
    ${portLine}
`;

interface RawResponse {
  status: number;
  body: string;
  warnings: string[];
}

function raw(fx: ApiFixture, method: string, path: string, body: string, contentType = 'application/json'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(fx.server.url + path, { method, headers: { 'Content-Type': contentType, Authorization: `Bearer ${fx.server.adminToken}` }, ca: fx.server.caCertPem }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => {
        const warnings: string[] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]?.toLowerCase() === 'warning') warnings.push(res.rawHeaders[i + 1] ?? '');
        resolve({ status: res.statusCode ?? 0, body: data, warnings });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const messageOf = (r: RawResponse): string => (JSON.parse(r.body) as { message?: string }).message ?? '';

describe('server-side field validation', () => {
  let fx: ApiFixture;
  before(async () => {
    fx = await startFixture({ storage: 'memory' });
  });
  after(async () => {
    await fx.close();
  });

  const exists = async (name: string): Promise<boolean> => (await fx.kubectl(['get', 'service', name, '-o', 'name'])).status === 0;

  for (const k of KUBECTLS) {
    const prefix = k.bin === KUBECTL ? 'd' : 'k127';
    it(`${k.name}: apply of a Service with an unknown field fails with the strict decoding error and stores nothing`, async () => {
      const r = await fx.kubectl(['apply', '-f', '-'], { input: serviceYaml(`${prefix}-strict`), bin: k.bin });
      assert.equal(r.status, 1, r.stdout);
      assert.equal(r.stderr, 'Error from server (BadRequest): error when creating "STDIN": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].portz"\n');
      assert.equal(await exists(`${prefix}-strict`), false);
    });

    it(`${k.name}: apply --validate=warn creates the Service and prints the warning`, async () => {
      const r = await fx.kubectl(['apply', '--validate=warn', '-f', '-'], { input: serviceYaml(`${prefix}-warn`), bin: k.bin });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, 'Warning: unknown field "spec.ports[0].portz"\n');
      const stored = await fx.kubectl(['get', 'service', `${prefix}-warn`, '-o', 'jsonpath={.spec.ports[0]}']);
      assert.equal(stored.status, 0, stored.stderr);
      assert.deepEqual(Object.keys(JSON.parse(stored.stdout) as object).sort(), ['port', 'protocol', 'targetPort'], 'the unknown field is dropped, as upstream decodes');
    });

    it(`${k.name}: apply --validate=false creates the Service silently`, async () => {
      const r = await fx.kubectl(['apply', '--validate=false', '-f', '-'], { input: serviceYaml(`${prefix}-ignore`), bin: k.bin });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(await exists(`${prefix}-ignore`), true);
    });

    it(`${k.name}: apply --server-side with an unknown field fails and stores nothing`, async () => {
      const r = await fx.kubectl(['apply', '--server-side', '-f', '-'], { input: serviceYaml(`${prefix}-ssa`), bin: k.bin });
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /failed to create typed patch object \(default\/[a-z0-9-]+-ssa; \/v1, Kind=Service\): \.spec\.ports\[port=80,protocol="TCP"\]\.portz: field not declared in schema/);
      assert.equal(await exists(`${prefix}-ssa`), false);
    });

    it(`${k.name}: apply of an unknown field to an existing Service fails as an invalid patch and changes nothing`, async () => {
      const name = `${prefix}-patch`;
      const created = await fx.kubectl(['apply', '-f', '-'], { input: serviceYaml(name, 'targetPort: 8080'), bin: k.bin });
      assert.equal(created.status, 0, created.stderr);
      const before = (await fx.kubectl(['get', 'service', name, '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
      const r = await fx.kubectl(['apply', '-f', '-'], { input: serviceYaml(name, 'portz: 8080'), bin: k.bin });
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /^The request is invalid: patch: Invalid value: "map\[.*\]": strict decoding error: unknown field "spec\.ports\[0\]\.portz"\n$/s);
      const afterRv = (await fx.kubectl(['get', 'service', name, '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
      assert.equal(afterRv, before);
    });
  }

  it('objects as the server returns them replace cleanly under Strict', async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roundtrip
spec:
  replicas: 2
  selector:
    matchLabels: {app: rt}
  template:
    metadata:
      labels: {app: rt}
    spec:
      containers:
      - name: c
        image: nginx
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {port: 80}}
        resources: {limits: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: roundtrip
spec:
  type: NodePort
  selector: {app: rt}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: roundtrip
data: {a: b}
---
apiVersion: v1
kind: Pod
metadata:
  name: roundtrip
spec:
  containers: [{name: c, image: busybox, command: [sleep, "1"]}]
`;
    const created = await fx.kubectl(['apply', '-f', '-'], { input: manifest });
    assert.equal(created.status, 0, created.stderr);
    for (const what of ['deployment/roundtrip', 'service/roundtrip', 'configmap/roundtrip', 'pod/roundtrip', 'namespace/default', 'service/kubernetes']) {
      const got = await fx.kubectl(['get', what, '-o', 'json']);
      assert.equal(got.status, 0, got.stderr);
      const replaced = await fx.kubectl(['replace', '--validate=strict', '-f', '-'], { input: got.stdout });
      assert.equal(replaced.status, 0, `${what}: ${replaced.stderr}`);
      assert.equal(replaced.stderr, '', what);
    }
  });

  describe('raw requests', () => {
    const path = '/api/v1/namespaces/default/services';
    const body = (name: string) => `{"apiVersion":"v1","kind":"Service","metadata":{"name":"${name}","name":"${name}"},"spec":{"portz":1,"ports":[{"port":80,"protocol":"TCP","protocol":"TCP"}]}}`;
    const violations = ['duplicate field "metadata.name"', 'unknown field "spec.portz"', 'duplicate field "spec.ports[0].protocol"'];

    it('Strict rejects a JSON body with every violation in document order', async () => {
      const r = await raw(fx, 'POST', `${path}?fieldValidation=Strict`, body('raw-strict'));
      assert.equal(r.status, 400);
      assert.equal(messageOf(r), `Service in version "v1" cannot be handled as a Service: strict decoding error: ${violations.join(', ')}`);
    });

    for (const [label, query] of [['Warn', '?fieldValidation=Warn'], ['no directive (Warn is the default)', '']] as const) {
      it(`${label} creates the object and sends one Warning header per violation`, async () => {
        const name = `raw-warn${query === '' ? '-default' : ''}`;
        const r = await raw(fx, 'POST', `${path}${query}`, body(name));
        assert.equal(r.status, 201, r.body);
        assert.deepEqual(r.warnings, violations.map((v) => `299 - "${v.replace(/"/g, '\\"')}"`));
      });
    }

    it('Ignore creates the object without warnings', async () => {
      const r = await raw(fx, 'POST', `${path}?fieldValidation=Ignore`, body('raw-ignore'));
      assert.equal(r.status, 201, r.body);
      assert.deepEqual(r.warnings, []);
    });

    it('an unknown directive is refused before anything is written', async () => {
      const r = await raw(fx, 'POST', `${path}?fieldValidation=strict`, body('raw-bad-directive'));
      assert.equal(r.status, 422);
      assert.equal(messageOf(r), 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
      assert.equal(await exists('raw-bad-directive'), false);
    });

    it('a YAML body reports repeated keys with their lines, then unknown fields', async () => {
      const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: raw-yaml\n  name: raw-yaml\nspec:\n  portz: 1\n  ports:\n  - port: 80\n';
      const strict = await raw(fx, 'POST', `${path}?fieldValidation=Strict`, yaml, 'application/yaml');
      assert.equal(strict.status, 400);
      assert.equal(messageOf(strict), 'Service in version "v1" cannot be handled as a Service: strict decoding error: yaml: unmarshal errors:\n  line 5: key "name" already set in map, unknown field "spec.portz"');
      const warn = await raw(fx, 'POST', `${path}?fieldValidation=Warn`, yaml, 'application/yaml');
      assert.equal(warn.status, 201, warn.body);
      assert.deepEqual(warn.warnings, ['299 - "line 5: key \\"name\\" already set in map"', '299 - "unknown field \\"spec.portz\\""']);
    });

    it('an update checks its body like a create', async () => {
      const got = await raw(fx, 'GET', `${path}/raw-ignore`, '');
      const obj = JSON.parse(got.body) as Record<string, unknown>;
      const text = JSON.stringify({ ...obj, spex: {} });
      const r = await raw(fx, 'PUT', `${path}/raw-ignore?fieldValidation=Strict`, text);
      assert.equal(r.status, 400);
      assert.equal(messageOf(r), 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spex"');
    });

    it('a json patch reports unknown operation fields and the fields it adds', async () => {
      const patch = '[{"op":"add","path":"/spec/foo","value":1,"extra":true}]';
      const r = await raw(fx, 'PATCH', `${path}/raw-ignore?fieldValidation=Warn`, patch, 'application/json-patch+json');
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as { spec: Record<string, unknown> }).spec['foo'], undefined, 'the added unknown field is not stored');
      assert.deepEqual(r.warnings, ['299 - "json patch unknown field \\"[0].extra\\""', '299 - "unknown field \\"spec.foo\\""']);
      const strict = await raw(fx, 'PATCH', `${path}/raw-ignore?fieldValidation=Strict`, '[{"op":"add","path":"/spec/bar","value":1}]', 'application/json-patch+json');
      assert.equal(strict.status, 422);
      assert.match(messageOf(strict), /^ "" is invalid: patch: Invalid value: "\{.*\}": strict decoding error: unknown field "spec\.bar"$/s);
    });

    it('a merge patch reports its repeated keys', async () => {
      const r = await raw(fx, 'PATCH', `${path}/raw-ignore?fieldValidation=Strict`, '{"metadata":{"labels":{"a":"1","a":"2"}}}', 'application/merge-patch+json');
      assert.equal(r.status, 422);
      assert.match(messageOf(r), /strict decoding error: duplicate field "metadata\.labels\.a"$/);
    });

    it('server-side apply reports repeated keys of its configuration as YAML errors', async () => {
      const config = '{\n"apiVersion": "v1",\n"kind": "Service",\n"metadata": {"name": "raw-apply"},\n"spec": {"ports": [{"port": 80}],\n"type": "ClusterIP",\n"type": "ClusterIP"}\n}';
      const applyPath = `${path}/raw-apply?fieldManager=test`;
      const strict = await raw(fx, 'PATCH', `${applyPath}&fieldValidation=Strict`, config, 'application/apply-patch+yaml');
      assert.equal(strict.status, 400);
      assert.equal(messageOf(strict), 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key "type" already set in map');
      assert.equal(await exists('raw-apply'), false);
      const warn = await raw(fx, 'PATCH', `${applyPath}&fieldValidation=Warn`, config, 'application/apply-patch+yaml');
      assert.ok(warn.status === 200 || warn.status === 201, warn.body);
      assert.deepEqual(warn.warnings, ['299 - "line 7: key \\"type\\" already set in map"']);
    });

    it('server-side apply rejects undeclared fields even under Ignore', async () => {
      const config = '{"apiVersion":"v1","kind":"Service","metadata":{"name":"raw-apply-unknown"},"spec":{"ports":[{"port":80}],"portz":1}}';
      const r = await raw(fx, 'PATCH', `${path}/raw-apply-unknown?fieldManager=test&fieldValidation=Ignore`, config, 'application/apply-patch+yaml');
      assert.equal(r.status, 500);
      assert.equal(messageOf(r), 'failed to create typed patch object (default/raw-apply-unknown; /v1, Kind=Service): .spec.portz: field not declared in schema');
    });
  });
});
