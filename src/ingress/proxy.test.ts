import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, Ingress, Secret, Service } from '../api/types.ts';
import { buildRoutingTable } from './core/routing-table.ts';
import type { RoutingTable } from './core/routing-table.ts';
import { generateSelfSigned } from './certs.ts';
import type { GeneratedCertificate } from './certs.ts';
import { IngressProxy } from './proxy.ts';
import { curl, httpGet, ingressClass, makeIngress, serviceFor, startEchoBackend, tlsSecret } from './test-support.ts';
import type { EchoBackend, EchoReply } from './test-support.ts';

interface World {
  ingresses: Ingress[];
  services: { service: Service; slices: EndpointSlice[] }[];
  secrets?: Secret[];
}

function tableOf(w: World): RoutingTable {
  return buildRoutingTable({
    ingresses: w.ingresses, ingressClasses: [ingressClass()], services: w.services.map((s) => s.service),
    endpointSlices: w.services.flatMap((s) => s.slices), secrets: w.secrets ?? [],
  }).table;
}

const backend = (service: string, port = 80) => ({ service: { name: service, port: { number: port } } });

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function peerCommonName(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

describe('the ingress proxy', () => {
  let dir: string;
  let defaultCert: GeneratedCertificate;
  let secureCert: GeneratedCertificate;
  let wrongCert: GeneratedCertificate;
  let a: EchoBackend;
  let b: EchoBackend;
  let slow: EchoBackend;
  let proxy: IngressProxy;
  let httpPort = 0;
  let httpsPort = 0;
  let world: World;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flatnet-ingress-test-'));
    [defaultCert, secureCert, wrongCert] = await Promise.all([
      generateSelfSigned('flatnet-default'), generateSelfSigned('secure.example.com', ['secure.example.com']), generateSelfSigned('elsewhere.example.org', ['elsewhere.example.org']),
    ]);
    await writeFile(join(dir, 'secure.crt'), secureCert.cert);
    [a, b, slow] = await Promise.all([startEchoBackend('A'), startEchoBackend('B'), startEchoBackend('SLOW', 3000)]);
    world = {
      ingresses: [
        makeIngress('main', {
          tls: [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }],
          rules: [
            { host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-a') }, { path: '/api', pathType: 'Prefix', backend: backend('svc-b') }] } },
            { host: '*.wild.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-b') }] } },
            { host: 'secure.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-a') }] } },
            { host: 'both.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-ab') }] } },
            { host: 'missing.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('no-such-svc') }] } },
            { host: 'half-dead.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-half-dead') }] } },
            { host: 'dead.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-dead') }] } },
            { host: 'slow.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-slow') }] } },
          ],
        }),
        makeIngress('redirect', { rules: [{ host: 'redirect.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc-a') }] } }] }, { 'flatnet.dev/ssl-redirect': 'true' }),
      ],
      services: [
        serviceFor('svc-a', [a.port]), serviceFor('svc-b', [b.port]), serviceFor('svc-ab', [a.port, b.port]),
        serviceFor('svc-half-dead', [await deadPort(), a.port]), serviceFor('svc-dead', [await deadPort()]), serviceFor('svc-slow', [slow.port]),
      ],
      secrets: [tlsSecret('secure-tls', secureCert.cert, secureCert.key)],
    };
    proxy = new IngressProxy({ defaultCertificate: defaultCert, responseTimeoutMs: 1000, ejectMs: 200 });
    assert.deepEqual(proxy.setTable(tableOf(world)), []);
    const ports = await proxy.listen({ host: '127.0.0.1', httpPort: 0, httpsPort: 0 });
    httpPort = ports.httpPort ?? 0;
    httpsPort = ports.httpsPort ?? 0;
  });

  after(async () => {
    await proxy.close(500);
    await Promise.all([a, b, slow].map((x) => x.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  const via = (host: string, path: string, scheme: 'http' | 'https' = 'http') => {
    const port = scheme === 'http' ? httpPort : httpsPort;
    return [`--resolve`, `${host}:${port}:127.0.0.1`, `${scheme}://${host}:${port}${path}`];
  };

  describe('routing with curl --resolve', () => {
    const cases: [string, string, string][] = [
      ['a.example.com', '/', 'A'],
      ['a.example.com', '/api/v1/things', 'B'],
      ['a.example.com', '/apix', 'A'],
      ['x.wild.example.com', '/', 'B'],
    ];
    for (const [host, path, want] of cases) {
      it(`a request for ${host}${path} reaches backend ${want}`, async () => {
        const r = await curl(via(host, path));
        assert.equal(r.code, 0, r.stderr);
        const reply = JSON.parse(r.stdout) as EchoReply;
        assert.equal(reply.server, want);
        assert.equal(reply.url, path);
      });
    }

    it('a host with no rule and no default backend gets a 404 page', async () => {
      const r = await curl(['-w', '\n%{http_code}', ...via('y.z.wild.example.com', '/')]);
      assert.match(r.stdout, /404 Not Found[\s\S]*y\.z\.wild\.example\.com[\s\S]*\n404$/);
    });

    it('the backend sees the original Host and X-Forwarded-For/-Proto/-Host/-Port', async () => {
      const r = await curl(['-H', 'X-Forwarded-For: 203.0.113.9', ...via('a.example.com', '/headers')]);
      const h = (JSON.parse(r.stdout) as EchoReply).headers;
      assert.equal(h['host'], `a.example.com:${httpPort}`);
      assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      assert.equal(h['x-forwarded-proto'], 'http');
      assert.equal(h['x-forwarded-host'], `a.example.com:${httpPort}`);
      assert.equal(h['x-forwarded-port'], String(httpPort));
    });

    it('a request body is forwarded', async () => {
      const r = await curl(['-X', 'POST', '--data-binary', 'hello body', ...via('a.example.com', '/post')]);
      const reply = JSON.parse(r.stdout) as EchoReply;
      assert.equal(reply.method, 'POST');
      assert.equal(reply.body, 'hello body');
    });

    it('requests to a Service with two endpoints are spread round-robin', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) seen.push((JSON.parse((await httpGet(httpPort, '/', 'both.example.com', { agent })).body) as EchoReply).server);
      agent.destroy();
      assert.equal(seen.filter((s) => s === 'A').length, 5);
      assert.equal(seen.filter((s) => s === 'B').length, 5);
    });

    it('a missing Service gets a 503 page naming it', async () => {
      const r = await httpGet(httpPort, '/', 'missing.example.com');
      assert.equal(r.status, 503);
      assert.match(r.body, /Service default\/no-such-svc not found/);
      assert.equal(r.headers['x-flatnet-ingress'], 'ServiceNotFound');
    });

    it('the ssl-redirect annotation sends plain HTTP to HTTPS with a 308', async () => {
      const r = await httpGet(httpPort, '/x?y=1', 'redirect.example.com');
      assert.equal(r.status, 308);
      assert.equal(r.headers['location'], `https://redirect.example.com:${httpsPort}/x?y=1`);
      const s = await curl(['--insecure', ...via('redirect.example.com', '/x', 'https')]);
      assert.equal((JSON.parse(s.stdout) as EchoReply).server, 'A');
    });
  });

  describe('TLS', () => {
    it('the Secret\'s certificate is presented for its host (curl verifies it against that certificate)', async () => {
      const r = await curl(['--cacert', join(dir, 'secure.crt'), ...via('secure.example.com', '/tls', 'https')]);
      assert.equal(r.code, 0, r.stderr);
      const reply = JSON.parse(r.stdout) as EchoReply;
      assert.equal(reply.server, 'A');
      assert.equal(reply.headers['x-forwarded-proto'], 'https');
    });

    it('other hosts get the default certificate', async () => {
      assert.equal(await peerCommonName(httpsPort, 'secure.example.com'), 'secure.example.com');
      assert.equal(await peerCommonName(httpsPort, 'a.example.com'), 'flatnet-default');
      const r = await curl(['--cacert', join(dir, 'secure.crt'), ...via('a.example.com', '/', 'https')]);
      assert.notEqual(r.code, 0, 'the default certificate must not verify as the Secret\'s');
    });

    it('clients that offer h2 by ALPN speak HTTP/2', async () => {
      const r = await curl(['--http2', '--insecure', '-o', '/dev/null', '-w', '%{http_version}', ...via('a.example.com', '/', 'https')]);
      assert.equal(r.stdout, '2');
      const one = await curl(['--http1.1', '--insecure', '-o', '/dev/null', '-w', '%{http_version}', ...via('a.example.com', '/', 'https')]);
      assert.equal(one.stdout, '1.1');
    });

    it('a certificate whose key does not match is reported and its host falls back to the default', async () => {
      const broken = { ...world, secrets: [tlsSecret('secure-tls', secureCert.cert, wrongCert.key, 'default', '2')] };
      const problems = proxy.setTable(tableOf(broken));
      try {
        assert.deepEqual(problems.map((p) => p.reason), ['TLSCertificateInvalid']);
        assert.equal(await peerCommonName(httpsPort, 'secure.example.com'), 'flatnet-default');
      } finally {
        proxy.setTable(tableOf(world));
      }
    });

    it('a certificate that does not cover its host is reported and the host falls back to the default', async () => {
      const other = { ...world, secrets: [tlsSecret('secure-tls', wrongCert.cert, wrongCert.key, 'default', '3')] };
      const problems = proxy.setTable(tableOf(other));
      try {
        assert.deepEqual(problems.map((p) => p.reason), ['TLSCertificateHostMismatch']);
        assert.equal(await peerCommonName(httpsPort, 'secure.example.com'), 'flatnet-default');
      } finally {
        proxy.setTable(tableOf(world));
      }
    });
  });

  describe('failures', () => {
    it('a connection refused by one endpoint is retried on the other', async () => {
      const before = proxy.stats.retries;
      for (let i = 0; i < 4; i++) {
        const r = await httpGet(httpPort, '/', 'half-dead.example.com');
        assert.equal(r.status, 200);
      }
      assert.ok(proxy.stats.retries > before, 'expected at least one retry');
    });

    it('a Service whose only endpoint is down gets a fast 502 page', async () => {
      const t = performance.now();
      const r = await httpGet(httpPort, '/', 'dead.example.com');
      assert.equal(r.status, 502);
      assert.match(r.body, /Bad Gateway[\s\S]*ECONNREFUSED/);
      assert.ok(performance.now() - t < 1000);
    });

    it('a backend that does not answer in time gets a 504 within the response timeout', async () => {
      const t = performance.now();
      const r = await httpGet(httpPort, '/', 'slow.example.com');
      assert.equal(r.status, 504);
      assert.ok(performance.now() - t < 2500);
    });
  });

  describe('WebSocket upgrades', () => {
    it('an Upgrade request is tunnelled to the backend and bytes flow both ways', async () => {
      const socket = net.connect(httpPort, '127.0.0.1');
      socket.setTimeout(5000, () => socket.destroy(new Error('upgrade timed out')));
      let got = '';
      const done = new Promise<string>((resolve, reject) => {
        socket.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('\r\n\r\n') && !got.includes('B:ping')) socket.write('ping');
          if (got.includes('B:ping')) resolve(got);
        });
        socket.on('error', reject);
      });
      socket.write('GET /chat HTTP/1.1\r\nHost: x.wild.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      const text = await done;
      socket.destroy();
      assert.match(text, /^HTTP\/1.1 101 /);
      assert.match(text, /X-Backend: B/);
    });
  });

  describe('under load', () => {
    async function load(total: number, concurrency: number, host: string, during?: () => Promise<void>): Promise<Map<string, number>> {
      const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
      const outcomes = new Map<string, number>();
      let next = 0;
      const workers = Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          let key: string;
          try {
            const r = await httpGet(httpPort, '/', host, { agent, timeoutMs: 5000 });
            key = r.status === 200 ? `200 ${(JSON.parse(r.body) as EchoReply).server}` : String(r.status);
          } catch (e) {
            key = `error ${e instanceof Error ? e.message : String(e)}`;
          }
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      });
      await Promise.all([...workers, during?.()]);
      agent.destroy();
      return outcomes;
    }

    it('swapping the table repeatedly under load fails no request', async () => {
      const toA = tableOf({ ...world, services: world.services.map((s) => (s.service.metadata.name === 'svc-ab' ? serviceFor('svc-ab', [a.port]) : s)) });
      const toB = tableOf({ ...world, services: world.services.map((s) => (s.service.metadata.name === 'svc-ab' ? serviceFor('svc-ab', [b.port]) : s)) });
      let swaps = 0;
      let running = true;
      const swapper = async (): Promise<void> => {
        for (let i = 0; i < 400 && running; i++) {
          proxy.setTable(i % 2 === 0 ? toA : toB);
          swaps++;
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      const outcomes = await load(1500, 16, 'both.example.com', async () => {
        await swapper();
      });
      running = false;
      proxy.setTable(tableOf(world));
      const failed = [...outcomes].filter(([k]) => !k.startsWith('200 ')).reduce((n, [, v]) => n + v, 0);
      assert.equal(failed, 0, JSON.stringify([...outcomes]));
      assert.ok((outcomes.get('200 A') ?? 0) > 0 && (outcomes.get('200 B') ?? 0) > 0, JSON.stringify([...outcomes]));
      assert.ok(swaps > 10);
    });

    it('a backend killed mid-load leads to retries or fast 502s, never a hang', async () => {
      const victim = await startEchoBackend('VICTIM', 5);
      const survivor = await startEchoBackend('SURVIVOR', 5);
      proxy.setTable(tableOf({ ...world, services: [...world.services.filter((s) => s.service.metadata.name !== 'svc-ab'), serviceFor('svc-ab', [victim.port, survivor.port])] }));
      try {
        const t = performance.now();
        const outcomes = await load(800, 16, 'both.example.com', async () => {
          await new Promise((r) => setTimeout(r, 150));
          await victim.kill();
        });
        const seconds = (performance.now() - t) / 1000;
        const bad = [...outcomes].filter(([k]) => !k.startsWith('200 ') && k !== '502');
        assert.deepEqual(bad, [], JSON.stringify([...outcomes]));
        assert.ok((outcomes.get('200 VICTIM') ?? 0) > 0, 'the victim served before it died');
        assert.ok((outcomes.get('200 SURVIVOR') ?? 0) > 400, JSON.stringify([...outcomes]));
        assert.ok(seconds < 20, `took ${seconds}s`);
      } finally {
        proxy.setTable(tableOf(world));
        await survivor.kill();
      }
    });
  });
});
