// The controller against the real flatnet API server (in-process), with a real local backend behind a
// hand-made EndpointSlice, and the proxy serving what the controller builds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { Event, Ingress } from '../api/types.ts';
import { KubeClient } from '../client/kube-client.ts';
import { eventually, startFixture } from '../../test/support/api-fixture.ts';
import type { ApiFixture } from '../../test/support/api-fixture.ts';
import { generateSelfSigned } from './certs.ts';
import { IngressController } from './controller.ts';
import { IngressProxy } from './proxy.ts';
import { hostAddress, httpGet, ingressClass, makeIngress, serviceFor, startEchoBackend } from './test-support.ts';
import type { EchoBackend, EchoReply } from './test-support.ts';

function res(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  assert.ok(r, plural);
  return r;
}
const R = {
  ingresses: res('networking.k8s.io', 'ingresses'), classes: res('networking.k8s.io', 'ingressclasses'), services: res('', 'services'),
  slices: res('discovery.k8s.io', 'endpointslices'), events: res('', 'events'),
};

function stripForCreate(o: Ingress): Ingress {
  const copy = structuredClone(o);
  delete copy.metadata.uid;
  delete copy.metadata.creationTimestamp;
  delete copy.metadata.resourceVersion;
  return copy;
}

describe('the ingress controller with the real API server', () => {
  let fixture: ApiFixture;
  let client: KubeClient;
  let backend: EchoBackend;
  let proxy: IngressProxy;
  let controller: IngressController;
  let httpPort = 0;

  before(async () => {
    fixture = await startFixture({ storage: 'memory' });
    client = KubeClient.fromKubeconfig(fixture.server.kubeconfigPath, undefined, { requestTimeoutMs: 10_000 });
    const ip = hostAddress();
    backend = await startEchoBackend('WEB', 0, ip);
    const web = serviceFor('web', [backend.port], 'default', ip);
    await client.create(R.classes, undefined, ingressClass('flatnet'));
    await client.create(R.services, 'default', web.service);
    for (const s of web.slices) await client.create(R.slices, 'default', s);
    await client.create(R.ingresses, 'default', stripForCreate(makeIngress('web', { rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] })));
    await client.create(R.ingresses, 'default', stripForCreate(makeIngress('broken', { rules: [{ host: 'broken.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'nope', port: { number: 80 } } } }] } }] })));
    proxy = new IngressProxy({ defaultCertificate: await generateSelfSigned('flatnet-default') });
    controller = new IngressController({ client, proxy, loadBalancer: [{ ip: '192.0.2.50' }], debounceMs: 10, log: () => {} });
    await controller.start(10_000);
    httpPort = (await proxy.listen({ host: '127.0.0.1', httpPort: 0, httpsPort: null })).httpPort ?? 0;
  });

  after(async () => {
    await controller?.stop();
    await proxy?.close(500);
    await backend?.kill();
    client?.close();
    await fixture?.close();
  });

  it('routes a request through the proxy to the Service\'s hand-made endpoint', async () => {
    const r = await httpGet(httpPort, '/hello', 'web.example.com');
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as EchoReply).server, 'WEB');
  });

  it('writes status.loadBalancer on the claimed Ingresses', async () => {
    const ip = await eventually(async () => (await client.get<Ingress>(R.ingresses, 'default', 'web')).status?.loadBalancer?.ingress?.[0]?.ip, 10_000, 'status.loadBalancer');
    assert.equal(ip, '192.0.2.50');
  });

  it('records a Warning Event on an Ingress whose Service is missing, once, and answers 503', async () => {
    const ev = await eventually(async () => (await client.list<Event>(R.events, 'default')).items.find((e) => e.involvedObject.name === 'broken' && e.reason === 'ServiceNotFound'), 10_000, 'the warning event');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.involvedObject.kind, 'Ingress');
    assert.match(ev.message ?? '', /Service default\/nope not found/);
    const r = await httpGet(httpPort, '/', 'broken.example.com');
    assert.equal(r.status, 503);
    await controller.sync();
    const count = (await client.list<Event>(R.events, 'default')).items.filter((e) => e.involvedObject.name === 'broken' && e.reason === 'ServiceNotFound').length;
    assert.equal(count, 1);
  });

  it('follows changes: a deleted EndpointSlice turns the route into a 503', async () => {
    await client.delete(R.slices, 'default', 'web-0');
    const r = await eventually(async () => {
      const x = await httpGet(httpPort, '/', 'web.example.com');
      return x.status === 503 ? x : undefined;
    }, 10_000, 'a 503 after the slice is gone');
    assert.match(r.body, /no ready endpoints/);
  });

  it('the program entry serves Ingresses with --kubeconfig and ephemeral ports', async () => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', new URL('./main.ts', import.meta.url).pathname,
      '--kubeconfig', fixture.server.kubeconfigPath, '--listen', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--lb-address', '192.0.2.51'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`main.ts did not start: ${err}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out.slice(0, out.indexOf('\n')));
          }
        });
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (c) => reject(new Error(`main.ts exited ${c}: ${err}`)));
      });
      const ports = JSON.parse(line) as { httpPort: number; httpsPort: number };
      assert.ok(ports.httpsPort > 0);
      const r = await httpGet(ports.httpPort, '/', 'broken.example.com');
      assert.equal(r.status, 503);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
