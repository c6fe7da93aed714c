// Test support for the ingress proxy and controller: echo backends on loopback, API objects pointing at
// them, and small async HTTP/curl helpers (servers run in the test process: never spawn synchronously).
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { networkInterfaces } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import type { EndpointSlice, Ingress, IngressClass, IngressSpec, Secret, Service } from '../api/types.ts';

export interface EchoBackend {
  name: string;
  port: number;
  server: http.Server;
  hits: number;
  /** Stops listening and drops every connection at once (a crashed backend). */
  kill(): Promise<void>;
}

export interface EchoReply {
  server: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP server answering JSON (`EchoReply`) after `delayMs`, and echoing on upgraded connections. */
export async function startEchoBackend(name: string, delayMs = 0, host = '127.0.0.1'): Promise<EchoBackend> {
  const sockets = new Set<Socket>();
  const backend: EchoBackend = {
    name, port: 0, hits: 0,
    server: http.createServer((req, res) => {
      backend.hits++;
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const reply = (): void => {
          const text = JSON.stringify({ server: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body } satisfies EchoReply);
          res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
          res.end(text);
        };
        if (delayMs > 0) setTimeout(reply, delayMs);
        else reply();
      });
    }),
    async kill() {
      await new Promise<void>((resolve) => {
        backend.server.close(() => resolve());
        backend.server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
  backend.server.keepAliveTimeout = 60_000;
  backend.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  backend.server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    backend.hits++;
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${String(req.headers['upgrade'])}\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => backend.server.listen(0, host, () => resolve()));
  backend.port = (backend.server.address() as AddressInfo).port;
  return backend;
}

/** A non-loopback IPv4 address of this machine (the API server refuses loopback endpoints). */
export function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address for test backends');
}

export const ingressClass = (name = 'flatnet', isDefault = false): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller: 'flatnet.dev/ingress' },
});

export function makeIngress(name: string, spec: IngressSpec, annotations?: Record<string, string>, namespace = 'default'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: '2024-01-01T00:00:00Z', ...(annotations ? { annotations } : {}) },
    spec: { ingressClassName: 'flatnet', ...spec },
  };
}

/** A Service on port 80 named `http` plus one EndpointSlice per backend (`ip` on the backend's port). */
export function serviceFor(name: string, ports: readonly number[], namespace = 'default', ip = '127.0.0.1'): { service: Service; slices: EndpointSlice[] } {
  return {
    service: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    slices: ports.map((port, i) => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }], endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    })),
  };
}

export function tlsSecret(name: string, cert: string, key: string, namespace = 'default', resourceVersion = '1'): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, resourceVersion }, type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request through `agent`, failing after `timeoutMs`. */
export function httpGet(port: number, path: string, host: string, options: { agent?: http.Agent; timeoutMs?: number; method?: string; body?: string } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host }, agent: options.agent ?? false, timeout: options.timeoutMs ?? 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl asynchronously (bounded by --max-time and a process timeout). */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
