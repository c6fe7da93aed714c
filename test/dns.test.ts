// Cluster DNS end to end on a real flatnet cluster (issue "cluster DNS"): the coredns Deployment behind
// kube-dns 10.96.0.10 answering real resolvers in pods — `dig` for every record kind the spec defines,
// glibc's `getent` and curl with the pod's search path for the seed's three name forms, busybox nslookup
// through `kubectl run --rm -i`, and how long a new Service takes to become resolvable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run, upCluster, waitFor, type ClusterFixture, type RunResult } from './support/cluster-fixture.ts';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
const DNS_IP = '10.96.0.10';
const ZONE = 'cluster.local';

const WORKLOAD = `apiVersion: v1
kind: Namespace
metadata:
  name: other-namespace
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my
spec:
  replicas: 1
  selector:
    matchLabels:
      app: my
  template:
    metadata:
      labels:
        app: my
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
        readinessProbe:
          httpGet:
            path: /
            port: 80
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app: my
  ports:
  - name: http
    port: 80
    targetPort: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: other-namespace
spec:
  replicas: 1
  selector:
    matchLabels:
      app: other
  template:
    metadata:
      labels:
        app: other
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
  name: my-service
  namespace: other-namespace
spec:
  selector:
    app: other
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: apps/v1
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
      - name: agnhost
        image: ${AGNHOST}
        args: ["netexec", "--http-port=8080"]
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: web-unready
  labels:
    app: web
spec:
  containers:
  - name: agnhost
    image: ${AGNHOST}
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - name: http
    port: 8080
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: ext-name
spec:
  type: ExternalName
  externalName: www.example.com
---
apiVersion: v1
kind: Service
metadata:
  name: alias
spec:
  type: ExternalName
  externalName: my-service.other-namespace.svc.${ZONE}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: shell
    image: nicolaka/netshoot
    command: ["sleep", "3600"]
`;

interface PodInfo { name: string; ip: string; ready: boolean; uid: string; node: string }

