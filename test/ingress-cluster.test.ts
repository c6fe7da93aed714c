// flatnet's Ingress controller as the cluster runs it (issue 8): `flatnet up` deploys it (namespace
// flatnet-ingress, default IngressClass `flatnet`, a Deployment behind the LoadBalancer Service
// flatnet-ingress), and every request here comes from outside the cluster, from the lab's external
// namespace, to the Service's pool address: host and path routing as the Ingress spec's examples describe,
// TLS termination with a Secret's certificate (and the default one for other names), a missing Service,
// a backend crashing under load, Ingress edits under load, and status.loadBalancer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, upCluster, waitFor, type ClusterFixture, type RunResult } from './support/cluster-fixture.ts';

const NS = 'web';

/** An http-echo Deployment answering `<name>\n`, behind a ClusterIP Service `name` (port 80 → 5678). */
function echoBackend(name: string, replicas = 1): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: echo
        image: hashicorp/http-echo
        args: ["-text=${name}", "-listen=:5678"]
        ports:
        - name: http
          containerPort: 5678
        readinessProbe:
          httpGet:
            path: /health
            port: 5678
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  selector:
    app: ${name}
  ports:
  - name: http
    port: 80
    targetPort: http
`;
}

/** agnhost netexec pods (GET /hostname answers the pod name) behind the Service `name` (port 80 → 8080). */
function hostnameBackend(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: netexec
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080", "--udp-port=-1"]
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
kind: Service
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  selector:
    app: ${name}
  ports:
  - name: http
    port: 80
    targetPort: http
`;
}

const ECHO_BACKENDS = ['root', 'aaa', 'aaabbb', 'foo-exact', 'foo-prefix', 'wild', 'fallback', 'blue', 'green'];
const LOAD_REPLICAS = 3;

const path = (p: string, type: string, service: string) => `      - path: ${p}
        pathType: ${type}
        backend:
          service:
            name: ${service}
            port:
              number: 80
`;

/** The Ingresses under test; only `fallback` leaves its class out (it relies on `flatnet` being the default class). */
const INGRESSES = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: paths
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: paths.example.com
    http:
      paths:
