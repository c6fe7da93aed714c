// kill -9 of `flatnet server` during a burst of writes, then restart on the same data directory: every
// write that got a 2xx is there, and a watch from the last seen resourceVersion resumes (or gets 410 Gone
// and the client relists).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

interface Running {
  child: ChildProcess;
  url: string;
  token: string;
  ca: string;
}

async function startServer(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(root, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const { url } = JSON.parse(line) as { url: string };
  return { child, url, token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), ca: readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8') };
}

function call(s: Running, agent: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((res) => {
    const req = request(s.url + path, { method, agent, ca: s.ca, headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }, timeout: 5000 }, (r) => {
      let data = '';
      r.on('data', (d: Buffer) => (data += d.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: data }));
      r.on('error', () => res({ status: 0, body: data }));
    });
    req.on('error', () => res({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('crash recovery of the API server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-crash-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across kill -9 and lets a watch resume or relist', async () => {
    const first = await startServer(dataDir);
    children.push(first.child);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const acked: { name: string; rv: string }[] = [];
    let killed = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 400 && !killed; i++) {
        const name = `w${w}-${i}`;
        const r = await call(first, agent, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } });
        if (r.status === 201) acked.push({ name, rv: (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion });
      }
    });
    // Kill mid-burst, once a good number of writes have been acknowledged (bounded wait).
    const deadline = Date.now() + 20_000;
    while (acked.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    agent.destroy();
    assert.ok(acked.length >= 300, `only ${acked.length} writes acknowledged before the kill`);

    const second = await startServer(dataDir);
    children.push(second.child);
    const agent2 = new Agent({ keepAlive: true });
    const list = await call(second, agent2, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.status, 200);
    const parsed = JSON.parse(list.body) as { metadata: { resourceVersion: string }; items: { metadata: { name: string } }[] };
    const present = new Set(parsed.items.map((i) => i.metadata.name));
    const missing = acked.filter((a) => !present.has(a.name));
    assert.deepEqual(missing, [], 'acknowledged writes lost');

    // The newest acknowledged revision is older than the list's: a watch from it resumes with history.
    const lastAcked = Math.max(...acked.map((a) => Number(a.rv)));
    assert.ok(Number(parsed.metadata.resourceVersion) >= lastAcked);
    const created = await call(second, agent2, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restart' } });
    assert.equal(created.status, 201);
    const newRv = Number((JSON.parse(created.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    assert.ok(newRv > lastAcked, 'revisions keep increasing after the restart');
    const watched = await new Promise<string>((res) => {
      const req = request(`${second.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${lastAcked}&timeoutSeconds=2`, { ca: second.ca, headers: { Authorization: `Bearer ${second.token}` } }, (r) => {
        let data = '';
        r.on('data', (d: Buffer) => {
          data += d.toString();
          if (data.includes('after-restart')) req.destroy();
        });
        r.on('close', () => res(data));
      });
      req.on('error', () => undefined);
      req.end();
    });
    const events = watched.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { metadata?: { name?: string }; code?: number } });
    const resumed = events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'after-restart');
    const gone = events.some((e) => e.type === 'ERROR' && e.object.code === 410);
    assert.ok(resumed || gone, `watch neither resumed nor reported 410: ${watched.slice(0, 300)}`);
    agent2.destroy();
    second.child.kill('SIGTERM');
  });
});
