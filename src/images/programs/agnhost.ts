// Stand-in for registry.k8s.io/e2e-test-images/agnhost: one program, subcommands as upstream.
//   netexec        --http-port=8080 --udp-port=8081: /, /hostname, /echo?msg=, /clientip, /header?key=,
//                  /shell?shellCommand=, /dial?request=&host=&port=&protocol=&tries=, /exit?code=,
//                  /healthz, /redirect?location=; UDP answers "hostname", "echo <text>", "clientip".
//   serve-hostname --port=9376 [--http(default)|--tcp|--udp] [--close]: answers the hostname.
//   porter         serves each env SERVE_PORT_<n>=<text> on TCP port n over HTTP.
//   connect        <host>:<port> [--timeout=5s] [--protocol=tcp|udp]: exit 0 when connected, else exit 1
//                  with TIMEOUT/REFUSED/OTHER/UNKNOWN on stderr.
//   pause          sleeps until SIGINT/SIGTERM, then exits 0.
//   liveness       /healthz answers 200 for 10 s after start, then 500.
//   dns-suffix, dns-server-list: the search domains / nameservers of /etc/resolv.conf, comma-separated.
// Node builtins only; the runtime runs it type-stripped.
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, createServer as createTcpServer } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

const BOOL_FLAGS = new Set(['tcp', 'udp', 'http', 'close', 'delay-shutdown-bool']);

function parseFlags(argv: readonly string[]): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(a);
    if (m === null) { positional.push(a); continue; }
    const name = m[1] ?? '';
    if (m[2] !== undefined) flags.set(name, m[2]);
    else if (BOOL_FLAGS.has(name)) flags.set(name, 'true');
    else { flags.set(name, argv[i + 1] ?? ''); i++; }
  }
  return { flags, positional };
}

function hostname(): string {
  return osHostname();
}

function onSignals(cleanup: () => void): void {
  for (const s of ['SIGTERM', 'SIGINT'] as const) {
    process.on(s, () => { cleanup(); process.exit(0); });
  }
}

function remoteAddr(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  const host = a.startsWith('::ffff:') ? a.slice(7) : a;
  return `${host.includes(':') ? `[${host}]` : host}:${req.socket.remotePort ?? 0}`;
}

function parseDurationMs(text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (m === null) return fallbackMs;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

// ------------------------------------------------------------------------------------------ netexec

function udpDial(host: string, port: number, message: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error('reading from udp connection failed. err:\'i/o timeout\'')); }, timeoutMs);
    sock.on('message', (msg) => { clearTimeout(timer); sock.close(); resolve(String(msg)); });
    sock.on('error', (e) => { clearTimeout(timer); sock.close(); reject(e); });
    sock.send(message, port, host);
  });
}

function httpDial(host: string, port: number, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: `/${path.replace(/^\//, '')}`, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(value));
}

