// The typed `kubectl create ...` subcommands against flatnet. kubectl >= 1.32 sends their bodies as
// Kubernetes protobuf (and does not retry as JSON on 415); kubectl 1.27 sends JSON. Every command must
// store the same object either way, read back with `kubectl get -o json`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, KUBECTL, type ApiFixture } from './support/api-fixture.ts';
import { encodeKubernetesProtobuf } from '../src/api/protobuf/test-encoder.ts';
import type { ConfigMap, Deployment, Ingress, KubeList, Namespace, Pod, Secret, Service, ServiceAccount, Status } from '../src/api/types.ts';

interface Kubectl {
  name: string;
  bin: string;
  /** The Content-Type its typed create commands send. */
  sends: 'application/json' | 'application/vnd.kubernetes.protobuf';
  ns: string;
  nodePort: number;
}

const KUBECTLS: readonly Kubectl[] = [
  { name: 'kubectl 1.27', bin: '/usr/lib/google-cloud-sdk/bin/kubectl.1.27', sends: 'application/json', ns: 'k127', nodePort: 30127 },
  { name: 'kubectl 1.32', bin: '/usr/lib/google-cloud-sdk/bin/kubectl.1.32', sends: 'application/vnd.kubernetes.protobuf', ns: 'k132', nodePort: 30132 },
  { name: 'the default kubectl', bin: KUBECTL, sends: 'application/vnd.kubernetes.protobuf', ns: 'kdefault', nodePort: 30133 },
];


let fx: ApiFixture;
let binFile = '';

before(async () => {
  fx = await startFixture({ storage: 'memory' });
  binFile = join(fx.dataDir, 'blob.bin');
  writeFileSync(binFile, Uint8Array.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0x01]));
  const node = await fx.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'debug-node' } }) });
  assert.equal(node.status, 0, node.stderr);
});
after(async () => {
  await fx?.close();
});