${path('/', 'Prefix', 'root')}${path('/aaa', 'Prefix', 'aaa')}${path('/aaa/bbb', 'Prefix', 'aaabbb')}${path('/foo', 'Exact', 'foo-exact')}${path('/foo', 'Prefix', 'foo-prefix')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: strict
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: strict.example.com
    http:
      paths:
${path('/foo/', 'Prefix', 'foo-prefix')}${path('/bar', 'Exact', 'foo-exact')}${path('/aaa/bbb/', 'Prefix', 'aaabbb')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: wildcard
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: "*.wild.example.com"
    http:
      paths:
${path('/', 'Prefix', 'wild')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: fallback
  namespace: ${NS}
spec:
  defaultBackend:
    service:
      name: fallback
      port:
        number: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: broken.example.com
    http:
      paths:
${path('/', 'Prefix', 'does-not-exist')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  tls:
  - hosts: ["secure.example.com"]
    secretName: secure-tls
  rules:
  - host: secure.example.com
    http:
      paths:
${path('/', 'Prefix', 'aaa')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: load
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: load.example.com
    http:
      paths:
${path('/', 'Prefix', 'load')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: live
  namespace: ${NS}
spec:
  ingressClassName: flatnet
  rules:
  - host: live.example.com
    http:
      paths:
${path('/', 'Prefix', 'blue')}`;

interface Reply { code: number; body: string; seconds: number }

/** One line of curl's -w output per transfer: `|code|seconds` (the body, if any, precedes it). */
const WRITE_OUT = '\\n|%{http_code}|%{time_total}\\n';

function parseTransfers(stdout: string): Reply[] {
  const out: Reply[] = [];
  let body: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\|(\d{3})\|([\d.]+)$/.exec(line);
    if (m === null) {
      if (line !== '') body.push(line);
      continue;
    }
    out.push({ code: Number(m[1]), body: body.join('\n'), seconds: Number(m[2]) });
    body = [];
  }
  return out;
}

/** A CA and a certificate it signed for `host` (P-256, openssl CLI). */
async function makeCA(dir: string, host: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const steps: string[][] = [
    ['req', '-x509', ...ec, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=flatnet-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', '-new', ...ec, '-keyout', key, '-out', join(dir, 'tls.csr'), '-subj', `/CN=${host}`],
    ['x509', '-req', '-in', join(dir, 'tls.csr'), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', join(dir, 'ext.cnf')],
  ];
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\n`);
  for (const args of steps) {
    const r = await run('openssl', args);
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  return { ca, cert, key };
}

describe('the ingress controller flatnet up deploys, reached from the external namespace', () => {
  let c: ClusterFixture;
  let lbIP = '';
  let certDir = '';
  let tls: { ca: string; cert: string; key: string };

  /** curl from the external netns (bounded: -m), with any extra arguments. */
  const curl = (args: string[], timeoutMs = 60_000): Promise<RunResult> =>
    run('ip', ['netns', 'exec', `fn-${c.name}-ext`, 'curl', '-sS', '--path-as-is', ...args], { timeoutMs });

  /** One plain-HTTP request to the LB address with the given Host header. */
  async function get(host: string, p: string): Promise<Reply> {
    const r = await curl(['-m', '10', '-H', `Host: ${host}`, '-w', WRITE_OUT, `http://${lbIP}${p}`]);
    const [reply] = parseTransfers(r.stdout);
    if (reply === undefined) throw new Error(`curl ${host}${p}: exit ${r.status} ${r.stderr}`);
    return reply;
  }

  async function waitBody(host: string, p: string, body: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`${host}${p} → ${body}`, async () => ((await get(host, p)).body === body ? true : undefined), timeoutMs);
  }

  /** The certificate subject/issuer the server presents for `servername` (none: no SNI). */
  async function presented(servername: string | undefined): Promise<string> {
    const sni = servername === undefined ? ['-noservername'] : ['-servername', servername];
    const r = await run('ip', ['netns', 'exec', `fn-${c.name}-ext`, 'sh', '-c',
      `openssl s_client -connect ${lbIP}:443 ${sni.join(' ')} </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -fingerprint -sha256`], { timeoutMs: 20_000 });
    return r.stdout;
  }

  before(async () => {
    c = await upCluster({ nodes: 3 });
    lbIP = await c.k(['-n', 'flatnet-ingress', 'get', 'svc', 'flatnet-ingress', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    certDir = mkdtempSync(join(tmpdir(), 'flatnet-ingress-ca-'));
    tls = await makeCA(certDir, 'secure.example.com');
    // (kubectl create sends protobuf, which flatnet does not take: everything goes through apply.)
    await c.k(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await c.k(['apply', '-f', '-'], [...ECHO_BACKENDS.map((n) => echoBackend(n)), hostnameBackend('load', LOAD_REPLICAS)].join('---\n'));
    const b64 = (f: string) => Buffer.from(readFileSync(f)).toString('base64');
    await c.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'secure-tls', namespace: NS },
      data: { 'tls.crt': b64(tls.cert), 'tls.key': b64(tls.key) } }));
    await c.k(['apply', '-f', '-'], INGRESSES);
    const want = ECHO_BACKENDS.length + LOAD_REPLICAS;
    await waitFor(`${want} ready backend pods`, async () => {
      const out = await c.k(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      return out.split('\n').filter((s) => s === 'True').length === want ? true : undefined;
    }, 120_000);
    // The controller has the routes once these answer (each backend's pods are ready by now).
    await waitBody('paths.example.com', '/', 'root');
    await waitFor('load.example.com/hostname', async () => ((await get('load.example.com', '/hostname')).body.startsWith('load-') ? true : undefined));
    await waitBody('live.example.com', '/', 'blue');
    await waitBody('nothing.example.com', '/', 'fallback');
  });

  after(async () => {
    if (certDir) rmSync(certDir, { recursive: true, force: true });
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('is reported by flatnet up and runs as a default IngressClass with a pool address', async () => {
    assert.match(c.upOutput, /✓ ingress: flatnet-ingress-controller .* 172\.30\.255\.\d+/);
    assert.match(lbIP, /^172\.30\.255\.\d+$/);
    assert.ok(c.upOutput.includes(lbIP), 'the step line names the LB address');
    const cls = JSON.parse(await c.k(['get', 'ingressclass', 'flatnet', '-o', 'json'])) as { spec: { controller: string }; metadata: { annotations?: Record<string, string> } };
    assert.equal(cls.spec.controller, 'flatnet.dev/ingress');
    assert.equal(cls.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
    const ready = await c.k(['-n', 'flatnet-ingress', 'get', 'deploy', 'flatnet-ingress-controller', '-o', 'jsonpath={.status.readyReplicas}']);
    assert.ok(Number(ready) >= 1, `ready replicas: ${ready}`);
  });

  it('publishes the LoadBalancer IP in status.loadBalancer.ingress[0].ip of every Ingress it serves', async () => {
    for (const name of ['paths', 'strict', 'wildcard', 'fallback', 'broken', 'secure', 'load', 'live']) {
      const ip = await waitFor(`status of ${name}`, async () => {
        const v = await c.k(['-n', NS, 'get', 'ingress', name, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
        return v === '' ? undefined : v;
      });
      assert.equal(ip, lbIP, `Ingress ${name}`);
    }
    const wide = await c.k(['-n', NS, 'get', 'ingress', 'paths']);
    assert.match(wide, new RegExp(`paths\\s+flatnet\\s+paths\\.example\\.com\\s+${lbIP.replace(/\./g, '\\.')}\\s+80`));
  });

  // The Ingress spec's path-matching examples, on one host (paths) or a host without a catch-all (strict).
  const routes: [string, string, string, string][] = [
    ['Prefix / matches every path', 'paths.example.com', '/ccc', 'root'],
    ['Prefix /aaa matches /aaa itself', 'paths.example.com', '/aaa', 'aaa'],
    ['Prefix /aaa beats / for /aaa/ccc', 'paths.example.com', '/aaa/ccc', 'aaa'],
    ['the longest prefix /aaa/bbb wins for /aaa/bbb', 'paths.example.com', '/aaa/bbb', 'aaabbb'],
    ['Prefix /aaa/bbb matches a trailing slash', 'paths.example.com', '/aaa/bbb/', 'aaabbb'],
    ['Prefix /aaa/bbb matches a subpath', 'paths.example.com', '/aaa/bbb/ccc', 'aaabbb'],
    ['Prefix /aaa/bbb is element-wise: /aaa/bbbxyz falls back to /aaa', 'paths.example.com', '/aaa/bbbxyz', 'aaa'],
    ['Exact /foo beats Prefix /foo for /foo', 'paths.example.com', '/foo', 'foo-exact'],
    ['Prefix /foo matches /foo/', 'paths.example.com', '/foo/', 'foo-prefix'],
    ['Prefix /foo matches /foo/bar', 'paths.example.com', '/foo/bar', 'foo-prefix'],
    ['Prefix /foo does not match /foobar (it lands on /)', 'paths.example.com', '/foobar', 'root'],
    ['the query string plays no part in matching', 'paths.example.com', '/foo?x=/aaa', 'foo-exact'],
    ['Prefix /foo/ ignores its trailing slash: /foo matches', 'strict.example.com', '/foo', 'foo-prefix'],
    ['Prefix /foo/ matches /foo/x', 'strict.example.com', '/foo/x', 'foo-prefix'],
    ['Prefix /foo/ does not match /foobar: the default backend answers', 'strict.example.com', '/foobar', 'fallback'],
    ['Exact /bar matches /bar', 'strict.example.com', '/bar', 'foo-exact'],
    ['Exact /bar does not match /bar/', 'strict.example.com', '/bar/', 'fallback'],
    ['Prefix /aaa/bbb/ matches /aaa/bbb', 'strict.example.com', '/aaa/bbb', 'aaabbb'],
    ['Prefix /aaa/bbb/ does not match /aaa/bb', 'strict.example.com', '/aaa/bb', 'fallback'],
  ];
  for (const [behaviour, host, p, want] of routes) {
    it(`routes by path: ${behaviour} (${host}${p} → ${want})`, async () => {
      const r = await get(host, p);
      assert.deepEqual([r.code, r.body], [200, want]);
    });
  }

  const hosts: [string, string, string][] = [
    ['an exact host matches case-insensitively', 'PATHS.Example.COM', 'root'],
    ['an exact host matches with a port in Host', 'paths.example.com:80', 'root'],
    ['a wildcard host matches one more label', 'a.wild.example.com', 'wild'],
    ['a wildcard host matches another single label', 'zz-9.wild.example.com', 'wild'],
    ['a wildcard host does not match two more labels', 'a.b.wild.example.com', 'fallback'],
    ['a wildcard host does not match its own base', 'wild.example.com', 'fallback'],
    ['an unknown host gets the default backend of the class-less Ingress', 'unknown.example.org', 'fallback'],
  ];
  for (const [behaviour, host, want] of hosts) {
    it(`routes by host: ${behaviour} (${host} → ${want})`, async () => {
      const r = await get(host, '/');
      assert.deepEqual([r.code, r.body], [200, want]);
    });
  }

  it('spreads the requests of one Service over all its pods (agnhost /hostname names the pod)', async () => {
    const names = new Set((await c.k(['-n', NS, 'get', 'pods', '-l', 'app=load', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' '));
    const r = await curl(['-m', '10', '-H', 'Host: load.example.com', '-w', WRITE_OUT, ...Array.from({ length: 30 }, () => `http://${lbIP}/hostname`)]);
    const replies = parseTransfers(r.stdout);
    assert.equal(replies.length, 30, r.stderr);
    assert.ok(replies.every((x) => x.code === 200 && names.has(x.body)), JSON.stringify(replies.filter((x) => !names.has(x.body))));
    assert.equal(new Set(replies.map((x) => x.body)).size, LOAD_REPLICAS, 'round-robin reaches every pod');
  });

  it('presents the Secret\'s certificate for its TLS host: curl verifies it against the test CA', async () => {
    const r = await curl(['-m', '10', '--cacert', tls.ca, '--resolve', `secure.example.com:443:${lbIP}`, '-w', WRITE_OUT, 'https://secure.example.com/']);
    assert.equal(r.status, 0, r.stderr);
    const [reply] = parseTransfers(r.stdout);
    assert.deepEqual([reply?.code, reply?.body], [200, 'aaa']);
    const seen = await presented('secure.example.com');
    assert.match(seen, /subject=CN ?= ?secure\.example\.com/);
    assert.match(seen, /issuer=CN ?= ?flatnet-test-ca/);
  });

  it('serves HTTP/2 to clients offering h2 on the TLS port', async () => {
    const r = await curl(['-m', '10', '--http2', '--cacert', tls.ca, '--resolve', `secure.example.com:443:${lbIP}`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', 'https://secure.example.com/']);
    assert.equal(r.stdout, '2 200', r.stderr);
  });

  it('presents the default certificate (the one flatnet up generated) for other names and without SNI', async () => {
    const fingerprint = await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', join('/run/flatnet', c.name, 'ingress', 'tls.crt')]);
    assert.equal(fingerprint.status, 0, fingerprint.stderr);
    for (const name of ['paths.example.com', 'unknown.example.org', undefined]) {
      const seen = await presented(name);
      assert.match(seen, /subject=CN ?= ?flatnet-ingress-default/, `SNI ${name ?? '(none)'}`);
      assert.ok(seen.includes(fingerprint.stdout.trim()), `SNI ${name ?? '(none)'}: ${seen}`);
    }
    const strict = await curl(['-m', '10', '--cacert', tls.ca, '--resolve', `paths.example.com:443:${lbIP}`, 'https://paths.example.com/']);
    assert.equal(strict.status, 60, 'the default certificate is not trusted by the test CA');
    const insecure = await curl(['-m', '10', '-k', '--resolve', `paths.example.com:443:${lbIP}`, '-w', WRITE_OUT, 'https://paths.example.com/aaa']);
    assert.deepEqual(parseTransfers(insecure.stdout).map((x) => [x.code, x.body]), [[200, 'aaa']]);
    assert.equal(readFileSync(join('/run/flatnet', c.name, 'ingress', 'tls.key'), 'utf8').includes('PRIVATE KEY'), true);
  });

  it('answers 503 for a missing Service, records a ServiceNotFound Warning Event, and serves once the Service exists', async () => {
    const r = await curl(['-m', '10', '-H', 'Host: broken.example.com', '-D', '-', '-o', '/dev/null', `http://${lbIP}/`]);
    assert.match(r.stdout, /^HTTP\/1\.1 503/);
    assert.match(r.stdout, /x-flatnet-ingress: /i);
    const event = await waitFor('a Warning Event on Ingress broken', async () => {
      const list = JSON.parse(await c.k(['-n', NS, 'get', 'events', '-o', 'json'])) as { items: { type?: string; reason?: string; message?: string; involvedObject: { kind?: string; name?: string } }[] };
      return list.items.find((e) => e.involvedObject.kind === 'Ingress' && e.involvedObject.name === 'broken' && e.type === 'Warning' && e.reason === 'ServiceNotFound');
    });
    assert.match(event.message ?? '', /does-not-exist/);
    const describe = await c.k(['-n', NS, 'describe', 'ingress', 'broken']);
    assert.match(describe, /Warning\s+ServiceNotFound/);
    // The Service appears (selecting the root pods): the route heals without touching the Ingress.
    await c.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'does-not-exist', namespace: NS },
      spec: { selector: { app: 'root' }, ports: [{ port: 80, targetPort: 5678 }] } }));
    await waitBody('broken.example.com', '/', 'root');
  });

  // Two ways a backend pod dies under load: its processes crash (SIGKILL; the endpoint stays listed until
  // readiness fails, so the proxy meets refused connections) and the pod is force-deleted (its network
  // namespace and address vanish). 150 requests at 15/s on fresh connections (spread over both controller
  // replicas), each capped at 8 s by curl; the victim dies 2 s in.
  const kills: [string, (victim: { name: string; netns: string }) => Promise<void>][] = [
    ['its processes are SIGKILLed', async (victim) => {
      const pids = await run('ip', ['netns', 'pids', victim.netns]);
      const list = pids.stdout.split('\n').filter((s) => /^\d+$/.test(s));
      assert.ok(list.length > 0, `processes in ${victim.netns}: ${pids.stderr}`);
      const killed = await run('kill', ['-KILL', ...list]);
      assert.equal(killed.status, 0, killed.stderr);
    }],
    ['it is force-deleted', async (victim) => {
      await c.k(['-n', NS, 'delete', 'pod', victim.name, '--grace-period=0', '--force', '--wait=false']);
    }],
  ];
  for (const [how, kill] of kills) {
    it(`keeps every request bounded when a backend pod dies mid-load because ${how}: retried or failed fast, never hung`, async () => {
      const pods = JSON.parse(await c.k(['-n', NS, 'get', 'pods', '-l', 'app=load', '-o', 'json'])) as { items: { metadata: { name: string; uid: string } }[] };
      const first = pods.items[0];
      assert.ok(first, 'a load pod');
      const victim = { name: first.metadata.name, uid: first.metadata.uid, netns: `fn-${c.name}-p-${first.metadata.uid.replace(/[^a-z0-9]/gi, '').slice(0, 10)}` };
      const load = curl(['-m', '8', '--rate', '15/s', '-H', 'Host: load.example.com', '-H', 'Connection: close', '-w', WRITE_OUT,
        ...Array.from({ length: 150 }, () => `http://${lbIP}/hostname`)], 120_000);
      await new Promise((r) => setTimeout(r, 2_000));
      await kill(victim);
      const r = await load;
      const replies = parseTransfers(r.stdout);
      assert.equal(replies.length, 150, `every transfer finished: ${r.stderr}`);
      const slowest = Math.max(...replies.map((x) => x.seconds));
      const ok = replies.filter((x) => x.code === 200).length;
      const codes = [...new Set(replies.map((x) => x.code))].sort();
      console.log(`# a backend pod dies mid-load (${how}): ${ok}/150 answered 200, codes ${codes.join(',')}, slowest ${slowest.toFixed(3)} s`);
      assert.ok(replies.slice(0, 20).some((x) => x.body === victim.name), 'the victim served before it died');
      assert.ok(slowest < 5, `slowest request took ${slowest} s`);
      assert.ok(replies.every((x) => x.code === 200 || x.code === 502 || x.code === 503), `codes: ${codes.join(',')}`);
      assert.ok(ok >= 145, `${ok}/150 succeeded`);
      // The Deployment heals (the crashed container restarts; the deleted pod is replaced) before the next case.
      await waitFor(`${LOAD_REPLICAS} ready load pods`, async () => {
        const out = await c.k(['-n', NS, 'get', 'pods', '-l', 'app=load', '-o', 'jsonpath={range .items[*]}{.metadata.uid} {.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].restartCount}{"\\n"}{end}']);
        const rows = out.split('\n').filter((l) => l !== '').map((l) => l.split(' '));
        const ready = rows.filter((x) => x[1] === 'True');
        const victimRow = rows.find((x) => x[0] === victim.uid);
        const healed = how.includes('SIGKILL') ? Number(victimRow?.[2] ?? 0) >= 1 : victimRow === undefined;
        return ready.length === LOAD_REPLICAS && healed ? true : undefined;
      }, 60_000);
    });
  }

  it('loses no request while the Ingress is edited under load (300 requests over ~10 s)', async () => {
    const url = `http://${lbIP}/`;
    const urls = (n: number, u: string) => Array.from({ length: n }, () => u);
    // Three clients at 10 requests/s each: keep-alive HTTP/1.1, a new connection per request, HTTPS (h2).
    const loads = [
      curl(['-m', '8', '--rate', '10/s', '-H', 'Host: live.example.com', '-w', WRITE_OUT, ...urls(100, url)], 120_000),
      curl(['-m', '8', '--rate', '10/s', '-H', 'Host: live.example.com', '-H', 'Connection: close', '-w', WRITE_OUT, ...urls(100, url)], 120_000),
      curl(['-m', '8', '--rate', '10/s', '-k', '--resolve', `live.example.com:443:${lbIP}`, '-w', WRITE_OUT, ...urls(100, 'https://live.example.com/')], 120_000),
    ];
    const patches = [
      [{ op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'green' }],
      [{ op: 'add', path: '/spec/rules/0/http/paths/-', value: { path: '/extra', pathType: 'Prefix', backend: { service: { name: 'blue', port: { number: 80 } } } } }],
      [{ op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'blue' }],
      [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/edited': 'yes' } }],
      [{ op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'green' }],
      [{ op: 'remove', path: '/spec/rules/0/http/paths/1' }],
      [{ op: 'add', path: '/spec/rules/-', value: { host: 'other.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'blue', port: { number: 80 } } } }] } } }],
      [{ op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'blue' }],
      [{ op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'green' }],
    ];
    for (const p of patches) {
      await new Promise((r) => setTimeout(r, 900));
      await c.k(['-n', NS, 'patch', 'ingress', 'live', '--type', 'json', '-p', JSON.stringify(p)]);
    }
    const results = await Promise.all(loads);
    const replies = results.flatMap((r) => parseTransfers(r.stdout));
    const failed = replies.filter((x) => x.code !== 200 || (x.body !== 'blue' && x.body !== 'green'));
    const greens = replies.filter((x) => x.body === 'green').length;
    console.log(`# edits under load: ${replies.length} requests, ${failed.length} failed, ${greens} green, slowest ${Math.max(...replies.map((x) => x.seconds)).toFixed(3)} s`);
    assert.equal(replies.length, 300, results.map((r) => r.stderr).join('\n'));
    assert.deepEqual(failed, []);
    assert.ok(greens > 0 && greens < 300, 'the edits took effect while the load ran');
    await waitBody('live.example.com', '/', 'green');
  });
});
