// KubeClient against a scripted plain-HTTP server: paths, queries, headers and bodies on the wire, error
// reconstruction, timeouts and watch stream decoding. The TLS path is covered by the integration tests
// against the real API server (kube-client.integration.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../api/errors.ts';
import { resourceByPlural } from '../api/resources.ts';
import type { ResourceInfo } from '../api/resources.ts';
import type { ConfigMap, Event, WatchEvent } from '../api/types.ts';
import { KubeTransportError } from './client-errors.ts';
import { KubeClient, resourcePath } from './kube-client.ts';

function mustResource(group: string, plural: string): ResourceInfo {
  const r = resourceByPlural(group, 'v1', plural);
  if (r === undefined) throw new Error(`no resource ${plural}`);
  return r;
}
const pods = mustResource('', 'pods');
const nodes = mustResource('', 'nodes');
const configmaps = mustResource('', 'configmaps');
const deployments = mustResource('apps', 'deployments');

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Responder = (req: Recorded, res: ServerResponse) => void;

/** A plain-HTTP server that records each request and answers with the current responder. */
class FakeServer {
  readonly requests: Recorded[] = [];
  responder: Responder = (_req, res) => json(res, 200, {});
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      this.requests.push(rec);
      this.responder(rec, res);
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  last(): Recorded {
    const r = this.requests.at(-1);
    if (r === undefined) throw new Error('no request recorded');
    return r;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const cm = (name: string, rv = '1'): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns1', resourceVersion: rv }, data: { k: 'v' } });

describe('resourcePath', () => {
  const cases: { name: string; got: () => string; want: string }[] = [
    { name: 'a namespaced core collection', got: () => resourcePath(pods, 'ns1'), want: '/api/v1/namespaces/ns1/pods' },
    { name: 'a core collection across namespaces', got: () => resourcePath(pods, undefined), want: '/api/v1/pods' },
    { name: 'a cluster-scoped object, ignoring a namespace', got: () => resourcePath(nodes, 'ns1', 'n1'), want: '/api/v1/nodes/n1' },
    { name: 'a grouped object subresource', got: () => resourcePath(deployments, 'ns1', 'web', 'scale'), want: '/apis/apps/v1/namespaces/ns1/deployments/web/scale' },
    { name: 'a name that needs escaping', got: () => resourcePath(configmaps, 'ns1', 'a b'), want: '/api/v1/namespaces/ns1/configmaps/a%20b' },
  ];
  for (const c of cases) it(`builds ${c.want} for ${c.name}`, () => assert.equal(c.got(), c.want));

  it('rejects an empty object name', () => {
    assert.throws(() => resourcePath(pods, 'ns1', ''), TypeError);
  });
});

describe('KubeClient over HTTP', () => {
  const server = new FakeServer();
  let client: KubeClient;

  before(async () => {
    await server.start();
    client = new KubeClient({ server: server.url, token: 'tok', requestTimeoutMs: 500, userAgent: 'test-agent' });
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  it('gets an object with the bearer token, JSON accept header and user agent', async () => {
    server.responder = (_r, res) => json(res, 200, cm('a'));
    const got = await client.get<ConfigMap>(configmaps, 'ns1', 'a');
    assert.equal(got.metadata.name, 'a');
    const req = server.last();
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/api/v1/namespaces/ns1/configmaps/a');
    assert.equal(req.headers['authorization'], 'Bearer tok');
    assert.equal(req.headers['accept'], 'application/json');
    assert.equal(req.headers['user-agent'], 'test-agent');
  });

  it('refuses a namespaced get without a namespace before sending anything', async () => {
    const before = server.requests.length;
    await assert.rejects(client.get(configmaps, undefined, 'a'), TypeError);
    assert.equal(server.requests.length, before);
  });

  it('passes list selectors, paging and resourceVersion as query parameters', async () => {
    server.responder = (_r, res) => json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [cm('a')] });
    const list = await client.list(configmaps, 'ns1', { labelSelector: 'app=web,tier!=db', fieldSelector: 'metadata.name=a', limit: 5, continue: 'tok1', resourceVersion: '7' });
    assert.equal(list.items.length, 1);
    const q = new URL(server.last().url, 'http://x').searchParams;
    assert.equal(q.get('labelSelector'), 'app=web,tier!=db');
    assert.equal(q.get('fieldSelector'), 'metadata.name=a');
    assert.equal(q.get('limit'), '5');
    assert.equal(q.get('continue'), 'tok1');
    assert.equal(q.get('resourceVersion'), '7');
  });

  it('listAll follows continue tokens and returns every item with the snapshot resourceVersion', async () => {
    server.responder = (r, res) => {
      const cont = new URL(r.url, 'http://x').searchParams.get('continue');
      const page = cont === null ? 0 : Number(cont);
      const items = [cm(`p${page}-a`), cm(`p${page}-b`)];
      json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '42', ...(page < 2 ? { continue: String(page + 1) } : {}) }, items });
    };
    const before = server.requests.length;
    const list = await client.listAll(configmaps, 'ns1', { pageSize: 2 });
    assert.equal(server.requests.length - before, 3);
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['p0-a', 'p0-b', 'p1-a', 'p1-b', 'p2-a', 'p2-b']);
    assert.equal(list.metadata.resourceVersion, '42');
    assert.equal(list.metadata.continue, undefined);
  });

  it('listAll falls back to one unpaginated list when a continue token has expired', async () => {
    server.responder = (r, res) => {
      const q = new URL(r.url, 'http://x').searchParams;
      if (q.get('continue') !== null) return json(res, 410, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, metadata: {} });
      if (q.get('limit') !== null) return json(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: '1', continue: 'c' }, items: [cm('a')] });
      json(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: '5' }, items: [cm('a'), cm('b')] });
    };
    const list = await client.listAll(configmaps, 'ns1', { pageSize: 1 });
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['a', 'b']);
    assert.equal(list.metadata.resourceVersion, '5');
  });

  it('creates with apiVersion and kind filled in from the resource and write options in the query', async () => {
    server.responder = (r, res) => json(res, 201, JSON.parse(r.body));
    await client.create(configmaps, undefined, { metadata: { name: 'n', namespace: 'ns2' } }, { dryRun: true, fieldManager: 'me', fieldValidation: 'Strict' });
    const req = server.last();
    assert.equal(req.method, 'POST');
    assert.match(req.url, /^\/api\/v1\/namespaces\/ns2\/configmaps\?/);
    const q = new URL(req.url, 'http://x').searchParams;
    assert.equal(q.get('dryRun'), 'All');
    assert.equal(q.get('fieldManager'), 'me');
    assert.equal(q.get('fieldValidation'), 'Strict');
    assert.deepEqual(JSON.parse(req.body), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n', namespace: 'ns2' } });
    assert.equal(req.headers['content-type'], 'application/json');
  });

  it('updates and updates status with PUT to the object and its status subresource', async () => {
    server.responder = (r, res) => json(res, 200, JSON.parse(r.body));
    await client.update(configmaps, 'ns1', cm('u', '3'));
    assert.equal(server.last().method, 'PUT');
    assert.equal(server.last().url, '/api/v1/namespaces/ns1/configmaps/u');
    assert.equal(JSON.parse(server.last().body).metadata.resourceVersion, '3');
    await client.updateStatus(pods, 'ns1', { metadata: { name: 'p' }, status: { phase: 'Running' } });
    assert.equal(server.last().url, '/api/v1/namespaces/ns1/pods/p/status');
  });

  const patchCases: { type: 'json' | 'merge' | 'strategic' | 'apply'; body: unknown; contentType: string; query: Record<string, string> }[] = [
    { type: 'json', body: [{ op: 'add', path: '/data/x', value: '1' }], contentType: 'application/json-patch+json', query: {} },
    { type: 'merge', body: { data: { x: '1' } }, contentType: 'application/merge-patch+json', query: {} },
    { type: 'strategic', body: { data: { x: '1' } }, contentType: 'application/strategic-merge-patch+json', query: {} },
    { type: 'apply', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'ctl', force: 'true' } },
  ];
  for (const c of patchCases) {
    it(`sends a ${c.type} patch as ${c.contentType}`, async () => {
      server.responder = (_r, res) => json(res, 200, cm('a'));
      await client.patch(configmaps, 'ns1', 'a', c.body, { type: c.type, ...(c.type === 'apply' ? { fieldManager: 'ctl', force: true } : {}) });
      const req = server.last();
      assert.equal(req.method, 'PATCH');
      assert.equal(req.headers['content-type'], c.contentType);
      assert.deepEqual(JSON.parse(req.body), c.body);
      const q = Object.fromEntries(new URL(req.url, 'http://x').searchParams);
      assert.deepEqual(q, c.query);
    });
  }

  it('refuses server-side apply without a field manager and a JSON patch that is not a list', async () => {
    await assert.rejects(client.patch(configmaps, 'ns1', 'a', {}, { type: 'apply' }), TypeError);
    await assert.rejects(client.patch(configmaps, 'ns1', 'a', {}, { type: 'json' }), TypeError);
  });

  it('deletes with a DeleteOptions body carrying propagation, grace period and preconditions', async () => {
    server.responder = (_r, res) => json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200, metadata: {} });
    const result = await client.delete(configmaps, 'ns1', 'a', { propagationPolicy: 'Foreground', gracePeriodSeconds: 0, preconditions: { uid: 'u1', resourceVersion: '4' } });
    assert.equal((result as { status?: string }).status, 'Success');
    const req = server.last();
    assert.equal(req.method, 'DELETE');
    assert.deepEqual(JSON.parse(req.body), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', gracePeriodSeconds: 0, preconditions: { uid: 'u1', resourceVersion: '4' } });
  });

  it('binds a pod by POSTing a Binding to pods/<name>/binding', async () => {
    server.responder = (_r, res) => json(res, 201, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201, metadata: {} });
    await client.bind('ns1', 'p1', 'node-a');
    const req = server.last();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/v1/namespaces/ns1/pods/p1/binding');
    assert.deepEqual(JSON.parse(req.body), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1', namespace: 'ns1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } });
  });

  it('scales through the scale subresource with an autoscaling/v1 Scale', async () => {
    server.responder = (r, res) => json(res, 200, JSON.parse(r.body));
    const scale = await client.updateScale(deployments, 'ns1', 'web', 3);
    assert.equal(server.last().url, '/apis/apps/v1/namespaces/ns1/deployments/web/scale');
    assert.equal(server.last().method, 'PUT');
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec?.replicas, 3);
  });

  it('records an Event about a cluster-scoped object in the default namespace', async () => {
    server.responder = (r, res) => json(res, 201, JSON.parse(r.body));
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'uid-1' } };
    const ev: Event = await client.createEvent(node, { type: 'Warning', reason: 'Boom', message: 'it broke', component: 'flatnet-agent', host: 'n1' });
    assert.equal(server.last().url, '/api/v1/namespaces/default/events');
    assert.deepEqual(ev.involvedObject, { kind: 'Node', apiVersion: 'v1', name: 'n1', uid: 'uid-1' });
    assert.equal(ev.reason, 'Boom');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.count, 1);
    assert.deepEqual(ev.source, { component: 'flatnet-agent', host: 'n1' });
    assert.match(ev.metadata.name ?? '', /^n1\.[0-9a-f]+$/);
    assert.match(ev.firstTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('turns a Status failure into an ApiError with its reason, code and details', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', metadata: {}, message: 'configmaps "a" already exists', reason: 'AlreadyExists', code: 409, details: { name: 'a', kind: 'configmaps' } };
    server.responder = (_r, res) => json(res, 409, status);
    await assert.rejects(client.create(configmaps, 'ns1', cm('a')), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.reason, 'AlreadyExists');
      assert.equal(e.code, 409);
      assert.equal(e.message, status.message);
      assert.deepEqual(e.details, status.details);
      return true;
    });
  });

  const bareErrors: { code: number; reason: string }[] = [
    { code: 404, reason: 'NotFound' },
    { code: 403, reason: 'Forbidden' },
    { code: 422, reason: 'Invalid' },
    { code: 502, reason: 'InternalError' },
  ];
  for (const b of bareErrors) {
    it(`maps a bare HTTP ${b.code} without a Status to ApiError ${b.reason}`, async () => {
      server.responder = (_r, res) => {
        res.writeHead(b.code, { 'Content-Type': 'text/plain' });
        res.end('nope');
      };
      await assert.rejects(client.get(configmaps, 'ns1', 'a'), (e: unknown) => e instanceof ApiError && e.code === b.code && e.reason === b.reason && e.message === 'nope');
    });
  }

  it('fails with a Timeout transport error when the server does not answer within the deadline', async () => {
    server.responder = () => { /* never answers */ };
    const started = Date.now();
    await assert.rejects(client.get(configmaps, 'ns1', 'slow', { timeoutMs: 100 }), (e: unknown) => e instanceof KubeTransportError && e.code === 'Timeout');
    assert.ok(Date.now() - started < 2000, "gave up near the deadline, not at the server's leisure");
  });

  it('fails with an Aborted transport error when the caller cancels', async () => {
    server.responder = () => { /* never answers */ };
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(client.get(configmaps, 'ns1', 'slow', { signal: ac.signal }), (e: unknown) => e instanceof KubeTransportError && e.code === 'Aborted');
  });

  it('fails with a Decode transport error when a 2xx body is not JSON', async () => {
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{not json');
    };
    await assert.rejects(client.get(configmaps, 'ns1', 'a'), (e: unknown) => e instanceof KubeTransportError && e.code === 'Decode');
  });

  it('decodes watch events split across chunks, passes the watch options and ends when the server closes', async () => {
    const events: WatchEvent<ConfigMap>[] = [
      { type: 'ADDED', object: cm('a', '2') },
      { type: 'MODIFIED', object: cm('a', '3') },
      { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: '4' } } },
      { type: 'DELETED', object: cm('a', '5') },
    ];
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = events.map((e) => JSON.stringify(e) + '\n').join('');
      // Cut the stream at awkward places, including inside a multi-byte-free JSON token.
      const cuts = [7, 50, 51, 120, text.length];
      let from = 0;
      let i = 0;
      const tick = (): void => {
        const to = cuts[i++] ?? text.length;
        res.write(text.slice(from, to));
        from = to;
        if (from < text.length) setTimeout(tick, 5);
        else res.end();
      };
      tick();
    };
    const got: string[] = [];
    for await (const ev of client.watch<ConfigMap>(configmaps, 'ns1', { resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 30, labelSelector: 'a=b' })) {
      got.push(`${ev.type}:${ev.object.metadata.resourceVersion}`);
    }
    assert.deepEqual(got, ['ADDED:2', 'MODIFIED:3', 'BOOKMARK:4', 'DELETED:5']);
    const q = Object.fromEntries(new URL(server.last().url, 'http://x').searchParams);
    assert.deepEqual(q, { watch: '1', resourceVersion: '1', allowWatchBookmarks: 'true', timeoutSeconds: '30', labelSelector: 'a=b' });
  });

  it('ends a watch iteration quietly when stop() is called while waiting for events', async () => {
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: cm('a', '2') }) + '\n');
      // ...and then nothing more.
    };
    const w = client.watch<ConfigMap>(configmaps, 'ns1');
    const got: string[] = [];
    setTimeout(() => w.stop(), 100);
    for await (const ev of w) got.push(ev.type);
    assert.deepEqual(got, ['ADDED']);
    assert.equal(w.stopped, true);
  });

  it('ends a watch quietly when the caller\'s AbortSignal fires', async () => {
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: cm('a', '2') }) + '\n');
    };
    const ac = new AbortController();
    const w = client.watch<ConfigMap>(configmaps, 'ns1', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const got: string[] = [];
    for await (const ev of w) got.push(ev.type);
    assert.deepEqual(got, ['ADDED']);
    assert.equal(w.stopped, true);
  });

  it('throws the ApiError from the first iteration when the watch request itself fails', async () => {
    server.responder = (_r, res) => json(res, 410, { kind: 'Status', apiVersion: 'v1', status: 'Failure', metadata: {}, reason: 'Expired', code: 410, message: 'too old resource version' });
    const w = client.watch(configmaps, 'ns1', { resourceVersion: '1' });
    await assert.rejects(async () => {
      for await (const _ of w) { /* none */ }
    }, (e: unknown) => e instanceof ApiError && e.code === 410 && e.reason === 'Expired');
  });

  it('delivers a mid-stream ERROR event as an event', async () => {
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', metadata: {}, reason: 'Expired', code: 410 } }) + '\n');
    };
    const got: WatchEvent[] = [];
    for await (const ev of client.watch(configmaps, 'ns1', { resourceVersion: '1' })) got.push(ev);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.type, 'ERROR');
  });

  it('fails a watch with a Decode transport error on a line that is not a watch event', async () => {
    server.responder = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"hello":1}\n');
    };
    await assert.rejects(async () => {
      for await (const _ of client.watch(configmaps, 'ns1')) { /* none */ }
    }, (e: unknown) => e instanceof KubeTransportError && e.code === 'Decode');
  });
});

describe('KubeClient without a server', () => {
  it('fails with a ConnectionFailed transport error carrying the socket error as cause', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const client = new KubeClient({ server: `http://127.0.0.1:${port}` });
    await assert.rejects(client.get(nodes, undefined, 'n1'), (e: unknown) => {
      assert.ok(e instanceof KubeTransportError);
      assert.equal(e.code, 'ConnectionFailed');
      assert.equal((e.cause as { code?: string }).code, 'ECONNREFUSED');
      return true;
    });
    client.close();
  });
});