async function run(k: Kubectl, args: string[]): Promise<string> {
  const r = await fx.kubectl(args, { bin: k.bin });
  assert.equal(r.status, 0, `${k.name} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function get<T>(k: Kubectl, what: string[]): Promise<T> {
  return JSON.parse(await run(k, ['-n', k.ns, 'get', ...what, '-o', 'json'])) as T;
}

for (const k of KUBECTLS) {
  describe(`${k.name}: typed create commands`, () => {
    it(`create namespace sends ${k.sends} and the namespace exists`, async () => {
      const r = await fx.kubectl(['create', 'namespace', k.ns, '-v=8'], { bin: k.bin });
      assert.equal(r.status, 0, r.stderr);
      const sent = /Content-Type: (application\/[\w.+-]+)/.exec(r.stderr.slice(r.stderr.indexOf('/api/v1/namespaces')))?.[1];
      assert.equal(sent, k.sends);
      const ns = JSON.parse(await run(k, ['get', 'namespace', k.ns, '-o', 'json'])) as Namespace;
      assert.equal(ns.metadata.name, k.ns);
      assert.equal(ns.status?.phase, 'Active');
    });

    it('create deployment stores two replicas of nginx labelled app=x', async () => {
      await run(k, ['-n', k.ns, 'create', 'deployment', 'x', '--image=nginx', '--replicas=2']);
      const d = await get<Deployment>(k, ['deployment', 'x']);
      assert.equal(d.spec?.replicas, 2);
      assert.deepEqual(d.metadata.labels, { app: 'x' });
      assert.deepEqual(d.spec?.selector.matchLabels, { app: 'x' });
      assert.deepEqual(d.spec?.template.metadata?.labels, { app: 'x' });
      assert.deepEqual(d.spec?.template.spec?.containers.map((c) => [c.name, c.image]), [['nginx', 'nginx']]);
    });

    it('create deployment keeps replicas 0, the container port and the command', async () => {
      await run(k, ['-n', k.ns, 'create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--port=8080', '--', 'sleep', '3600']);
      const d = await get<Deployment>(k, ['deployment', 'idle']);
      assert.equal(d.spec?.replicas, 0);
      const c = d.spec?.template.spec?.containers[0];
      assert.deepEqual(c?.command, ['sleep', '3600']);
      assert.equal(c?.ports?.[0]?.containerPort, 8080);
    });

    it('create configmap stores literal data and a binary file as binaryData', async () => {
      await run(k, ['-n', k.ns, 'create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=k=v', `--from-file=${binFile}`]);
      const cm = await get<ConfigMap>(k, ['configmap', 'c']);
      assert.deepEqual(cm.data, { a: 'b', k: 'v' });
      assert.deepEqual(cm.binaryData, { 'blob.bin': Buffer.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0x01]).toString('base64') });
    });

    it('create secret generic stores the value base64-encoded with type Opaque', async () => {
      await run(k, ['-n', k.ns, 'create', 'secret', 'generic', 's', '--from-literal=a=b']);
      const s = await get<Secret>(k, ['secret', 's']);
      assert.deepEqual(s.data, { a: Buffer.from('b').toString('base64') });
      assert.equal(s.type, 'Opaque');
    });

    it('create secret docker-registry stores a dockerconfigjson naming the registry', async () => {
      await run(k, ['-n', k.ns, 'create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p']);
      const s = await get<Secret>(k, ['secret', 'reg']);
      assert.equal(s.type, 'kubernetes.io/dockerconfigjson');
      const config = JSON.parse(Buffer.from(s.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8')) as { auths: Record<string, { username?: string }> };
      assert.equal(config.auths['registry.example']?.username, 'u');
    });

    it('create service clusterip stores port 80 to target 8080 and gets a cluster IP', async () => {
      await run(k, ['-n', k.ns, 'create', 'service', 'clusterip', 's', '--tcp=80:8080', '--tcp=443:https']);
      const svc = await get<Service>(k, ['service', 's']);
      assert.equal(svc.spec?.type, 'ClusterIP');
      assert.deepEqual(svc.spec?.selector, { app: 's' });
      assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.protocol, p.port, p.targetPort]), [['80-8080', 'TCP', 80, 8080], ['443-https', 'TCP', 443, 'https']]);
      assert.match(svc.spec?.clusterIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    });

    it('create service clusterip --clusterip=None makes a headless service', async () => {
      await run(k, ['-n', k.ns, 'create', 'service', 'clusterip', 'headless', '--clusterip=None']);
      const svc = await get<Service>(k, ['service', 'headless']);
      assert.equal(svc.spec?.clusterIP, 'None');
    });

    it('create service nodeport keeps the requested node port', async () => {
      await run(k, ['-n', k.ns, 'create', 'service', 'nodeport', 'np', '--tcp=80:8080', `--node-port=${k.nodePort}`]);
      const svc = await get<Service>(k, ['service', 'np']);
      assert.equal(svc.spec?.type, 'NodePort');
      assert.equal(svc.spec?.ports?.[0]?.nodePort, k.nodePort);
      assert.equal(svc.spec?.ports?.[0]?.targetPort, 8080);
    });

    it('create service externalname stores the external name', async () => {
      await run(k, ['-n', k.ns, 'create', 'service', 'externalname', 'ext', '--external-name=example.com']);
      const svc = await get<Service>(k, ['service', 'ext']);
      assert.equal(svc.spec?.type, 'ExternalName');
      assert.equal(svc.spec?.externalName, 'example.com');
    });

    it('create serviceaccount stores the service account', async () => {
      await run(k, ['-n', k.ns, 'create', 'serviceaccount', 'robot']);
      const sa = await get<ServiceAccount>(k, ['serviceaccount', 'robot']);
      assert.equal(sa.metadata.name, 'robot');
      assert.equal(sa.metadata.namespace, k.ns);
    });

    it('create ingress stores the class, host, path, path type and backend', async () => {
      await run(k, ['-n', k.ns, 'create', 'ingress', 'ing', '--rule=foo.com/bar=svc1:8080', '--class=nginx']);
      const ing = await get<Ingress>(k, ['ingress', 'ing']);
      assert.equal(ing.spec?.ingressClassName, 'nginx');
      assert.equal(ing.spec?.rules?.[0]?.host, 'foo.com');
      const path = ing.spec?.rules?.[0]?.http?.paths[0];
      assert.deepEqual([path?.path, path?.pathType, path?.backend.service?.name, path?.backend.service?.port?.number], ['/bar', 'Exact', 'svc1', 8080]);
    });

    it('create ingress stores TLS, a named default backend and annotations', async () => {
      await run(k, ['-n', k.ns, 'create', 'ingress', 'ing2', '--rule=foo.com/*=svc1:http,tls=my-cert', '--default-backend=defsvc:http', '--annotation=team=web']);
      const ing = await get<Ingress>(k, ['ingress', 'ing2']);
      assert.deepEqual(ing.spec?.tls, [{ hosts: ['foo.com'], secretName: 'my-cert' }]);
      assert.deepEqual(ing.spec?.defaultBackend, { service: { name: 'defsvc', port: { name: 'http' } } });
      assert.equal(ing.metadata.annotations?.['team'], 'web');
      assert.equal(ing.spec?.rules?.[0]?.http?.paths[0]?.pathType, 'Prefix');
    });

    it('create namespace --dry-run=server answers the object without storing it', async () => {
      const out = JSON.parse(await run(k, ['create', 'namespace', `${k.ns}-dry`, '--dry-run=server', '-o', 'json'])) as Namespace;
      assert.equal(out.metadata.name, `${k.ns}-dry`);
      const r = await fx.kubectl(['get', 'namespace', `${k.ns}-dry`], { bin: k.bin });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /NotFound|not found/);
    });

    it('debug node creates a pod on the node with the host namespaces and the host root mounted', async () => {
      await run(k, ['-n', k.ns, 'debug', 'node/debug-node', '--image=busybox', '--attach=false']);
      const pods = await get<KubeList<Pod>>(k, ['pods']);
      const pod = pods.items.find((p) => String(p.metadata.name).startsWith('node-debugger-debug-node-'));
      assert.ok(pod, 'the debugger pod exists');
      assert.equal(pod.spec?.nodeName, 'debug-node');
      assert.deepEqual([pod.spec?.hostPID, pod.spec?.hostNetwork, pod.spec?.hostIPC], [true, true, true]);
      assert.equal(pod.spec?.volumes?.[0]?.hostPath?.path, '/');
      assert.equal(pod.spec?.containers[0]?.volumeMounts?.[0]?.mountPath, '/host');
    });

    it('expose and delete keep working next to the typed commands', async () => {
      await run(k, ['-n', k.ns, 'expose', 'deployment', 'x', '--port=80', '--target-port=8000']);
      const svc = await get<Service>(k, ['service', 'x']);
      assert.equal(svc.spec?.ports?.[0]?.targetPort, 8000);
      await run(k, ['-n', k.ns, 'delete', 'configmap', 'c']);
      const r = await fx.kubectl(['-n', k.ns, 'get', 'configmap', 'c'], { bin: k.bin });
      assert.notEqual(r.status, 0);
    });
  });
}

/** A raw HTTPS request to the fixture's API server as the admin. */
function send(method: string, path: string, body: Uint8Array, contentType: string): Promise<{ status: number; body: ConfigMap & Partial<Status> }> {
  const url = new URL(path, fx.server.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: fx.server.caCertPem, headers: { Authorization: `Bearer ${fx.server.adminToken}`, 'Content-Type': contentType, 'Content-Length': body.byteLength, Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConfigMap & Partial<Status> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('protobuf bodies on other verbs', () => {
  const PB = 'application/vnd.kubernetes.protobuf';

  it('a protobuf DeleteOptions body with dryRun All deletes nothing', async () => {
    const created = await send('POST', '/api/v1/namespaces/default/configmaps', encodeKubernetesProtobuf('v1', 'ConfigMap', 'core.v1.ConfigMap', { metadata: { name: 'keep' }, data: { a: 'b' } }), PB);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const del = await send('DELETE', '/api/v1/namespaces/default/configmaps/keep', encodeKubernetesProtobuf('v1', 'DeleteOptions', 'meta.v1.DeleteOptions', { dryRun: ['All'] }), PB);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    const r = await fx.kubectl(['-n', 'default', 'get', 'configmap', 'keep', '-o', 'jsonpath={.data.a}']);
    assert.equal(r.stdout, 'b');
  });

  it('a protobuf PUT updates the object', async () => {
    const current = JSON.parse((await fx.kubectl(['-n', 'default', 'get', 'configmap', 'keep', '-o', 'json'])).stdout) as ConfigMap;
    const put = await send('PUT', '/api/v1/namespaces/default/configmaps/keep', encodeKubernetesProtobuf('v1', 'ConfigMap', 'core.v1.ConfigMap',
      { metadata: { name: 'keep', resourceVersion: current.metadata.resourceVersion }, data: { a: 'changed' } }), PB);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data?.['a'], 'changed');
  });

  it('a protobuf body with an unknown field is refused with 400 naming the message and field number', async () => {
    const body = encodeKubernetesProtobuf('v1', 'ConfigMap', 'core.v1.ConfigMap', { metadata: { name: 'odd' } });
    const withUnknown = Uint8Array.from([...body.slice(0, 4), ...body.slice(4), 0x48, 0x01]);
    const r = await send('POST', '/api/v1/namespaces/default/configmaps', withUnknown, PB);
    assert.equal(r.status, 400);
    assert.equal(r.body.reason, 'BadRequest');
    assert.match(String(r.body.message), /runtime\.Unknown has no field number 9/);
  });
});
