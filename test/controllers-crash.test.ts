// Issue "Controllers": kill -9 of `flatnet server` (API server + controllers in one process) while Services
// are being allocated, then a restart on the same data directory: the ClusterIP, NodePort and LoadBalancer
// pools come back consistent with the stored Services. Small pools make "no leak" exact: after the restart
// the pools fill up to precisely their capacity, counting the Services that survived.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiError } from '../src/api/errors.ts';
import type { Event, Service } from '../src/api/types.ts';
import { KubeClient } from '../src/client/kube-client.ts';
import { RESOURCE } from '../src/controllers/runtime.ts';
import { eventually } from './support/api-fixture.ts';

const root = resolve(import.meta.dirname, '..');
const SERVER_ARGS = ['--port', '0', '--service-cidr', '10.96.0.0/24', '--node-port-range', '30000-30099', '--lb-pool', '10.255.255.0/28'];
const CLUSTER_IPS = 254; // a /24 without network and broadcast
const NODE_PORTS = 100;
const LB_IPS = 14; // a /28 without network and broadcast

async function startServer(dataDir: string): Promise<{ child: ChildProcess; client: KubeClient }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(root, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, ...SERVER_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((res, rej) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => rej(new Error(`server did not start: ${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(buf.slice(0, nl));
      }
    });
    child.on('exit', (code) => rej(new Error(`server exited with ${code}: ${err}`)));
  });
  const { kubeconfig } = JSON.parse(line) as { kubeconfig: string };
  return { child, client: KubeClient.fromKubeconfig(kubeconfig, undefined, { requestTimeoutMs: 5000 }) };
}

const svc = (name: string, type: 'ClusterIP' | 'NodePort' | 'LoadBalancer'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});

/** Creates Services one by one until the server says a range is full; returns how many were created. */
async function fill(client: KubeClient, prefix: string, type: 'ClusterIP' | 'NodePort', limit: number): Promise<{ created: number; error: ApiError }> {
  for (let i = 0; i < limit; i++) {
    try {
      await client.create(RESOURCE.services, 'default', svc(`${prefix}-${i}`, type));
    } catch (e) {
      if (e instanceof ApiError) return { created: i, error: e };
      throw e;
    }
  }
  throw new Error(`${prefix}: no range was full after ${limit} Services`);
}

describe('controllers: Service pools across kill -9 of flatnet server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-ctl-crash-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('repairs the ClusterIP, NodePort and LoadBalancer pools from the stored Services after a crash mid-allocation', { timeout: 180_000 }, async () => {
    const first = await startServer(dataDir);
    children.push(first.child);
    let acked = 0;
    let killed = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 10 && !killed; i++) {
        try {
          await first.client.create(RESOURCE.services, 'default', svc(`lb-${w}-${i}`, 'LoadBalancer'));
          acked++;
        } catch {
          // The server is gone: the write may or may not have been stored.
        }
      }
    });
    const deadline = Date.now() + 20_000;
    while (acked < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    first.client.close();
    assert.ok(acked >= 30, `only ${acked} Services acknowledged before the kill`);

    const second = await startServer(dataDir);
    children.push(second.child);
    const client = second.client;
    try {
      const stored = (await client.listAll<Service>(RESOURCE.services, 'default')).items;
      const lbs = stored.filter((s) => s.spec?.type === 'LoadBalancer');
      assert.ok(lbs.length >= acked, 'every acknowledged Service survived');
      const ips = stored.map((s) => s.spec?.clusterIP);
      assert.equal(new Set(ips).size, stored.length, 'ClusterIPs distinct');
      const ports = lbs.map((s) => s.spec?.ports?.[0]?.nodePort);
      assert.equal(new Set(ports).size, lbs.length, 'node ports distinct');

      // LoadBalancer: the pool of 14 is rebuilt from status; every address is held once, the rest wait.
      const withIP = await eventually(async () => {
        const now = (await client.listAll<Service>(RESOURCE.services, 'default')).items.filter((s) => s.spec?.type === 'LoadBalancer');
        const got = now.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).filter((ip): ip is string => ip !== undefined);
        return got.length === Math.min(LB_IPS, now.length) ? got : undefined;
      }, 20_000, 'the LoadBalancer pool to be handed out');
      assert.equal(new Set(withIP).size, withIP.length, 'LoadBalancer IPs distinct');
      if (lbs.length > LB_IPS) {
        const waiting = await eventually(async () => (await client.listAll<Event>(RESOURCE.events, 'default')).items
          .find((e) => e.reason === 'AllocationFailed' && /no available IPs/.test(e.message ?? '')), 10_000, 'an AllocationFailed event');
        assert.equal(waiting.type, 'Warning');
        const current = (await client.listAll<Service>(RESOURCE.services, 'default')).items;
        const victim = current.find((s) => s.status?.loadBalancer?.ingress?.[0]?.ip !== undefined);
        assert.ok(victim !== undefined);
        const freed = victim.status?.loadBalancer?.ingress?.[0]?.ip;
        await client.delete(RESOURCE.services, 'default', victim.metadata.name ?? '');
        const taker = await eventually(async () => (await client.listAll<Service>(RESOURCE.services, 'default')).items
          .find((s) => s.status?.loadBalancer?.ingress?.[0]?.ip === freed), 10_000, 'a waiting Service to get the freed address');
        assert.notEqual(taker.metadata.name, victim.metadata.name);
      }

      // Node ports: NodePort Services fit until exactly the range's capacity is in use.
      const before = (await client.listAll<Service>(RESOURCE.services, 'default')).items;
      const heldPorts = before.flatMap((s) => (s.spec?.ports ?? []).map((p) => p.nodePort ?? 0)).filter((p) => p > 0).length;
      const np = await fill(client, 'np', 'NodePort', NODE_PORTS + 10);
      assert.match(np.error.message, /range is full/);
      assert.equal(heldPorts + np.created, NODE_PORTS, 'no node port leaked');

      // ClusterIPs: the same, counting the kubernetes Service too.
      const held = (await client.listAll<Service>(RESOURCE.services, undefined)).items.filter((s) => s.spec?.clusterIP && s.spec.clusterIP !== 'None').length;
      const cip = await fill(client, 'cip', 'ClusterIP', CLUSTER_IPS + 10);
      assert.match(cip.error.message, /range is full/);
      assert.equal(held + cip.created, CLUSTER_IPS, 'no ClusterIP leaked');
    } finally {
      client.close();
      second.child.kill('SIGTERM');
    }
  });
});
