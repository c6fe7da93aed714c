// Proxying `pods/log`, `pods/exec` and `pods/attach` from the API server to the node agent that runs the pod,
// as kube-apiserver proxies them to the kubelet: the Node's status.daemonEndpoints.kubeletEndpoint.Port on
// loopback (flatnet's agents run in the root namespace), authenticated with the cluster's admin token.
// Upgrades (WebSocket exec/attach) are spliced byte for byte after the request is rewritten.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError, apiErrors } from '../api/errors.ts';
import type { Node, Pod } from '../api/types.ts';
import { mustResource, type Registry } from './registry.ts';

export interface AgentTarget {
  port: number;
  path: string;
}

const VERB_PATH: Record<string, string> = { log: 'containerLogs', exec: 'exec', attach: 'attach' };

/** Where the agent serves this pod's subresource, or an ApiError saying why it can't be reached. */
export async function agentTarget(registry: Registry, namespace: string, name: string, subresource: string, search: URLSearchParams): Promise<AgentTarget> {
  const verb = VERB_PATH[subresource];
  if (verb === undefined) throw apiErrors.badRequest(`pods/${subresource} is not supported by this server`);
  const pod = (await registry.get(mustResource('', 'pods'), namespace, name)) as Pod;
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw apiErrors.badRequest(`pod ${name} does not have a host assigned`);
  let node: Node;
  try {
    node = (await registry.get(mustResource('', 'nodes'), undefined, nodeName)) as Node;
  } catch (e) {
    if (e instanceof ApiError && e.reason === 'NotFound') throw apiErrors.badRequest(`the node ${nodeName} of pod ${name} does not exist`);
    throw e;
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!port) throw apiErrors.serviceUnavailable(`the node agent of ${nodeName} has not reported an endpoint yet`);
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const container = search.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
  if (container === undefined) {
    throw apiErrors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
  }
  if (!containers.includes(container)) throw apiErrors.badRequest(`container ${container} is not valid for pod ${name}`);
  const q = new URLSearchParams(search);
  q.delete('container');
  const qs = q.toString();
  return { port, path: `/${verb}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ''}` };
}

/** Streams a plain (non-upgrade) response, e.g. logs with follow. */
export function proxyHttp(target: AgentTarget, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const up = httpRequest({ host: '127.0.0.1', port: target.port, path: target.path, method: 'GET', headers: { Authorization: `Bearer ${token}` } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, { 'Content-Type': ur.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' });
      ur.pipe(res);
      ur.on('end', resolve);
      ur.on('error', resolve);
    });
    up.on('error', (e) => reject(apiErrors.serviceUnavailable(`the node agent could not be reached: ${e.message}`)));
    req.on('close', () => up.destroy());
    up.end();
  });
}

/** Splices an upgrade request (WebSocket exec/attach) to the agent, rewriting path and credentials. */
export function proxyUpgrade(target: AgentTarget, token: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const upstream = connect(target.port, '127.0.0.1', () => {
    const lines = [`${req.method ?? 'GET'} ${target.path} HTTP/1.1`, `Host: 127.0.0.1:${target.port}`, `Authorization: Bearer ${token}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i] ?? '';
      const lower = k.toLowerCase();
      if (lower === 'host' || lower === 'authorization') continue;
      lines.push(`${k}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', () => {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nthe node agent could not be reached');
  });
  socket.on('error', close);
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}
