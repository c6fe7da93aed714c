// `flatnet trace FROM TO` arguments as the user types them. Pure.
//   FROM: `ns/pod` (or `pod` in default), `node/NAME`, `external`.
//   TO:   a URL (`http://web.shop:8080/path`), `host:port`, a Service name as the pod would type it
//         (`nginx-service`, `web.shop`, `web.shop.svc.cluster.local`), an IP, or `ns/pod:port` / `pod/ns/name:port`.
import { tryParseIPv4 } from '../net/ipv4.ts';
import { ModelError, type TraceSource, type TraceTarget } from './types.ts';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parseTraceSource(text: string): TraceSource {
  const t = text.trim();
  if (t === 'external' || t === 'ext') return { kind: 'external' };
  const node = /^(?:node|nodes|no)\/(.+)$/.exec(t);
  if (node !== null) return { kind: 'node', name: node[1] ?? '' };
  const stripped = t.replace(/^(?:pod|pods|po)\//, '');
  const parts = stripped.split('/');
  if (parts.length === 1 && NAME.test(parts[0] ?? '')) return { kind: 'pod', namespace: 'default', name: parts[0] ?? '' };
  if (parts.length === 2 && NAME.test(parts[0] ?? '') && NAME.test(parts[1] ?? '')) return { kind: 'pod', namespace: parts[0] ?? '', name: parts[1] ?? '' };
  throw new ModelError('InvalidFlow', `FROM ${JSON.stringify(text)}: use ns/pod, node/NAME or external`);
}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new ModelError('InvalidFlow', `${what}: port ${JSON.stringify(text)} must be 1-65535`);
  return n;
}

export function parseTraceTarget(text: string): TraceTarget {
  const t = text.trim();
  const url = /^(https?):\/\/([^/:?#]+)(?::(\d+))?([/?#].*)?$/i.exec(t);
  if (url !== null) {
    const scheme = (url[1] ?? 'http').toLowerCase() === 'https' ? 'https' : 'http';
    const host = (url[2] ?? '').toLowerCase();
    const p = url[3] !== undefined ? port(url[3], t) : undefined;
    const base = { scheme, ...(p !== undefined ? { port: p } : {}), ...(url[4] !== undefined ? { path: url[4] } : {}) } as const;
    return tryParseIPv4(host) !== undefined ? { kind: 'ip', ip: host, ...base } : { kind: 'name', host, ...base };
  }
  const podRef = /^(?:pod\/)?([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)(?::(\d+))?$/.exec(t);
  if (podRef !== null) {
    const p = podRef[3] !== undefined ? port(podRef[3], t) : undefined;
    return { kind: 'pod', namespace: podRef[1] ?? '', name: podRef[2] ?? '', ...(p !== undefined ? { port: p } : {}) };
  }
  const hostPort = /^([^:/\s]+)(?::(\d+))?$/.exec(t);
  if (hostPort !== null) {
    const host = (hostPort[1] ?? '').toLowerCase();
    const p = hostPort[2] !== undefined ? port(hostPort[2], t) : undefined;
    if (tryParseIPv4(host) !== undefined) return { kind: 'ip', ip: host, ...(p !== undefined ? { port: p } : {}) };
    if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/.test(host)) return { kind: 'name', host, ...(p !== undefined ? { port: p } : {}) };
  }
  throw new ModelError('InvalidFlow', `TO ${JSON.stringify(text)}: use a URL, host:port, a Service name, an IP[:port] or ns/pod:port`);
}
