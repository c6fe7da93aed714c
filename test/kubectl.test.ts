// The real kubectl against `flatnet server`: the Foundation acceptance list.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, eventually, KUBECTL, type ApiFixture } from './support/api-fixture.ts';

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
  namespace: shop
spec:
  type: ClusterIP
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend
    ports:
    - port: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: nginx-service
            port:
              number: 80
`;

describe('kubectl against flatnet server', () => {
  let fx: ApiFixture;
  let manifestPath: string;
  before(async () => {
    fx = await startFixture();
    manifestPath = join(fx.dataDir, 'shop.yaml');
    writeFileSync(manifestPath, MANIFEST);
  });
  after(async () => {
    await fx.close();
  });

  const ok = async (args: string[], input?: string) => {
    const r = await fx.kubectl(args, input !== undefined ? { input } : undefined);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  it('apply -f of a multi-document manifest creates every object', async () => {
    const out = await ok(['apply', '-f', manifestPath]);
    for (const line of ['namespace/shop created', 'deployment.apps/nginx created', 'service/nginx-service created',
      'networkpolicy.networking.k8s.io/backend-policy created', 'ingress.networking.k8s.io/web created']) {
      assert.match(out, new RegExp(line.replace(/[./]/g, '\\$&')));
    }
  });

  it('get prints the columns kube-apiserver prints for each kind', async () => {
    const svc = await ok(['get', 'svc', 'nginx-service', '-n', 'shop']);
    assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/m);
    assert.match(svc, /^nginx-service\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s/m);
    assert.match(await ok(['get', 'deploy', '-n', 'shop']), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    assert.match(await ok(['get', 'netpol', '-n', 'shop']), /^backend-policy\s+app=backend\s+/m);
    assert.match(await ok(['get', 'ingress', '-n', 'shop']), /^web\s+<none>\s+web\.example\.com\s+80\s+/m);
    assert.match(await ok(['get', 'ns']), /^shop\s+Active\s+/m);
  });

  it('get -o wide adds the priority columns', async () => {
    assert.match(await ok(['get', 'svc', '-n', 'shop', '-o', 'wide']), /SELECTOR[\s\S]*app=nginx/);
    assert.match(await ok(['get', 'deploy', '-n', 'shop', '-o', 'wide']), /CONTAINERS\s+IMAGES\s+SELECTOR[\s\S]*nginx\s+nginx\s+app=nginx/);
  });

  it('get -o yaml and -o jsonpath show the stored, defaulted object', async () => {
    const yaml = await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'yaml']);
    assert.match(yaml, /targetPort: 8080/);
    assert.match(yaml, /sessionAffinity: None/);
    assert.match(yaml, /resourceVersion: "\d+"/);
    const ip = await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.match(ip, /^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    assert.equal(await ok(['get', 'deploy', 'nginx', '-n', 'shop', '-o', 'jsonpath={.spec.strategy.rollingUpdate.maxSurge}']), '25%');
  });

  it('get svc -A lists Services of every namespace including kubernetes', async () => {
    const out = await ok(['get', 'svc', '-A']);
    assert.match(out, /^NAMESPACE\s+NAME\s+TYPE/m);
    assert.match(out, /^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+/m);
    assert.match(out, /^shop\s+nginx-service\s+ClusterIP/m);
  });

  it('describe svc prints the Service details', async () => {
    const out = await ok(['describe', 'svc', 'nginx-service', '-n', 'shop']);
    assert.match(out, /^Name:\s+nginx-service$/m);
    assert.match(out, /^Selector:\s+app=nginx$/m);
    assert.match(out, /^TargetPort:\s+8080\/TCP$/m);
  });

  it('label and annotate change metadata', async () => {
    await ok(['label', 'svc', 'nginx-service', '-n', 'shop', 'tier=web']);
    await ok(['annotate', 'svc', 'nginx-service', '-n', 'shop', 'owner=team-a']);
    assert.equal(await ok(['get', 'svc', '-n', 'shop', '-l', 'tier=web', '-o', 'jsonpath={.items[*].metadata.name}']), 'nginx-service');
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-a');
    await ok(['label', 'svc', 'nginx-service', '-n', 'shop', 'tier-']);
    assert.equal(await ok(['get', 'svc', '-n', 'shop', '-l', 'tier=web', '-o', 'name']), '');
  });

  it('scale deploy goes through the scale subresource', async () => {
    assert.match(await ok(['scale', 'deploy', 'nginx', '-n', 'shop', '--replicas=5']), /deployment.apps\/nginx scaled/);
    assert.equal(await ok(['get', 'deploy', 'nginx', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  it('edit with KUBE_EDITOR patches the object', async () => {
    const editor = join(fx.dataDir, 'editor.sh');
    writeFileSync(editor, "#!/bin/sh\nsed -i 's/sessionAffinity: None/sessionAffinity: ClientIP/' \"$1\"\n");
    chmodSync(editor, 0o755);
    const r = await fx.kubectl(['edit', 'svc', 'nginx-service', '-n', 'shop'], { env: { KUBE_EDITOR: editor } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /service\/nginx-service edited/);
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.spec.sessionAffinity}']), 'ClientIP');
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.spec.sessionAffinityConfig.clientIP.timeoutSeconds}']), '10800');
  });

  it('apply of a changed manifest configures what changed', async () => {
    const changed = MANIFEST.replace('replicas: 3', 'replicas: 2').replace('- port: 80\n    targetPort: 8080', '- port: 80\n    targetPort: 9090');
    const out = await ok(['apply', '-f', '-'], changed);
    assert.match(out, /deployment.apps\/nginx configured/);
    assert.match(out, /service\/nginx-service configured/);
    assert.match(out, /namespace\/shop unchanged/);
    assert.equal(await ok(['get', 'deploy', 'nginx', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}']), '2');
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.spec.ports[*].port}']), '80');
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '-o', 'jsonpath={.spec.ports[0].targetPort}']), '9090');
  });

  it('apply --server-side takes over fields and reports conflicts', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: fast\n';
    assert.match(await ok(['apply', '--server-side', '-f', '-'], cm), /configmap\/settings serverside-applied/);
    const managers = await ok(['get', 'cm', 'settings', '-n', 'shop', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}']);
    assert.match(managers, /kubectl/);
    const conflict = await fx.kubectl(['apply', '--server-side', '--field-manager', 'other', '-f', '-'], { input: cm.replace('fast', 'slow') });
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.stderr, /conflict/i);
    assert.match(await ok(['apply', '--server-side', '--force-conflicts', '--field-manager', 'other', '-f', '-'], cm.replace('fast', 'slow')), /serverside-applied/);
    assert.equal(await ok(['get', 'cm', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.mode}']), 'slow');
  });

  it('explain service.spec.ports prints the field documentation', async () => {
    const out = await ok(['explain', 'service.spec.ports']);
    assert.match(out, /FIELDS?:/);
    assert.match(out, /targetPort/);
    assert.match(out, /nodePort/);
  });

  it('get pods -w prints changes as they happen', async () => {
    const watchesBefore = fx.server.activeWatches();
    const child = spawn(KUBECTL, ['get', 'pods', '-n', 'shop', '-w', '--request-timeout=0'], { env: { ...process.env, KUBECONFIG: fx.server.kubeconfigPath, HOME: fx.dataDir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // The watch is established once the server holds one more watch stream.
      await eventually(() => (fx.server.activeWatches() > watchesBefore ? true : undefined), 10_000, 'kubectl to open its watch');
      const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: watched\n  namespace: shop\nspec:\n  containers:\n  - name: c\n    image: busybox\n';
      await ok(['apply', '-f', '-'], pod);
      await eventually(() => (/watched\s+0\/1\s+Pending/.test(out) ? true : undefined), 10_000, 'the watched pod to be printed');
      await ok(['label', 'pod', 'watched', '-n', 'shop', 'seen=yes']);
      await eventually(() => (out.match(/^watched\s/gm)?.length ?? 0) >= 2 ? true : undefined, 10_000, 'a second line for the modified pod');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('delete -f removes everything in the manifest', async () => {
    const out = await ok(['delete', '-f', manifestPath, '--wait=false']);
    assert.match(out, /deployment.apps "nginx" deleted/);
    assert.match(out, /service "nginx-service" deleted/);
    assert.equal(await ok(['get', 'svc', 'nginx-service', '-n', 'shop', '--ignore-not-found']), '');
  });
});

describe('kubectl rejects invalid input with upstream messages and stores nothing', () => {
  let fx: ApiFixture;
  before(async () => {
    fx = await startFixture({ storage: 'memory' });
  });
  after(async () => {
    await fx.close();
  });

  const cases: { name: string; manifest: string; message: RegExp }[] = [
    {
      name: 'a name that is not a DNS-1123 subdomain',
      manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n',
      message: /The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/,
    },
    {
      name: 'a Service port of 70000',
      manifest: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n  - port: 70000\n',
      // Upstream reports the defaulted targetPort too, as a list.
      message: /The Service "x" is invalid: \n\* spec.ports\[0\].port: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    },
    {
      name: 'an unknown Service type',
      manifest: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-y\nspec:\n  type: Magic\n  ports:\n  - port: 80\n',
      message: /The Service "svc-y" is invalid: spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"/,
    },
    {
      name: 'a Deployment whose selector does not match its template',
      manifest: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: b\n    spec:\n      containers:\n      - name: c\n        image: nginx\n',
      message: /The Deployment "d" is invalid: spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/,
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const before = await fx.server.store.revision();
      const r = await fx.kubectl(['apply', '-f', '-', '--validate=false'], { input: c.manifest });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, c.message);
      assert.equal(await fx.server.store.revision(), before, 'nothing was written');
    });
  }

  it('answers malformed JSON with 400 and writes nothing', async () => {
    const before = await fx.server.store.revision();
    const r = await fx.kubectl(['create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', '-'], { input: '{"apiVersion": "v1", "kind": ' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /BadRequest|400|json parse error/i);
    assert.equal(await fx.server.store.revision(), before);
  });

  it('answers malformed YAML with 400 and writes nothing', async () => {
    const before = await fx.server.store.revision();
    const res = await fetchRaw(fx, 'POST', '/api/v1/namespaces/default/configmaps', 'kind: ConfigMap\nmetadata: [unclosed\n', 'application/yaml');
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body) as { reason: string }).reason, 'BadRequest');
    assert.equal(await fx.server.store.revision(), before);
  });
});

describe('optimistic concurrency and authentication', () => {
  let fx: ApiFixture;
  before(async () => {
    fx = await startFixture({ storage: 'memory' });
  });
  after(async () => {
    await fx.close();
  });

  it('two writers with the same resourceVersion: one wins, one gets 409', async () => {
    const created = await fetchRaw(fx, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'race' }, data: { v: '0' } }));
    assert.equal(created.status, 201);
    const obj = JSON.parse(created.body) as { metadata: { resourceVersion: string } };
    const put = (v: string) => fetchRaw(fx, 'PUT', '/api/v1/namespaces/default/configmaps/race', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'race', resourceVersion: obj.metadata.resourceVersion }, data: { v } }));
    const results = await Promise.all([put('a'), put('b')]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    const loser = results.find((r) => r.status === 409);
    assert.equal((JSON.parse(loser?.body ?? '{}') as { reason?: string }).reason, 'Conflict');
  });

  it('requests without valid credentials are refused and change nothing', async () => {
    const before = await fx.server.store.revision();
    for (const auth of [undefined, 'Bearer not-the-token', `Bearer ${fx.server.adminToken}x`]) {
      for (const [method, path, body] of [['GET', '/api/v1/namespaces', ''], ['GET', '/api', ''], ['POST', '/api/v1/namespaces', '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"evil"}}'], ['DELETE', '/api/v1/namespaces/default', '']] as const) {
        const res = await fetchRaw(fx, method, path, body, 'application/json', auth ?? null);
        assert.equal(res.status, 401, `${method} ${path} with ${auth ?? 'no credentials'}`);
      }
    }
    assert.equal(await fx.server.store.revision(), before);
    const health = await fetchRaw(fx, 'GET', '/healthz', '', 'application/json', null);
    assert.equal(health.status, 200);
  });

  it('a client certificate from the kubeconfig authenticates', async () => {
    const r = await fx.kubectl(['get', 'ns', '--token=', '-o', 'name'], { env: {} });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /namespace\/default/);
  });
});

describe('every installed kubectl version works against flatnet', () => {
  let fx: ApiFixture;
  before(async () => {
    fx = await startFixture({ storage: 'memory' });
  });
  after(async () => {
    await fx.close();
  });
  const dir = '/usr/lib/google-cloud-sdk/bin';
  const versions = readdirSync(dir).filter((f) => /^kubectl\.1\.\d+$/.test(f)).sort();
  it('finds the installed kubectl versions', async () => {
    assert.ok(versions.length >= 1, 'no versioned kubectl binaries found');
  });
  for (const v of versions) {
    it(`${v} applies, gets and explains`, async () => {
      const bin = join(dir, v);
      const name = `cm-${v.replace(/\./g, '-')}`;
      const apply = await fx.kubectl(['apply', '-f', '-'], { bin, input: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: b\n` });
      assert.equal(apply.status, 0, apply.stderr);
      const get = await fx.kubectl(['get', 'cm', name], { bin });
      assert.equal(get.status, 0, get.stderr);
      assert.match(get.stdout, new RegExp(`^${name}\\s+1\\s+`, 'm'));
      const explain = await fx.kubectl(['explain', 'pods.spec.containers.ports'], { bin });
      assert.equal(explain.status, 0, explain.stderr);
      assert.match(explain.stdout, /containerPort/);
    });
  }
});

async function fetchRaw(fx: ApiFixture, method: string, path: string, body: string, contentType = 'application/json', auth: string | null = `Bearer ${fx.server.adminToken}`): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (auth !== null) headers['Authorization'] = auth;
    const req = request(fx.server.url + path, { method, headers, ca: fx.server.caCertPem }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export { fetchRaw };
