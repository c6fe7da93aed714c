// Stand-in for hashicorp/http-echo: every request gets `-text` plus a newline; /health answers
// {"status":"ok"}. Flags as Go's flag package reads them: -text=x, -text x, --text x; -listen (":5678"),
// -status-code (200). Missing -text exits 127 with upstream's complaint. Node builtins only.
import { createServer } from 'node:http';

function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(a);
    if (m === null) continue;
    const name = m[1] ?? '';
    if (m[2] !== undefined) out.set(name, m[2]);
    else if (name === 'version') out.set(name, 'true');
    else { out.set(name, argv[i + 1] ?? ''); i++; }
  }
  return out;
}

const flags = parseFlags(process.argv.slice(2));
if (flags.has('version')) { process.stdout.write('http-echo v1.0.0 (flatnet)\n'); process.exit(0); }
const text = flags.get('text') ?? process.env.ECHO_TEXT;
if (text === undefined || text === '') {
  process.stderr.write('Missing -text option!\n');
  process.exit(127);
}
const listen = flags.get('listen') ?? ':5678';
const statusCode = Number(flags.get('status-code') ?? '200');
const colon = listen.lastIndexOf(':');
const host = colon > 0 ? listen.slice(0, colon).replace(/^\[|\]$/g, '') : undefined;
const port = Number(listen.slice(colon + 1));

const server = createServer((req, res) => {
  res.setHeader('X-App-Name', 'http-echo');
  res.setHeader('X-App-Version', '1.0.0');
  if (req.url === '/health') {
    res.setHeader('Content-Type', 'application/json');
    res.end('{"status":"ok"}\n');
  } else {
    res.statusCode = Number.isInteger(statusCode) ? statusCode : 200;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`${text}\n`);
  }
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19).replaceAll('-', '/');
  process.stdout.write(`${now} ${req.headers.host ?? ''} ${(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${req.headers['user-agent'] ?? ''}\n`);
});
server.on('error', (e) => { process.stderr.write(`[ERR] Error starting server: ${e.message}\n`); process.exit(1); });
server.listen({ port, ...(host !== undefined && host !== '' ? { host } : {}) }, () => {
  process.stdout.write(`${new Date().toISOString().replace('T', ' ').slice(0, 19).replaceAll('-', '/')} [INFO] server is listening on ${listen}\n`);
});
process.on('SIGTERM', () => { server.close(); process.exit(0); });
process.on('SIGINT', () => { server.close(); process.exit(0); });
