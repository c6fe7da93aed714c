// The image programs, run as the runtime runs them (type-stripped, on Node 24), on free ports in the
// host network namespace. Each test is bounded by its own timeout.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareImages } from '../install.ts';
import type { ProgramName } from '../image-table.ts';

const images = prepareImages(mkdtempSync(join(tmpdir(), 'flatnet-images-')));
const children: ChildProcess[] = [];
after(() => { for (const c of children) c.kill('SIGKILL'); });

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function run(program: ProgramName, args: string[], env: Record<string, string> = {}): ChildProcess {
  const argv = images.programArgv(program);
  const c = spawn(argv[0] ?? '', [...argv.slice(1), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return { status: r.status, body: await r.text(), headers: r.headers };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url}`);
}

function exitOf(c: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  c.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => c.on('exit', (code) => resolve({ code, stderr })));
}

describe('image programs', { timeout: 30_000 }, () => {
  it('nginx serves the welcome page with an nginx Server header and 404s elsewhere', async () => {
    const port = await freePort();
    run('nginx', ['-g', 'daemon off;'], { NGINX_PORT: String(port) });
    const r = await get(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>Welcome to nginx!<\/title>/);
    assert.match(r.headers.get('server') ?? '', /^nginx\//);
    assert.equal((await get(`http://127.0.0.1:${port}/nope`)).status, 404);
  });

  it('http-echo answers with -text and exits 127 without it', async () => {
    const port = await freePort();
    run('http-echo', ['-text', 'hello there', `-listen=:${port}`]);
    assert.equal((await get(`http://127.0.0.1:${port}/anything`)).body, 'hello there\n');
    const bad = await exitOf(run('http-echo', []));
    assert.equal(bad.code, 127);
    assert.match(bad.stderr, /Missing -text option!/);
  });

  it('agnhost netexec answers /hostname, /echo, /clientip over HTTP and echo over UDP', async () => {
    const port = await freePort();
    const udpPort = await freePort();
    run('agnhost', ['netexec', `--http-port=${port}`, `--udp-port=${udpPort}`]);
    assert.ok((await get(`http://127.0.0.1:${port}/hostname`)).body.length > 0);
    assert.equal((await get(`http://127.0.0.1:${port}/echo?msg=ping`)).body, 'ping');
    assert.match((await get(`http://127.0.0.1:${port}/clientip`)).body, /^127\.0\.0\.1:\d+$/);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = createSocket('udp4');
      const t = setTimeout(() => { s.close(); reject(new Error('udp timeout')); }, 3000);
      s.on('message', (m) => { clearTimeout(t); s.close(); resolve(String(m)); });
      s.send('echo hi-udp', udpPort, '127.0.0.1');
    });
    assert.equal(reply, 'hi-udp');
  });

  it('agnhost porter serves SERVE_PORT_<n> values', async () => {
    const port = await freePort();
    run('agnhost', ['porter'], { [`SERVE_PORT_${port}`]: 'foo-bar' });
    assert.equal((await get(`http://127.0.0.1:${port}/`)).body, 'foo-bar');
  });

  it('agnhost connect exits 0 on a listening port and 1 with REFUSED on a closed one', async () => {
    const port = await freePort();
    run('http-echo', ['-text=x', `-listen=127.0.0.1:${port}`]);
    await get(`http://127.0.0.1:${port}/`);
    assert.equal((await exitOf(run('agnhost', ['connect', `127.0.0.1:${port}`, '--timeout=2s']))).code, 0);
    const closed = await freePort();
    const r = await exitOf(run('agnhost', ['connect', `127.0.0.1:${closed}`, '--timeout=2s']));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^REFUSED: /);
  });
});
