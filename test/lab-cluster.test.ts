// The lab, end to end on the real kernel (issue "The lab"): `flatnet up` with both routing backends, pods as
// network namespaces wired by CNI, the seeds' flows (container-to-container over localhost, pod-to-pod on
// one node and across nodes, node-to-pod, no NAT), the interfaces the seeds name, the runtime's states, and
// a `flatnet down` that leaves nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run, upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';

const WORKLOAD = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx
        env:
        - name: NGINX_PORT
          value: "8080"
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet:
            path: /
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  nodeName: node-1
  containers:
  - name: shell
    image: nicolaka/netshoot
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  containers:
  - name: api
    image: hashicorp/http-echo
    args: ["-listen=:5000", "-text=hello from the api container"]
  - name: sidecar
    image: busybox
    command: ["sh", "-c", "while true; do wget -qO- http://localhost:5000/; sleep 1; done"]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-and-sidecar
spec:
  containers:
  - name: nginx
    image: nginx
  - name: sidecar
    image: busybox
    command: ["sh", "-c", "while true; do wget -qO- http://localhost:80/ | grep -o 'Welcome to nginx'; sleep 1; done"]
`;

interface PodInfo { name: string; ip: string; node: string; ready: boolean }

async function pods(c: ClusterFixture, selector?: string): Promise<PodInfo[]> {
  const out = await c.k(['get', 'pods', ...(selector ? ['-l', selector] : []), '-o', 'json']);
  const list = JSON.parse(out) as { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[] };
  return list.items.map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '', ready: p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false }));
}

for (const backend of ['host-gw', 'vxlan'] as const) {
  describe(`a 3-node cluster with ${backend} routing`, () => {
    let c: ClusterFixture;
    let web: PodInfo[];
    let client: PodInfo;
    before(async () => {
      c = await upCluster({ backend });
      await c.k(['apply', '-f', '-'], WORKLOAD);
      web = await waitFor('3 ready web pods', async () => {
        const ps = await pods(c, 'app=web');
        return ps.length === 3 && ps.every((p) => p.ready && p.ip) ? ps : undefined;
      }, 60_000);
      client = await waitFor('the client pod', async () => (await pods(c)).find((p) => p.name === 'client' && p.ready && p.ip), 60_000);
    });
    after(async () => {
      if (c) {
        const r = await c.down();
        assert.equal(r.status, 0, r.stderr);
      }
    });

    it('spreads the web pods over the nodes (next to the system pods), each IP inside its node\'s Pod CIDR', async () => {
      assert.ok(new Set(web.map((p) => p.node)).size >= 2, `web pods on ${web.map((p) => p.node).join(', ')}`);
      const nodes = JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] };
      for (const p of web) {
        const cidr = nodes.items.find((n) => n.metadata.name === p.node)?.spec.podCIDR ?? '';
        assert.equal(p.ip.split('.').slice(0, 3).join('.'), cidr.split('.').slice(0, 3).join('.'), `${p.name} ${p.ip} in ${cidr}`);
      }
    });

    it('reaches pods on the same node and across nodes by pod IP, and the peer sees the client\'s own pod IP', async () => {
      for (const target of web) {
        const out = await c.k(['exec', 'client', '--', 'curl', '-s', '-m', '5', `http://${target.ip}:8080/`]);
        assert.match(out, /Welcome to nginx!/, `client on node-1 -> ${target.name} on ${target.node}`);
        const log = await c.k(['logs', target.name]);
        assert.match(log, new RegExp(`^${client.ip.replace(/\./g, '\\.')} `, 'm'), `${target.name} logged the client's pod IP (no NAT)`);
      }
    });

    it('reaches pods from a node without NAT', async () => {
      const remote = web.find((p) => p.node !== 'node-1') ?? web[0];
      assert.ok(remote);
      const r = await run('ip', ['netns', 'exec', `fn-${c.name}-node-1`, 'curl', '-s', '-m', '5', `http://${remote.ip}:8080/`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Welcome to nginx!/);
    });

    it('gives the pod eth0 (a veth: eth0@ifN) holding status.podIP, and the node a veth on cni0', async () => {
      const link = await c.k(['exec', 'client', '--', 'ip', 'link', 'show', 'eth0']);
      assert.match(link, /eth0@if\d+/);
      const addr = await c.k(['exec', 'client', '--', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      assert.match(addr, new RegExp(`inet ${client.ip.replace(/\./g, '\\.')}/24`));
      const bridged = await run('ip', ['-n', `fn-${c.name}-node-1`, 'link', 'show', 'master', 'cni0']);
      assert.match(bridged.stdout, /veth[0-9a-f]+@if\d+/);
    });

    if (backend === 'vxlan') {
      it('carries cross-node pod traffic in VXLAN (UDP 8472) between node IPs over the underlay', async () => {
        const dev = await run('ip', ['-n', `fn-${c.name}-node-1`, '-d', 'link', 'show', 'flannel.1']);
        assert.match(dev.stdout, /vxlan id 1 /);
        const remote = web.find((p) => p.node !== 'node-1');
        assert.ok(remote);
        const capture = run('ip', ['netns', 'exec', `fn-${c.name}-lab`, 'timeout', '8', 'tcpdump', '-i', 'br0', '-nn', '-c', '4', 'udp', 'port', '8472'], { timeoutMs: 15_000 });
        await new Promise((r) => setTimeout(r, 700));
        for (let i = 0; i < 3; i++) await c.kubectl(['exec', 'client', '--', 'curl', '-s', '-m', '3', `http://${remote.ip}:8080/`]);
        const out = (await capture).stdout;
        assert.match(out, /172\.31\.\d+\.1[1-3]\.\d+ > 172\.31\.\d+\.1[1-3]\.8472: (OTV|VXLAN)/);
      });
    } else {
      it('routes cross-node pod traffic natively: plain pod-to-pod packets on the underlay', async () => {
        const remote = web.find((p) => p.node !== 'node-1');
        assert.ok(remote);
        const capture = run('ip', ['netns', 'exec', `fn-${c.name}-lab`, 'timeout', '8', 'tcpdump', '-i', 'br0', '-nn', '-c', '2', 'tcp', 'and', 'host', remote.ip], { timeoutMs: 15_000 });
        await new Promise((r) => setTimeout(r, 700));
        for (let i = 0; i < 3; i++) await c.kubectl(['exec', 'client', '--', 'curl', '-s', '-m', '3', `http://${remote.ip}:8080/`]);
        const out = (await capture).stdout;
        assert.match(out, new RegExp(`${client.ip.replace(/\./g, '\\.')}\\.\\d+ > ${remote.ip.replace(/\./g, '\\.')}\\.8080`));
      });

      it('lets containers of one pod talk over localhost (seed 004)', async () => {
        await waitFor('the sidecar to reach the api container', async () => ((await c.kubectl(['logs', 'duo', '-c', 'sidecar'])).stdout.includes('hello from the api container') ? true : undefined), 30_000);
        await waitFor('the busybox sidecar to reach nginx on localhost:80', async () => ((await c.kubectl(['logs', 'web-and-sidecar', '-c', 'sidecar'])).stdout.includes('Welcome to nginx') ? true : undefined), 30_000);
      });

      it('keeps lab addresses off the host: the service range is unreachable from the root namespace', async () => {
        const r = await run('ip', ['route', 'get', '10.96.0.10']);
        assert.notEqual(r.status, 0, 'a route to the service CIDR would leave through a real interface');
        assert.match(r.stderr, /unreachable|No route/i);
      });

      it('reports an unknown image as ErrImagePull/ImagePullBackOff naming the supported images', async () => {
        await c.k(['run', 'mystery', '--image=example.com/does-not-exist:1', '--restart=Never']);
        const reason = await waitFor('an image pull failure', async () => {
          const out = await c.k(['get', 'pod', 'mystery', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}']);
          return out === 'ErrImagePull' || out === 'ImagePullBackOff' ? out : undefined;
        });
        assert.ok(reason);
        const message = await c.k(['get', 'pod', 'mystery', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}']);
        assert.match(message, /busybox/);
      });

      it('brings a crashing container to CrashLoopBackOff', async () => {
        await c.k(['run', 'crasher', '--image=busybox', '--', 'sh', '-c', 'echo dying; exit 3']);
        await waitFor('CrashLoopBackOff', async () => ((await c.k(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}'])) === 'CrashLoopBackOff' ? true : undefined), 40_000);
        assert.match(await c.k(['logs', 'crasher', '--previous']), /dying/);
      });

      it('drops a pod whose readiness probe fails from the EndpointSlice', async () => {
        await c.k(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: never-ready
  labels:
    app: flaky
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    readinessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: always-ready
  labels:
    app: flaky
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata:
  name: flaky
spec:
  selector:
    app: flaky
  ports:
  - port: 80
`);
        const slice = await waitFor('the flaky EndpointSlice to settle', async () => {
          const out = JSON.parse(await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=flaky', '-o', 'json'])) as { items: { endpoints: { targetRef: { name: string }; conditions: { ready: boolean } }[] | null }[] };
          const eps = out.items.flatMap((s) => s.endpoints ?? []);
          return eps.length === 2 && eps.some((e) => e.conditions.ready) ? eps : undefined;
        });
        assert.equal(slice.find((e) => e.targetRef.name === 'never-ready')?.conditions.ready, false);
        assert.equal(slice.find((e) => e.targetRef.name === 'always-ready')?.conditions.ready, true);
        assert.equal(await c.k(['get', 'pod', 'never-ready', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'False');
      });

      it('runs kubectl run --rm -i with the output attached and the pod removed', async () => {
        const r = await c.kubectl(['run', 'tmp', '--image=busybox', '--rm', '-i', '--restart=Never', '--', 'sh', '-c', 'sleep 1; echo hello from tmp']);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /hello from tmp/);
        await waitFor('the tmp pod to be deleted', async () => ((await c.kubectl(['get', 'pod', 'tmp'])).status !== 0 ? true : undefined));
      });
    }
  });
}

describe('flatnet down', () => {
  it('leaves no namespace, link, route, nft table, mount or process of the cluster behind', async () => {
    const c = await upCluster({ backend: 'vxlan', nodes: 2 });
    await c.k(['run', 'sleeper', '--image=busybox', '--', 'sleep', '3600']);
    await waitFor('the sleeper to run', async () => ((await c.k(['get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined));
    const r = await c.down();
    assert.equal(r.status, 0, r.stderr);
    const prefix = `fn-${c.name}`;
    assert.equal((await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix)).length, 0, 'namespaces left');
    assert.doesNotMatch((await run('ip', ['link'])).stdout, new RegExp(`${prefix}\\b`), 'links left');
    assert.doesNotMatch((await run('ip', ['route'])).stdout, new RegExp(`dev ${prefix}\\b`), 'routes left');
    assert.doesNotMatch((await run('nft', ['list', 'tables'])).stdout, new RegExp(c.name), 'nft tables left');
    assert.doesNotMatch((await run('cat', ['/proc/self/mounts'])).stdout, new RegExp(`/run/flatnet/${c.name}\\b`), 'mounts left');
    assert.doesNotMatch((await run('ps', ['-eo', 'args'])).stdout, new RegExp(`(--name ${c.name}\\b|clusters/${c.name}\\b)`), 'processes left');
  });
});
