// Stand-in for the nginx image: an HTTP server on :80 that answers like a stock nginx — the
// "Welcome to nginx!" page on / and /index.html, nginx's 404/405 pages elsewhere, a `Server: nginx/…`
// header, and access log lines in nginx's combined format on stdout. NGINX_PORT (or the first
// `listen`-looking number in -g) changes the port. Self-contained: node builtins only (run stripped).
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

const VERSION = '1.27.3';
const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

function errorPage(code: number, text: string): string {
  return `<html>\r\n<head><title>${code} ${text}</title></head>\r\n<body>\r\n<center><h1>${code} ${text}</h1></center>\r\n<hr><center>nginx/${VERSION}</center>\r\n</body>\r\n</html>\r\n`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function logTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

const started = new Date();
const lastModified = started.toUTCString();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  let status = 200;
  let body: string;
  res.setHeader('Server', `nginx/${VERSION}`);
  res.setHeader('Content-Type', 'text/html');
  if (url === '/' || url === '/index.html') {
    if (req.method !== 'GET' && req.method !== 'HEAD') { status = 405; body = errorPage(405, 'Not Allowed'); }
    else {
      body = WELCOME;
      res.setHeader('Last-Modified', lastModified);
      res.setHeader('ETag', `"${Math.floor(started.getTime() / 1000).toString(16)}-${Buffer.byteLength(WELCOME).toString(16)}"`);
      res.setHeader('Accept-Ranges', 'bytes');
    }
  } else if (url === '/50x.html') {
    body = errorPage(500, 'Internal Server Error').replace('<title>500 Internal Server Error', '<title>Error');
  } else {
    status = 404;
    body = errorPage(404, 'Not Found');
  }
  const length = Buffer.byteLength(body);
  res.statusCode = status;
  res.setHeader('Content-Length', length);
  res.end(req.method === 'HEAD' ? undefined : body);
  const ua = req.headers['user-agent'] ?? '-';
  const ref = req.headers.referer ?? '-';
  const fwd = req.headers['x-forwarded-for'] ?? '-';
  process.stdout.write(`${(req.socket.remoteAddress ?? '-').replace(/^::ffff:/, '')} - - [${logTime(new Date())}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${length} "${ref}" "${ua}" "${String(fwd)}"\n`);
}

function listenPort(): number {
  const env = Number(process.env.NGINX_PORT);
  if (Number.isInteger(env) && env > 0 && env < 65536) return env;
  const g = process.argv.slice(2).join(' ');
  const m = /listen\s+(\d+)/.exec(g);
  return m !== null ? Number(m[1]) : 80;
}

const port = listenPort();
const server = createServer(handle);
// Signal handlers first: a SIGTERM right after the "ready" line must still exit 0, as nginx does.
const stop = (signal: string): void => {
  process.stderr.write(`[notice] 1#1: signal ${signal === 'SIGTERM' ? 15 : 3} (${signal}) received, exiting\n`);
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGQUIT', () => stop('SIGQUIT'));
process.on('SIGINT', () => stop('SIGINT'));
process.stdout.write('/docker-entrypoint.sh: Configuration complete; ready for start up\n');
server.keepAliveTimeout = 65_000;
server.on('error', (e: NodeJS.ErrnoException) => {
  process.stderr.write(`nginx: [emerg] bind() to 0.0.0.0:${port} failed (${e.errno ?? ''}: ${e.message})\n`);
  process.exit(1);
});
server.listen(port, () => {
  process.stderr.write(`${new Date().toISOString().replace('T', ' ').slice(0, 19).replaceAll('-', '/')} [notice] 1#1: nginx/${VERSION}\n`);
});