function netexec(flags: Map<string, string>): void {
  const httpPort = Number(flags.get('http-port') ?? '8080');
  const udpPort = Number(flags.get('udp-port') ?? '8081');
  const override = flags.get('http-override');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const path = override !== undefined && override !== '' ? override : url.pathname;
    switch (path) {
      case '/':
        res.end(`NOW: ${new Date().toISOString()}`);
        return;
      case '/hostname':
      case '/hostName':
        res.end(hostname());
        return;
      case '/echo': {
        const code = Number(q.get('code') ?? '200');
        res.statusCode = Number.isInteger(code) && code >= 100 ? code : 200;
        res.end(q.get('msg') ?? '');
        return;
      }
      case '/clientip':
        res.end(remoteAddr(req));
        return;
      case '/header': {
        const v = req.headers[(q.get('key') ?? '').toLowerCase()];
        res.end(Array.isArray(v) ? v.join(',') : (v ?? ''));
        return;
      }
      case '/healthz':
        res.end('ok');
        return;
      case '/redirect': {
        res.statusCode = 301;
        res.setHeader('Location', q.get('location') ?? '/');
        res.end();
        return;
      }
      case '/exit': {
        const code = Number(q.get('code') ?? '0');
        res.end();
        setTimeout(() => process.exit(Number.isInteger(code) ? code : 0), 10);
        return;
      }
      case '/shell': {
        const cmd = q.get('shellCommand') ?? q.get('cmd') ?? '';
        execFile('sh', ['-c', cmd], { timeout: 30_000 }, (err, stdout, stderr) => {
          const out: Record<string, string> = { output: stdout + stderr };
          if (err !== null) out.error = err.message;
          json(res, out, err !== null ? 417 : 200);
        });
        return;
      }
      case '/dial': {
        const host = q.get('host') ?? '';
        const port = Number(q.get('port') ?? '0');
        const request = q.get('request') ?? '';
        const protocol = (q.get('protocol') ?? 'http').toLowerCase();
        const tries = Math.min(Math.max(Number(q.get('tries') ?? '1') || 1, 1), 100);
        const responses: string[] = [];
        const errors: string[] = [];
        void (async () => {
          for (let i = 0; i < tries; i++) {
            try {
              responses.push(protocol === 'udp' ? await udpDial(host, port, request, 1000) : await httpDial(host, port, request, 5000));
            } catch (e) {
              errors.push(e instanceof Error ? e.message : String(e));
            }
          }
          json(res, { responses, errors });
        })();
        return;
      }
      default:
        res.statusCode = 404;
        res.end('404 page not found\n');
    }
  });
  server.listen(httpPort, () => process.stdout.write(`Started HTTP server on port ${httpPort}\n`));
  server.on('error', (e) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
  let udp: ReturnType<typeof createSocket> | undefined;
  if (udpPort > 0) {
    udp = createSocket({ type: 'udp6', ipv6Only: false });
    udp.on('message', (msg, rinfo) => {
      const text = String(msg).trim();
      let reply: string;
      if (text === 'hostname' || text === 'hostName') reply = hostname();
      else if (text.startsWith('echo ')) reply = text.slice(5);
      else if (text === 'clientip') reply = `${rinfo.address.replace(/^::ffff:/, '')}:${rinfo.port}`;
      else reply = `unknown command "${text}"`;
      udp?.send(reply, rinfo.port, rinfo.address);
    });
    udp.on('error', (e) => { process.stderr.write(`udp: ${e.message}\n`); });
    udp.bind(udpPort, () => process.stdout.write(`Started UDP server on port ${udpPort}\n`));
  }
  onSignals(() => { server.close(); udp?.close(); });
}

// ----------------------------------------------------------------------------------- serve-hostname

function serveHostname(flags: Map<string, string>): void {
  const port = Number(flags.get('port') ?? '9376');
  const useTcp = flags.get('tcp') === 'true';
  const useUdp = flags.get('udp') === 'true';
  const useHttp = flags.has('http') ? flags.get('http') === 'true' : !useTcp && !useUdp;
  const close = flags.get('close') === 'true';
  const name = hostname();
  if (useHttp) {
    createServer((req, res) => {
      if (close) res.setHeader('Connection', 'close');
      res.end(name);
    }).listen(port);
    process.stdout.write(`Serving on port ${port}.\n`);
  }
  if (useTcp) {
    createTcpServer((s) => { s.end(name); }).listen(port);
  }
  if (useUdp) {
    const u = createSocket({ type: 'udp6', ipv6Only: false });
    u.on('message', (_m, r) => u.send(name, r.port, r.address));
    u.bind(port);
  }
  onSignals(() => undefined);
}

// ------------------------------------------------------------------------------------------ porter

function porter(): void {
  let count = 0;
  for (const [k, v] of Object.entries(process.env)) {
    const m = /^SERVE_PORT_(\d+)$/.exec(k);
    if (m === null || v === undefined) continue;
    const port = Number(m[1]);
    createServer((req, res) => {
      res.end(v);
    }).listen(port);
    process.stdout.write(`Serving on port ${port}.\n`);
    count++;
  }
  if (count === 0) process.stderr.write('No ports to serve: set SERVE_PORT_<n> variables\n');
  onSignals(() => undefined);
}

