// The DNS program (src/dns/main.ts, its own process) fed by the real flatnet API server: ready only after
// its informers sync, then Services, EndpointSlices and Pods created through the API become records, and
// changes and deletes follow incrementally. Upstream: a static zone on 127.0.0.2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { EndpointSlice, Service } from '../api/types.ts';
import { startTestCluster } from '../client/test-cluster.ts';
import type { TestCluster } from '../client/test-cluster.ts';
import { SERVICE_NAME_LABEL } from './core/cluster-zone.ts';
import { StaticZone } from './core/static-zone.ts';
import { DnsServer } from './dns-server.ts';

function mustResource(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  if (r === undefined) throw new Error(`no resource ${plural}`);
  return r;
}
const services = mustResource('', 'services');
const endpointslices = mustResource('discovery.k8s.io', 'endpointslices');

function digShort(port: number, args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', '+short', ...args], { timeout: 15_000 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      resolve(stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';')).sort());
    });
  });
}

async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await delay(100);
  }
}

describe('dns program against the API server', () => {
  let cluster: TestCluster;
  let child: ChildProcess;
  let dnsPort = 0;
  let metricsPort = 0;
  const upstream = new DnsServer({ authority: new StaticZone({ origin: 'example.test', records: [{ name: 'www.example.test', ttl: 60, data: { type: 'A', address: '192.0.2.80' } }] }), host: '127.0.0.2', port: 0 });

  before(async () => {
    cluster = await startTestCluster();
    const up = await upstream.start();
    child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(import.meta.dirname, 'main.ts'),
      '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--kubeconfig', cluster.server.kubeconfigPath, '--upstream', `127.0.0.2:${up.port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`dns exited ${code}`)));
    });
    const info = JSON.parse(line) as { dns: string; metrics: number };
    dnsPort = Number(info.dns.split(':').at(-1));
    metricsPort = info.metrics;
  });

  after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await upstream.stop();
    await cluster.stop();
  });

  it('becomes ready once synced and answers the kubernetes Service', async () => {
    await eventually(async () => (await fetch(`http://127.0.0.1:${metricsPort}/ready`)).status, (s) => s === 200, '/ready');
    const ips = await eventually(() => digShort(dnsPort, ['kubernetes.default.svc.cluster.local', 'A']), (v) => v.length === 1, 'kubernetes A');
    assert.match(ips[0] ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  });

  it('follows a Service and its EndpointSlices created, changed and deleted through the API', async () => {
    const svc = await cluster.client.create<Service>(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }] } });
    const clusterIP = svc.spec?.clusterIP ?? '';
    assert.deepEqual(await eventually(() => digShort(dnsPort, ['web.default.svc.cluster.local', 'A']), (v) => v.length === 1, 'web A'), [clusterIP]);
    assert.deepEqual(await digShort(dnsPort, ['_http._tcp.web.default.svc.cluster.local', 'SRV']), ['0 100 80 web.default.svc.cluster.local.']);

    await cluster.client.create<Service>(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    const es: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-manual', labels: { [SERVICE_NAME_LABEL]: 'db' } }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.5'], hostname: 'db-0', conditions: { ready: true } }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    };
    const created = await cluster.client.create<EndpointSlice>(endpointslices, 'default', es);
    assert.deepEqual(await eventually(() => digShort(dnsPort, ['db-0.db.default.svc.cluster.local', 'A']), (v) => v.length === 1, 'db-0 A'), ['10.244.0.5']);
    await cluster.client.update<EndpointSlice>(endpointslices, 'default', { ...created, endpoints: [...(created.endpoints ?? []), { addresses: ['10.244.0.6'], conditions: { ready: true } }] });
    assert.deepEqual(await eventually(() => digShort(dnsPort, ['db.default.svc.cluster.local', 'A']), (v) => v.length === 2, 'two db endpoints'), ['10.244.0.5', '10.244.0.6']);

    await cluster.client.delete(services, 'default', 'web');
    await eventually(() => digShort(dnsPort, ['web.default.svc.cluster.local', 'A']), (v) => v.length === 0, 'web gone');
  });

  it('forwards other names to the configured upstream', async () => {
    assert.deepEqual(await digShort(dnsPort, ['www.example.test', 'A']), ['192.0.2.80']);
  });
});
