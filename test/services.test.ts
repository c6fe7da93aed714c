// Services end to end on a real flatnet cluster (issue "kube-proxy"), the same cases in both proxy modes:
// ClusterIP from pods on every node and from a node, spread over every endpoint, no SNAT between pods,
// scale to zero refusing at once, NodePort and LoadBalancer from the external side with both external
// traffic policies, session affinity, hairpin, the `kubernetes` Service, egress masquerading to the node IP,
// and zero failed requests while a Deployment is rolled under load.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, run, upCluster, waitFor, type ClusterFixture, type RunResult } from './support/cluster-fixture.ts';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
// A fixed health-check node port for the Services that set one (another test checks automatic allocation).
const HEALTH_CHECK_NODE_PORT = 32100;

const WORKLOAD = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
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
kind: Service
metadata:
  name: nginx-service
spec:
  type: ClusterIP
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 3
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: agnhost
        image: ${AGNHOST}
        args: ["netexec", "--http-port=8080"]
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
        lifecycle:
          preStop:
            exec:
              command: ["sleep", "4"]
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector:
    app: echo
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: echo-sticky
spec:
  selector:
    app: echo
  sessionAffinity: ClientIP
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: echo-lb
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  selector:
    app: echo
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: local-echo
spec:
  selector:
    matchLabels:
      app: local-echo
  template:
    metadata:
      labels:
        app: local-echo
    spec:
      containers:
      - name: agnhost
        image: ${AGNHOST}
        args: ["netexec", "--http-port=8080"]
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: local-lb
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: ${HEALTH_CHECK_NODE_PORT}
  selector:
    app: local-echo
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  labels:
    app: lonely
spec:
  nodeName: node-1
  containers:
  - name: agnhost
    image: ${AGNHOST}
    args: ["netexec", "--http-port=8080"]
---
apiVersion: v1
kind: Service
metadata:
  name: lonely
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector:
    app: lonely
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gone
spec:
  replicas: 1
  selector:
    matchLabels:
      app: gone
  template:
    metadata:
      labels:
        app: gone
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agnhost
        image: ${AGNHOST}
        args: ["netexec", "--http-port=8080"]
---
apiVersion: v1
kind: Service
metadata:
  name: gone
spec:
  selector:
    app: gone
  ports:
  - port: 80
    targetPort: 8080