async function pods(c: ClusterFixture, args: string[]): Promise<PodInfo[]> {
  const out = await c.k(['get', 'pods', ...args, '-o', 'json']);
  const list = JSON.parse(out) as { items: { metadata: { name: string; uid: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[] };
  return list.items.map((p) => ({ name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName ?? '', ip: p.status.podIP ?? '', ready: p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false }));
}

interface Dig { status: string; answer: string[][]; authority: string[][] }

/** Parses `dig +noall +comments +answer +authority`: the header status and the records as fields. */
function parseDig(out: string): Dig {
  const status = /status: (\w+)/.exec(out)?.[1] ?? '';
  const section = (name: string): string[][] => {
    const start = out.indexOf(`;; ${name} SECTION:`);
    if (start < 0) return [];
    const lines = out.slice(start).split('\n').slice(1);
    const records: string[][] = [];
    for (const l of lines) {
      if (l.trim() === '' || l.startsWith(';;')) break;
      records.push(l.trim().split(/\s+/));
    }
    return records;
  };
  return { status, answer: section('ANSWER'), authority: section('AUTHORITY') };
}

describe('cluster DNS on a 3-node cluster', () => {
  let c: ClusterFixture;
  let client: PodInfo;
  let web: PodInfo[];
  let unready: PodInfo;
  const ip = { mine: '', other: '' };

  const exec = (script: string): Promise<RunResult> => c.kubectl(['exec', 'client', '--', 'sh', '-c', script]);
  const dig = async (args: string): Promise<Dig> => {
    const r = await exec(`dig +time=2 +tries=2 +noall +comments +answer +authority ${args}`);
    assert.equal(r.status, 0, r.stderr);
    return parseDig(r.stdout);
  };
  const rdata = (d: Dig, type: string) => d.answer.filter((f) => f[3] === type).map((f) => f.slice(4).join(' '));

  before(async () => {
    c = await upCluster();
    await c.k(['apply', '-f', '-'], WORKLOAD);
    web = await waitFor('3 ready web pods', async () => {
      const ps = (await pods(c, ['-l', 'app=web'])).filter((p) => p.name !== 'web-unready');
      return ps.length === 3 && ps.every((p) => p.ready && p.ip) ? ps : undefined;
    }, 90_000);
    unready = await waitFor('the unready web pod to run', async () => (await pods(c, ['-l', 'app=web'])).find((p) => p.name === 'web-unready' && p.ip), 60_000);
    client = await waitFor('the client pod', async () => (await pods(c, [])).find((p) => p.name === 'client' && p.ready && p.ip), 90_000);
    await waitFor('my and other to be ready', async () => {
      const a = await pods(c, ['-l', 'app=my']);
      const b = await pods(c, ['-n', 'other-namespace', '-l', 'app=other']);
      return a[0]?.ready && b[0]?.ready ? true : undefined;
    }, 90_000);
    ip.mine = await c.k(['get', 'service', 'my-service', '-o', 'jsonpath={.spec.clusterIP}']);
    ip.other = await c.k(['get', 'service', 'my-service', '-n', 'other-namespace', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.notEqual(ip.mine, ip.other);
    // The DNS pods learn of endpoints through their informers: wait for the headless set to settle.
    await waitFor('the headless Service to list the ready pods', async () => ((await dig(`web-headless.default.svc.${ZONE}`)).answer.length === 3 ? true : undefined), 30_000);
  });
  after(async () => {
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('gives the pod a resolv.conf with the cluster DNS IP, its namespace\'s search path and ndots:5', async () => {
    const conf = (await exec('cat /etc/resolv.conf')).stdout;
    assert.match(conf, new RegExp(`^nameserver ${DNS_IP.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(conf, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    assert.match(conf, /ndots:5/);
  });

  it('answers A for a ClusterIP Service with its ClusterIP, per namespace', async () => {
    const cases = [
      { name: `my-service.default.svc.${ZONE}`, want: () => ip.mine },
      { name: `my-service.other-namespace.svc.${ZONE}`, want: () => ip.other },
      { name: `kube-dns.kube-system.svc.${ZONE}`, want: () => DNS_IP },
      { name: `kubernetes.default.svc.${ZONE}`, want: () => '10.96.0.1' },
    ];
    for (const t of cases) {
      const d = await dig(`A ${t.name}`);
      assert.equal(d.status, 'NOERROR', t.name);
      assert.deepEqual(rdata(d, 'A'), [t.want()], t.name);
    }
  });

  it('answers A for a headless Service with one record per ready endpoint, leaving the unready pod out', async () => {
    const d = await dig(`A web-headless.default.svc.${ZONE}`);
    assert.equal(d.status, 'NOERROR');
    assert.deepEqual(new Set(rdata(d, 'A')), new Set(web.map((p) => p.ip)));
    assert.ok(!rdata(d, 'A').includes(unready.ip));
  });

  it('answers SRV for a named port: the Service name for a ClusterIP Service, one target per ready endpoint for a headless one', async () => {
    const cluster = await dig(`SRV _http._tcp.my-service.default.svc.${ZONE}`);
    assert.equal(cluster.status, 'NOERROR');
    assert.deepEqual(rdata(cluster, 'SRV'), [`0 100 80 my-service.default.svc.${ZONE}.`]);

    const headless = await dig(`SRV _http._tcp.web-headless.default.svc.${ZONE}`);
    assert.equal(headless.status, 'NOERROR');
    const srv = rdata(headless, 'SRV').map((r) => r.split(' '));
    assert.equal(srv.length, 3);
    assert.ok(srv.every((f) => f[2] === '8080'), JSON.stringify(srv));
    const targets = srv.map((f) => f[3] ?? '');
    assert.deepEqual(new Set(targets), new Set(web.map((p) => `${p.ip.replace(/\./g, '-')}.web-headless.default.svc.${ZONE}.`)));
    // Each target is itself resolvable to its pod.
    const first = web[0]!;
    const a = await dig(`A ${first.ip.replace(/\./g, '-')}.web-headless.default.svc.${ZONE}`);
    assert.deepEqual(rdata(a, 'A'), [first.ip]);
  });

  it('answers PTR for a ClusterIP with the Service\'s name', async () => {
    const d = await dig(`-x ${ip.other}`);
    assert.equal(d.status, 'NOERROR');
    assert.deepEqual(rdata(d, 'PTR'), [`my-service.other-namespace.svc.${ZONE}.`]);
  });

  it('answers an ExternalName Service with a CNAME, followed inside the zone', async () => {
    const external = await dig(`CNAME ext-name.default.svc.${ZONE}`);
    assert.equal(external.status, 'NOERROR');
    assert.deepEqual(rdata(external, 'CNAME'), ['www.example.com.']);

    const alias = await dig(`A alias.default.svc.${ZONE}`);
    assert.equal(alias.status, 'NOERROR');
    assert.deepEqual(rdata(alias, 'CNAME'), [`my-service.other-namespace.svc.${ZONE}.`]);
    assert.deepEqual(rdata(alias, 'A'), [ip.other]);
  });

  it('answers A for a pod name a-b-c-d.<ns>.pod.cluster.local', async () => {
    const name = `${client.ip.replace(/\./g, '-')}.default.pod.${ZONE}`;
    const d = await dig(`A ${name}`);
    assert.equal(d.status, 'NOERROR');
    assert.deepEqual(rdata(d, 'A'), [client.ip]);
  });

  it('answers TXT dns-version.cluster.local with the schema version', async () => {
    const d = await dig(`TXT dns-version.${ZONE}`);
    assert.deepEqual(rdata(d, 'TXT'), ['"1.1.0"']);
  });

  it('tells NXDOMAIN (a missing name) from NOERROR with no answer (an existing name lacking the type), both with the SOA', async () => {
    const cases = [
      { q: `A nosuch.default.svc.${ZONE}`, status: 'NXDOMAIN' },
      { q: `A my-service.nosuch-namespace.svc.${ZONE}`, status: 'NXDOMAIN' },
      { q: `AAAA my-service.default.svc.${ZONE}`, status: 'NOERROR' },
      { q: `A _tcp.my-service.default.svc.${ZONE}`, status: 'NOERROR' },
      { q: `SRV _nosuch._tcp.my-service.default.svc.${ZONE}`, status: 'NXDOMAIN' },
    ];
    for (const t of cases) {
      const d = await dig(t.q);
      assert.equal(d.status, t.status, t.q);
      assert.equal(d.answer.length, 0, t.q);
      assert.equal(d.authority[0]?.[3], 'SOA', t.q);
      assert.equal(d.authority[0]?.[0], `${ZONE}.`, t.q);
    }
  });

  it('resolves the seed\'s three name forms with getent through the pod\'s search path', async () => {
    const cases = [
      { name: 'my-service', want: () => ip.mine, fqdn: `my-service.default.svc.${ZONE}` },
      { name: 'my-service.other-namespace', want: () => ip.other, fqdn: `my-service.other-namespace.svc.${ZONE}` },
      { name: `my-service.other-namespace.svc.${ZONE}`, want: () => ip.other, fqdn: `my-service.other-namespace.svc.${ZONE}` },
    ];
    for (const t of cases) {
      const r = await exec(`getent hosts ${t.name}`);
      assert.equal(r.status, 0, `${t.name}: ${r.stderr}`);
      assert.deepEqual(r.stdout.trim().split(/\s+/), [t.want(), t.fqdn], t.name);
    }
    const missing = await exec('getent hosts no-such-service');
    assert.equal(missing.status, 2, 'getent: key not found');
  });

  it('reaches the Services by name with curl in each of the seed\'s forms', async () => {
    const mine = await exec('curl -s -m 5 http://my-service');
    assert.equal(mine.status, 0, mine.stderr);
    assert.match(mine.stdout, /Welcome to nginx!/);
    const otherPod = (await pods(c, ['-n', 'other-namespace', '-l', 'app=other']))[0]?.name;
    for (const host of ['my-service.other-namespace', `my-service.other-namespace.svc.${ZONE}`]) {
      const r = await exec(`curl -s -m 5 http://${host}/hostname`);
      assert.equal(r.status, 0, `${host}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), otherPod, host);
    }
  });

  it('prints the ClusterIP from busybox nslookup in kubectl run --rm -i (seed quick reference)', async () => {
    // Attach delivers only live output (as with containerd): when nslookup has printed everything before kubectl
    // attaches, the output is lost and kubectl prints nothing. That race is kubectl run's, not DNS's, so
    // such an empty run is retried (bounded); any run that shows output must show the right answer.
    let r = await c.kubectl(['run', 'tmp', '--image=busybox', '--rm', '-i', '--restart=Never', '--', 'nslookup', 'my-service']);
    for (let attempt = 1; attempt < 4 && !/Server:/.test(r.stdout); attempt++) {
      console.log(`# nslookup run ${attempt}: no output attached, retrying`);
      await waitFor('the tmp pod to be deleted', async () => ((await c.kubectl(['get', 'pod', 'tmp'])).status !== 0 ? true : undefined));
      r = await c.kubectl(['run', 'tmp', '--image=busybox', '--rm', '-i', '--restart=Never', '--', 'nslookup', 'my-service']);
    }
    // busybox also reports NXDOMAIN for the other search domains and may exit 1: the answer is what counts.
    assert.match(r.stdout, new RegExp(`Name:\\s+my-service\\.default\\.svc\\.cluster\\.local\\s*\\nAddress:\\s+${ip.mine.replace(/\./g, '\\.')}\\s*$`, 'm'), r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Server:\\s+${DNS_IP.replace(/\./g, '\\.')}`));
    await waitFor('the tmp pod to be deleted', async () => ((await c.kubectl(['get', 'pod', 'tmp'])).status !== 0 ? true : undefined));
  });

  it('makes a new Service resolvable shortly after it is created (time measured and printed)', async () => {
    // dig runs in the client pod's namespace directly (no kubectl exec per probe) so the poll is fine-grained.
    const netns = `fn-${c.name}-p-${client.uid.replace(/[^a-z0-9]/g, '').slice(0, 10)}`;
    const name = `fresh.default.svc.${ZONE}`;
    const probe = () => run('ip', ['netns', 'exec', netns, 'dig', '+short', '+time=1', '+tries=1', `@${DNS_IP}`, name], { timeoutMs: 5_000 });
    const before = await probe();
    assert.equal(before.status, 0, before.stderr);
    assert.equal(before.stdout.trim(), '', 'not resolvable before it exists');
    // Probe from the moment kubectl starts, concurrently: kubectl's own start-up (~0.3 s) would otherwise
    // dominate the measurement.
    const t0 = Date.now();
    let createdAt = 0;
    // (Not `kubectl create service`: kubectl 1.33 sends that one as protobuf, which the API server refuses.)
    const create = c.k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: fresh\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n').then(() => { createdAt = Date.now(); });
    create.catch(() => undefined); // awaited below; the probe loop ends on its own deadline
    let answer = '';
    let probes = 0;
    for (; probes < 1000 && Date.now() - t0 < 15_000; probes++) {
      answer = (await probe()).stdout.trim();
      if (answer !== '') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const resolvableAt = Date.now();
    await create;
    console.log(`# Service create -> resolvable: ${resolvableAt - t0} ms after kubectl apply started, ${resolvableAt - createdAt} ms after it returned (kubectl took ${createdAt - t0} ms; ${probes + 1} probes)`);
    const freshIP = await c.k(['get', 'service', 'fresh', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(answer, freshIP);
  });
});
