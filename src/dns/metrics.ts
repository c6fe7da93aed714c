// Prometheus metrics named and labelled as CoreDNS's (so dashboards and alerts written for CoreDNS work),
// and the small HTTP endpoint that serves them with /health and /ready.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

/** Cheap identity of a label set (label names are fixed per metric; escaping waits for render time). */
function seriesKey(labels: Labels): string {
  let k = '';
  for (const v of Object.values(labels)) k += v + '\u0001';
  return k;
}

class Counter {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels, by = 1): void {
    const key = seriesKey(labels);
    const cur = this.values.get(key);
    if (cur !== undefined) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Labels): number {
    return this.values.get(seriesKey(labels))?.value ?? 0;
  }
  render(out: string[], type = 'counter'): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${type}`);
    for (const { labels, value } of this.values.values()) out.push(`${this.name}${labelText(labels)} ${value}`);
  }
}

class Histogram {
  readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
  }
  observe(labels: Labels, v: number): void {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= (this.buckets[i] ?? 0)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += v;
    s.count++;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i] ?? 0}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
  }
}

/** CoreDNS's request-duration buckets: 0.25 ms doubling 16 times. */
export const DURATION_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

export type Proto = 'udp' | 'tcp';

export class DnsMetrics {
  readonly server: string;
  readonly zone = '.';
  readonly requests = new Counter('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.');
  readonly responses = new Counter('coredns_dns_responses_total', 'Counter of response status codes.');
  readonly duration = new Histogram('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took.', DURATION_BUCKETS);
  readonly cacheHits = new Counter('coredns_cache_hits_total', 'The count of cache hits.');
  readonly cacheMisses = new Counter('coredns_cache_misses_total', 'The count of cache misses.');
  readonly forwardRequests = new Counter('coredns_forward_requests_total', 'Counter of requests made per upstream.');
  readonly forwardResponses = new Counter('coredns_forward_responses_total', 'Counter of responses received per upstream.');
  readonly panics = new Counter('coredns_panics_total', 'A metrics that counts the number of panics.');
  /** Called at render time for gauges that are read, not counted. */
  cacheEntries: () => { success: number; denial: number } = () => ({ success: 0, denial: 0 });

  constructor(server = 'dns://:53') {
    this.server = server;
  }

  request(proto: Proto, family: 4 | 6, type: string): void {
    this.requests.inc({ server: this.server, zone: this.zone, view: '', proto, family: family === 6 ? '2' : '1', type });
  }

  response(rcode: string, type: string, seconds: number, plugin: string): void {
    this.responses.inc({ server: this.server, zone: this.zone, view: '', rcode, plugin });
    this.duration.observe({ server: this.server, zone: this.zone, view: '', type }, seconds);
  }

  cacheHit(kind: 'success' | 'denial'): void {
    this.cacheHits.inc({ server: this.server, type: kind, zones: '.', view: '' });
  }

  cacheMiss(): void {
    this.cacheMisses.inc({ server: this.server, zones: '.', view: '' });
  }

  forwarded(to: string, rcode: string | undefined): void {
    this.forwardRequests.inc({ to });
    if (rcode !== undefined) this.forwardResponses.inc({ to, rcode });
  }

  render(): string {
    const out: string[] = [];
    this.requests.render(out);
    this.responses.render(out);
    this.duration.render(out);
    this.cacheHits.render(out);
    this.cacheMisses.render(out);
    const entries = this.cacheEntries();
    out.push('# HELP coredns_cache_entries The number of elements in the cache.', '# TYPE coredns_cache_entries gauge');
    out.push(`coredns_cache_entries${labelText({ server: this.server, type: 'success', zones: '.', view: '' })} ${entries.success}`);
    out.push(`coredns_cache_entries${labelText({ server: this.server, type: 'denial', zones: '.', view: '' })} ${entries.denial}`);
    this.forwardRequests.render(out);
    this.forwardResponses.render(out);
    this.panics.render(out);
    out.push('# HELP coredns_build_info A metric with a constant \'1\' value labeled by version, revision, and goversion from which CoreDNS was built.', '# TYPE coredns_build_info gauge');
    out.push(`coredns_build_info${labelText({ version: 'flatnet', revision: '', goversion: `node${process.versions.node}` })} 1`);
    return out.join('\n') + '\n';
  }
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics (Prometheus text), /health (200 while running) and /ready (200 once `isReady()`). */
export function startMetricsServer(options: { host: string; port: number; metrics: DnsMetrics; isReady: () => boolean }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(options.metrics.render());
    } else if (path === '/health') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
    } else if (path === '/ready') {
      const ready = options.isReady();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ready ? 'OK' : 'not ready: caches not synced');
    } else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