${[1, 2, 3].map((n) => `---
apiVersion: v1
kind: Pod
metadata:
  name: client-${n}
spec:
  nodeName: node-${n}
  terminationGracePeriodSeconds: 0
  containers:
  - name: shell
    image: nicolaka/netshoot
    command: ["sleep", "3600"]
`).join('')}`;

interface PodInfo { name: string; ip: string; node: string; ready: boolean }
interface NodeInfo { name: string; ip: string; gateway: string; netns: string }

async function pods(c: ClusterFixture, selector?: string): Promise<PodInfo[]> {
  const out = await c.k(['get', 'pods', ...(selector ? ['-l', selector] : []), '-o', 'json']);
  const list = JSON.parse(out) as { items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[] };
  return list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '', ready: p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false }));
}

async function readyPods(c: ClusterFixture, selector: string, count: number): Promise<PodInfo[]> {
  return waitFor(`${count} ready pods ${selector}`, async () => {
    const ps = await pods(c, selector);
    return ps.length === count && ps.every((p) => p.ready && p.ip) ? ps : undefined;
  }, 90_000);
}

interface ServiceInfo { clusterIP: string; nodePort: number; ingressIP: string }

async function service(c: ClusterFixture, name: string): Promise<ServiceInfo> {
  const s = JSON.parse(await c.k(['get', 'service', name, '-o', 'json'])) as { spec: { clusterIP: string; ports: { nodePort?: number }[] }; status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
  return { clusterIP: s.spec.clusterIP, nodePort: s.spec.ports[0]?.nodePort ?? 0, ingressIP: s.status?.loadBalancer?.ingress?.[0]?.ip ?? '' };
}

/** Runs a shell script in a pod (kubectl exec), never throwing: the script prints what the test needs. */
function sh(c: ClusterFixture, pod: string, script: string): Promise<RunResult> {
  return c.kubectl(['exec', pod, '--', 'sh', '-c', script]);
}

/** curl's outcome from inside a shell: body, then a last line `rc=<exit> t=<seconds>`. */
const CURL = (url: string, maxSeconds = 3) => `curl -s -m ${maxSeconds} -w '\\nt=%{time_total}' ${url}; echo " rc=$?"`;

function parseCurl(out: string): { body: string; rc: number; seconds: number } {
  const m = /t=([\d.]+) rc=(\d+)\s*$/.exec(out);
  assert.ok(m, `unparseable curl output: ${out}`);
  return { body: out.slice(0, m.index).trim(), rc: Number(m[2]), seconds: Number(m[1]) };
}

/** `host:port` from agnhost /clientip → host. */
const clientHost = (body: string) => body.trim().replace(/:\d+$/, '');

const countBy = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());

for (const mode of ['nftables', 'iptables'] as const) {
  describe(`Services with kube-proxy in ${mode} mode`, () => {
    let c: ClusterFixture;
    let nodes: NodeInfo[];
    let clients: PodInfo[];
    let echo: PodInfo[];
    let external: string;
    const extNetns = () => `fn-${c.name}-ext`;
    const inExt = (args: string[]) => run('ip', ['netns', 'exec', extNetns(), ...args], { timeoutMs: 30_000 });

    before(async () => {
      c = await upCluster({ proxyMode: mode });
      await c.k(['apply', '-f', '-'], WORKLOAD);
      const nodeList = JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { podCIDR: string }; status: { addresses: { type: string; address: string }[] } }[] };
      nodes = nodeList.items.map((n) => {
        const [a, b, cc] = n.spec.podCIDR.split('.');
        return { name: n.metadata.name, ip: n.status.addresses.find((x) => x.type === 'InternalIP')?.address ?? '', gateway: `${a}.${b}.${cc}.1`, netns: `fn-${c.name}-${n.metadata.name}` };
      }).sort((x, y) => x.name.localeCompare(y.name));
      assert.equal(nodes.length, 3);
      external = nodes[0]!.ip.replace(/\.\d+$/, '.254');
      await readyPods(c, 'app=nginx', 3);
      echo = await readyPods(c, 'app=echo', 3);
      await readyPods(c, 'app=local-echo', 3);
      await readyPods(c, 'app=lonely', 1);
      await readyPods(c, 'app=gone', 1);
      clients = await waitFor('the three client pods', async () => {
        const ps = (await pods(c)).filter((p) => p.name.startsWith('client-') && p.ready && p.ip);
        return ps.length === 3 ? ps.sort((x, y) => x.name.localeCompare(y.name)) : undefined;
      }, 90_000);
      // The proxier programs asynchronously: wait until the last Service works from the last client.
      const gone = await service(c, 'gone');
      await waitFor('services programmed', async () => (parseCurl((await sh(c, 'client-3', CURL(`http://${gone.clusterIP}/hostname`, 1))).stdout).rc === 0 ? true : undefined), 30_000);
    });
    after(async () => {
      if (c) {
        const r = await c.down();
        assert.equal(r.status, 0, r.stderr);
      }
    });

    it('reaches the seed nginx-service (port 80 -> targetPort 8080) by ClusterIP from a pod on every node', async () => {
      const svc = await service(c, 'nginx-service');
      for (const client of clients) {
        const r = parseCurl((await sh(c, client.name, CURL(`http://${svc.clusterIP}/`))).stdout);
        assert.equal(r.rc, 0, `${client.name} on ${client.node}`);
        assert.match(r.body, /Welcome to nginx!/);
      }
    });

    it('reaches the seed nginx-service by ClusterIP from every node network namespace', async () => {
      const svc = await service(c, 'nginx-service');
      for (const node of nodes) {
        const r = await run('ip', ['netns', 'exec', node.netns, 'curl', '-s', '-m', '3', `http://${svc.clusterIP}/`]);
        assert.equal(r.status, 0, `${node.name}: ${r.stderr}`);
        assert.match(r.stdout, /Welcome to nginx!/);
      }
    });

    it('spreads 30 requests to a ClusterIP over all three endpoints', async () => {
      const svc = await service(c, 'echo');
      const out = (await sh(c, 'client-1', `for i in $(seq 30); do curl -s -m 2 http://${svc.clusterIP}/hostname; echo; done`)).stdout;
      const seen = countBy(out.split('\n').filter(Boolean));
      assert.deepEqual(new Set(seen.keys()), new Set(echo.map((p) => p.name)), `answers per pod: ${JSON.stringify([...seen])}`);
      assert.equal([...seen.values()].reduce((a, b) => a + b, 0), 30);
    });

    it('shows the backend the client pod\'s own IP through the ClusterIP (no SNAT pod -> Service -> pod)', async () => {
      const svc = await service(c, 'echo');
      for (const client of clients) {
        const out = (await sh(c, client.name, `for i in 1 2 3 4 5 6; do curl -s -m 2 http://${svc.clusterIP}/clientip; echo; done`)).stdout;
        const hosts = new Set(out.split('\n').filter(Boolean).map(clientHost));
        assert.deepEqual(hosts, new Set([client.ip]), `${client.name}`);
      }
    });

    it('shows a pod server the peer pod\'s IP for direct pod-to-pod traffic', async () => {
      for (const client of clients) {
        const target = echo.find((p) => p.node !== client.node) ?? echo[0]!;
        const r = parseCurl((await sh(c, client.name, CURL(`http://${target.ip}:8080/clientip`))).stdout);
        assert.equal(r.rc, 0);
        assert.equal(clientHost(r.body), client.ip, `${client.name} -> ${target.name}`);
      }
    });

    it('refuses connections at once (curl exit 7, well under a second) when the Deployment is scaled to 0', async () => {
      const svc = await service(c, 'gone');
      const before = parseCurl((await sh(c, 'client-2', CURL(`http://${svc.clusterIP}/hostname`))).stdout);
      assert.equal(before.rc, 0, 'the Service answers before scaling down');
      const t0 = Date.now();
      await c.k(['scale', 'deployment', 'gone', '--replicas=0']);
      // While the pod terminates its endpoint is still used (serving, terminating) and may refuse or time out
      // from the dying pod itself; the Service's own answer starts once the EndpointSlice is empty.
      await waitFor('the EndpointSlice to empty', async () => {
        const list = JSON.parse(await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=gone', '-o', 'json'])) as { items: { endpoints?: unknown[] | null }[] };
        return list.items.every((x) => (x.endpoints ?? []).length === 0) ? true : undefined;
      }, 30_000);
      await waitFor('the Service to refuse', async () => (parseCurl((await sh(c, 'client-2', CURL(`http://${svc.clusterIP}/hostname`, 1))).stdout).rc === 7 ? true : undefined), 30_000);
      console.log(`# ${mode}: scale to 0 -> connection refused after ${Date.now() - t0} ms`);
      const out = (await sh(c, 'client-2', `for i in 1 2 3 4 5; do ${CURL(`http://${svc.clusterIP}/hostname`)}; echo; done`)).stdout;
      const results = out.split('\n').filter((l) => l.includes('rc=')).map(parseCurl);
      assert.equal(results.length, 5);
      for (const r of results) {
        assert.equal(r.rc, 7, 'connection refused');
        assert.ok(r.seconds < 0.5, `refused after ${r.seconds}s`);
      }
    });

    it('answers a Cluster-policy NodePort from the external namespace on every node IP, the pod seeing that node\'s address', async () => {
      const svc = await service(c, 'echo-lb');
      assert.ok(svc.nodePort >= 30000 && svc.nodePort <= 32767, `nodePort ${svc.nodePort}`);
      for (const node of nodes) {
        for (let i = 0; i < 3; i++) {
          const r = await inExt(['curl', '-s', '-m', '3', `http://${node.ip}:${svc.nodePort}/clientip`]);
          assert.equal(r.status, 0, `${node.name}: ${r.stderr}`);
          // Masqueraded: to the node's InternalIP, or its cni0 address when the endpoint is on that node.
          assert.ok([node.ip, node.gateway].includes(clientHost(r.stdout)), `${node.name} -> pod saw ${r.stdout}`);
        }
      }
    });

    it('answers a Cluster-policy LoadBalancer ingress IP from the pool from the external namespace, the pod seeing a node address', async () => {
      const svc = await waitFor('echo-lb ingress IP', async () => { const s = await service(c, 'echo-lb'); return s.ingressIP ? s : undefined; });
      assert.match(svc.ingressIP, /^172\.30\.255\.\d+$/);
      const nodeAddrs = nodes.flatMap((n) => [n.ip, n.gateway]);
      for (let i = 0; i < 6; i++) {
        const r = await inExt(['curl', '-s', '-m', '3', `http://${svc.ingressIP}/clientip`]);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(nodeAddrs.includes(clientHost(r.stdout)), `pod saw ${r.stdout}`);
        assert.notEqual(clientHost(r.stdout), external);
      }
    });

    it('keeps the external client\'s IP for a Local-policy LoadBalancer IP and its NodePort on every node', async () => {
      const svc = await waitFor('local-lb ingress IP', async () => { const s = await service(c, 'local-lb'); return s.ingressIP ? s : undefined; });
      for (let i = 0; i < 6; i++) {
        const r = await inExt(['curl', '-s', '-m', '3', `http://${svc.ingressIP}/clientip`]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(clientHost(r.stdout), external);
      }
      for (const node of nodes) {
        const r = await inExt(['curl', '-s', '-m', '3', `http://${node.ip}:${svc.nodePort}/clientip`]);
        assert.equal(r.status, 0, `${node.name}: ${r.stderr}`);
        assert.equal(clientHost(r.stdout), external, node.name);
      }
    });

    it('allocates a healthCheckNodePort for a Local-policy LoadBalancer created without one', async () => {
      await c.k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: local-lb-auto\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  selector:\n    app: local-echo\n  ports:\n  - port: 80\n    targetPort: 8080\n');
      const port = Number(await c.k(['get', 'service', 'local-lb-auto', '-o', 'jsonpath={.spec.healthCheckNodePort}']));
      assert.ok(port >= 30000 && port <= 32767, `healthCheckNodePort ${port}`);
    });

    it('does not connect through a Local-policy NodePort on nodes without a local endpoint', async () => {
      const svc = await service(c, 'lonely');
      const [withPod, ...without] = nodes;
      const ok = await inExt(['curl', '-s', '-m', '3', `http://${withPod!.ip}:${svc.nodePort}/clientip`]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(clientHost(ok.stdout), external);
      for (const node of without) {
        const r = await inExt(['curl', '-s', '-m', '2', `http://${node.ip}:${svc.nodePort}/clientip`]);
        assert.ok(r.status === 7 || r.status === 28, `${node.name}: curl exit ${r.status} (${r.stdout})`);
        assert.equal(r.stdout, '');
      }
    });

    it('keeps one client on one pod with sessionAffinity ClientIP', async () => {
      const svc = await service(c, 'echo-sticky');
      for (const client of clients) {
        const out = (await sh(c, client.name, `for i in $(seq 12); do curl -s -m 2 http://${svc.clusterIP}/hostname; echo; done`)).stdout;
        const answers = out.split('\n').filter(Boolean);
        assert.equal(answers.length, 12, client.name);
        assert.equal(new Set(answers).size, 1, `${client.name} was answered by ${JSON.stringify([...countBy(answers)])}`);
        assert.ok(echo.some((p) => p.name === answers[0]));
      }
    });

    it('lets a pod reach itself through its own Service (hairpin)', async () => {
      const svc = await service(c, 'lonely');
      // (busybox 1.35's wget crashes on -T here, so `timeout` bounds it.)
      const r = await c.kubectl(['exec', 'lonely', '--', 'timeout', '5', 'wget', '-qO-', `http://${svc.clusterIP}/hostname`]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'lonely');
    });

    it('lets a pod on every node reach the kubernetes Service (https://10.96.0.1/version)', async () => {
      for (const client of clients) {
        const r = parseCurl((await sh(c, client.name, CURL('-k https://10.96.0.1/version'))).stdout);
        assert.equal(r.rc, 0, client.name);
        assert.match((JSON.parse(r.body) as { gitVersion: string }).gitVersion, /^v1\.\d+/);
      }
    });

    describe('egress', () => {
      let server: ChildProcess | undefined;
      before(async () => {
        const program = "require('http').createServer((q,s)=>s.end('peer='+q.socket.remoteAddress)).listen(8000,'0.0.0.0',()=>console.log('listening'))";
        server = spawn('ip', ['netns', 'exec', extNetns(), join(ROOT, 'node_modules', '.bin', 'node'), '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((res, rej) => {
          const t = setTimeout(() => rej(new Error('external server did not start')), 10_000);
          server?.stdout?.on('data', () => { clearTimeout(t); res(); });
        });
      });
      after(() => { server?.kill('SIGTERM'); });

      it('shows an external server the node IP, not the pod IP, as the source of pod -> external traffic', async () => {
        for (const client of clients) {
          const node = nodes.find((n) => n.name === client.node);
          const r = parseCurl((await sh(c, client.name, CURL(`http://${external}:8000/`))).stdout);
          assert.equal(r.rc, 0, client.name);
          assert.equal(r.body, `peer=${node?.ip}`, `${client.name} (${client.ip}) on ${client.node}`);
        }
      });
    });

    it('fails no request of 300 while the Deployment behind the Service is rolled (readiness + graceful termination)', async () => {
      const svc = await service(c, 'echo');
      const oldPods = new Set((await pods(c, 'app=echo')).map((p) => p.name));
      const load = sh(c, 'client-1', `for i in $(seq 300); do curl -s -m 5 -o /dev/null -w '%{http_code}\\n' http://${svc.clusterIP}/hostname || echo "fail $?"; sleep 0.03; done`);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      await c.k(['rollout', 'restart', 'deployment', 'echo']);
      await c.k(['rollout', 'status', 'deployment', 'echo', '--timeout=60s']);
      // The old pods serve through their preStop sleep, then exit: wait until they are gone.
      await waitFor('the old pods to be gone', async () => ((await c.k(['get', 'pods', '-l', 'app=echo', '-o', 'name'])).split('\n').some((n) => oldPods.has(n.replace('pod/', ''))) ? undefined : true), 60_000);
      const rolledAfter = Date.now() - t0;
      const out = (await load).stdout;
      const loadMs = Date.now() - t0;
      const outcomes = countBy(out.split('\n').filter(Boolean));
      console.log(`# ${mode}: rollout done and old pods gone after ${rolledAfter} ms of a ${loadMs} ms load; outcomes ${JSON.stringify([...outcomes])}`);
      assert.deepEqual([...outcomes], [['200', 300]]);
      const now = await readyPods(c, 'app=echo', 3);
      assert.ok(now.every((p) => !oldPods.has(p.name)), 'every pod was replaced');
      assert.ok(rolledAfter < loadMs, 'the rollout finished and the old pods exited while the load was running');
    });
  });
}
