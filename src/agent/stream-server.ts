// The node agents' streaming endpoint (the kubelet's server on :10250): container logs, exec and attach.
// The API server proxies `pods/log`, `pods/exec` and `pods/attach` here. Exec and attach speak the
// Kubernetes WebSocket remote-command protocol (v5.channel.k8s.io / v4.channel.k8s.io): every binary
// message starts with a stream id (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize, 255 close).
// It listens on loopback only and requires the cluster's admin bearer token.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { renderForClient, type LogRecord } from '../runtime/core/cri-log.ts';
import type { PodRuntime } from '../runtime/pod-runtime.ts';
import { RuntimeError } from '../runtime/runtime-errors.ts';

export interface PodLocator {
  /** The runtime and uid of a pod running on one of this process's nodes. */
  find(namespace: string, name: string): { runtime: PodRuntime; uid: string; containers: string[] } | undefined;
}

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

function statusJson(code: number, message: string, exitCode?: number): string {
  if (code === 0) return JSON.stringify({ metadata: {}, status: 'Success' });
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message,
    reason: exitCode !== undefined ? 'NonZeroExitCode' : 'InternalError',
    ...(exitCode !== undefined ? { details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] } } : {}),
  });
}

export class StreamServer {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => PROTOCOLS.find((p) => protocols.has(p)) ?? false });
  private readonly token: Buffer;
  private readonly pods: PodLocator;

  constructor(opts: { token: string; pods: PodLocator }) {
    this.token = Buffer.from(opts.token);
    this.pods = opts.pods;
    this.server = createServer((req, res) => void this.handle(req, res).catch((e: unknown) => this.fail(res, 500, e instanceof Error ? e.message : String(e))));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Bearer ')) return false;
    const given = Buffer.from(h.slice(7).trim());
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private fail(res: ServerResponse, code: number, message: string): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError', code });
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(body);
  }

  /** Parses /<verb>/<ns>/<pod>[/<container>] and resolves the pod and container. */
  private target(url: URL): { verb: string; runtime: PodRuntime; uid: string; container: string; pod: string } | { error: number; message: string } {
    const [verb = '', ns = '', pod = '', containerPath] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const found = this.pods.find(ns, pod);
    if (!found) return { error: 404, message: `pods "${pod}" not found on this node` };
    const container = containerPath ?? url.searchParams.get('container') ?? found.containers[0] ?? '';
    if (!found.containers.includes(container)) {
      return { error: 400, message: `container ${container} is not valid for pod ${pod}` };
    }
    return { verb, runtime: found.runtime, uid: found.uid, container, pod };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorized(req)) return this.fail(res, 401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'http://agent');
    const t = this.target(url);
    if ('error' in t) return this.fail(res, t.error, t.message);
    if (t.verb !== 'containerLogs') return this.fail(res, 404, `unknown endpoint ${t.verb}`);
    const q = url.searchParams;
    const follow = q.get('follow') === 'true';
    const previous = q.get('previous') === 'true';
    const timestamps = q.get('timestamps') === 'true';
    const tail = q.get('tailLines');
    const sinceSeconds = q.get('sinceSeconds');
    const sinceTime = q.get('sinceTime') ?? (sinceSeconds ? new Date(Date.now() - Number(sinceSeconds) * 1000).toISOString() : undefined);
    const limitBytes = q.get('limitBytes');
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    try {
      if (!follow) {
        const text = await t.runtime.readLogs(t.uid, t.container, {
          previous, timestamps, ...(tail ? { tailLines: Number(tail) } : {}), ...(sinceTime ? { sinceTime } : {}), ...(limitBytes ? { limitBytes: Number(limitBytes) } : {}),
        });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(text);
        return;
      }
      // Follow: the tail of what is written so far, then live records from where that ended.
      const existing: { record: LogRecord; nextOffset: number }[] = [];
      for await (const e of t.runtime.streamLog(t.uid, t.container, { previous, signal: abort.signal })) existing.push(e);
      const since = existing.filter((e) => sinceTime === undefined || e.record.time >= sinceTime);
      const shown = tail !== null ? since.slice(Math.max(0, since.length - Number(tail))) : since;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.write(renderForClient(shown.map((e) => e.record), timestamps));
      const fromOffset = existing[existing.length - 1]?.nextOffset ?? 0;
      for await (const e of t.runtime.streamLog(t.uid, t.container, { previous, follow: true, fromOffset, signal: abort.signal })) {
        res.write(renderForClient([e.record], timestamps));
      }
      res.end();
    } catch (e) {
      if (e instanceof RuntimeError) return this.fail(res, e.code === 'PodNotFound' || e.code === 'ContainerNotFound' ? 404 : 400, e.message);
      throw e;
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (code: number, message: string) => {
      socket.end(`HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : 'Bad Request'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}`);
    };
    if (!this.authorized(req)) return reject(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'http://agent');
    const t = this.target(url);
    if ('error' in t) return reject(t.error, t.message);
    if (t.verb !== 'exec' && t.verb !== 'attach') return reject(400, `unknown endpoint ${t.verb}`);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        if (t.verb === 'exec') this.runExec(ws, t, url);
        else this.runAttach(ws, t, url);
      } catch (e) {
        ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(statusJson(1, e instanceof Error ? e.message : String(e)))]));
        ws.close(1000);
      }
    });
  }

  private wire(ws: WebSocket, stdin: NodeJS.WritableStream | null, stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream, wantStdin: boolean): void {
    const send = (id: number, chunk: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([id]), chunk]));
    };
    stdout.on('data', (d: Buffer) => send(STDOUT, d));
    stderr.on('data', (d: Buffer) => send(STDERR, d));
    ws.on('message', (data: Buffer) => {
      const id = data[0];
      const payload = data.subarray(1);
      if (id === STDIN && wantStdin && stdin) stdin.write(payload);
      else if (id === CLOSE && payload[0] === STDIN && stdin) stdin.end();
    });
  }

  private runExec(ws: WebSocket, t: { runtime: PodRuntime; uid: string; container: string }, url: URL): void {
    const q = url.searchParams;
    const command = q.getAll('command');
    const wantStdin = q.get('stdin') === 'true' || q.get('input') === '1';
    const tty = q.get('tty') === 'true' || q.get('tty') === '1';
    const session = t.runtime.exec(t.uid, t.container, command, { stdin: wantStdin, tty });
    this.wire(ws, session.stdin, session.stdout, session.stderr, wantStdin);
    ws.on('close', () => session.kill('SIGKILL'));
    // The runtime resolves the exit code only once the output streams have closed.
    void session.exitCode.then((code) => {
      if (ws.readyState === ws.OPEN) {
        ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(statusJson(code, `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`, code === 0 ? undefined : code))]));
        ws.close(1000);
      }
    });
  }

  private runAttach(ws: WebSocket, t: { runtime: PodRuntime; uid: string; container: string }, url: URL): void {
    const wantStdin = url.searchParams.get('stdin') === 'true';
    const session = t.runtime.attach(t.uid, t.container);
    this.wire(ws, session.stdin, session.stdout, session.stderr, wantStdin);
    ws.on('close', () => session.detach());
    session.stdout.on('end', () => {
      if (ws.readyState === ws.OPEN) {
        ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(statusJson(0, ''))]));
        ws.close(1000);
      }
    });
  }
}