// ------------------------------------------------------------------------------------------ connect

function connectCmd(flags: Map<string, string>, positional: string[]): void {
  const target = positional[0];
  const timeoutMs = parseDurationMs(flags.get('timeout'), 5000);
  const protocol = (flags.get('protocol') ?? 'tcp').toLowerCase();
  const fail = (kind: string, msg: string): never => {
    process.stderr.write(`${kind}: ${msg}\n`);
    process.exit(1);
  };
  if (target === undefined) fail('UNKNOWN', 'usage: connect <host>:<port>');
  const t = target ?? '';
  const colon = t.lastIndexOf(':');
  const host = t.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(t.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) fail('UNKNOWN', `invalid destination ${t}`);
  if (protocol === 'udp') {
    udpDial(host, port, 'hostname', timeoutMs).then(() => process.exit(0), (e: Error) => fail('TIMEOUT', e.message));
    return;
  }
  if (protocol !== 'tcp') fail('UNKNOWN', `unsupported protocol ${protocol}`);
  const sock = tcpConnect({ host, port });
  const timer = setTimeout(() => { sock.destroy(); fail('TIMEOUT', `dial tcp ${t}: i/o timeout`); }, timeoutMs);
  sock.on('connect', () => { clearTimeout(timer); sock.destroy(); process.exit(0); });
  sock.on('error', (e: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (e.code === 'ECONNREFUSED') fail('REFUSED', `dial tcp ${t}: connect: connection refused`);
    if (e.code === 'ETIMEDOUT') fail('TIMEOUT', `dial tcp ${t}: i/o timeout`);
    fail('OTHER', `dial tcp ${t}: ${e.message}`);
  });
}

// ---------------------------------------------------------------------------------------------- misc

function pause(): void {
  process.stdout.write('Paused\n');
  for (const s of ['SIGTERM', 'SIGINT'] as const) {
    process.on(s, () => { process.stdout.write(`Shutting down after receiving signal: ${s === 'SIGTERM' ? 'terminated' : 'interrupt'}.\n`); process.exit(0); });
  }
  setInterval(() => undefined, 1 << 30);
}

function liveness(): void {
  const started = Date.now();
  createServer((req, res) => {
    const age = Date.now() - started;
    if (req.url === '/healthz' && age > 10_000) { res.statusCode = 500; res.end(`error: ${(age / 1000).toFixed(1)}`); return; }
    res.end('ok');
  }).listen(8080);
  onSignals(() => undefined);
}

function resolvConf(): { search: string[]; servers: string[] } {
  let text = '';
  try { text = readFileSync('/etc/resolv.conf', 'utf8'); } catch { /* empty */ }
  const search: string[] = [];
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const [k, ...rest] = line.trim().split(/\s+/);
    if (k === 'search') search.push(...rest);
    if (k === 'nameserver' && rest[0] !== undefined) servers.push(rest[0]);
  }
  return { search, servers };
}

const [sub, ...rest] = process.argv.slice(2);
const { flags, positional } = parseFlags(rest);
switch (sub) {
  case 'netexec': netexec(flags); break;
  case 'serve-hostname': serveHostname(flags); break;
  case 'porter': porter(); break;
  case 'connect': connectCmd(flags, positional); break;
  case 'pause': case undefined: pause(); break;
  case 'liveness': liveness(); break;
  case 'dns-suffix': process.stdout.write(resolvConf().search.join(',')); break;
  case 'dns-server-list': process.stdout.write(resolvConf().servers.join(',')); break;
  default:
    process.stderr.write(`Error: unknown command "${sub}" for "agnhost"\nsupported: netexec, serve-hostname, porter, connect, pause, liveness, dns-suffix, dns-server-list\n`);
    process.exit(1);
}
