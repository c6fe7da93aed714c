// The cluster DNS program: flags, API connection (kubeconfig or in-cluster service account), the zone fed
// by informers, the DNS server, the forwarder with its cache, and the metrics/health endpoint.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../client/kube-client.ts';
import { ClusterZone } from './core/cluster-zone.ts';
import type { PodRecordMode } from './core/cluster-zone.ts';
import { feedClusterZone } from './cluster-feed.ts';
import type { ClusterFeed } from './cluster-feed.ts';
import { DnsServer } from './dns-server.ts';
import { Forwarder, parseUpstream, upstreamsFromResolvConf } from './forwarder.ts';
import type { Upstream } from './forwarder.ts';
import { DnsMetrics, startMetricsServer } from './metrics.ts';
import type { HealthServer } from './metrics.ts';
import { ResponseCache } from './response-cache.ts';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface DnsConfig {
  listenHost: string;
  listenPort: number;
  domain: string;
  /** Explicit upstreams; when empty, the nameservers of `resolvConf`. */
  upstreams: Upstream[];
  resolvConf: string;
  kubeconfig: string | undefined;
  context: string | undefined;
  serviceAccountDir: string;
  /** `host:port` of /metrics, /health, /ready, or undefined for none. */
  metricsHost: string | undefined;
  metricsPort: number;
  ttl: number;
  podMode: PodRecordMode;
  nameserverAddresses: string[];
  cacheSize: number;
  upstreamTimeoutMs: number;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export const USAGE = `usage: node src/dns/main.ts [flags]
  --listen HOST:PORT        DNS address, UDP and TCP (default 0.0.0.0:53)
  --domain NAME             cluster domain (default cluster.local)
  --upstream A[,B...]       upstream resolvers HOST[:PORT] (default: nameservers of --resolv-conf)
  --resolv-conf PATH        (default /etc/resolv.conf)
  --kubeconfig PATH         API access (default: in-cluster, KUBERNETES_SERVICE_HOST/PORT + service account)
  --context NAME            kubeconfig context
  --service-account-dir P   in-cluster token and ca.crt (default ${DEFAULT_SERVICE_ACCOUNT_DIR})
  --metrics HOST:PORT|off   /metrics, /health, /ready (default 0.0.0.0:9153)
  --ttl SECONDS             TTL of cluster records (default 5)
  --pods insecure|verified|disabled   pod A records (default insecure)
  --nameserver-ip IP[,IP]   addresses answered for ns.dns.<domain>
  --cache-size N            forwarder cache entries (default 10000)
  --upstream-timeout MS     per-upstream timeout (default 2000)`;

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (m === null) throw new FlagError(`${flag}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new FlagError(`${flag}: port out of range`);
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port };
}

export function parseDnsFlags(argv: readonly string[]): DnsConfig {
  const c: DnsConfig = {
    listenHost: '0.0.0.0', listenPort: 53, domain: 'cluster.local', upstreams: [], resolvConf: '/etc/resolv.conf',
    kubeconfig: undefined, context: undefined, serviceAccountDir: DEFAULT_SERVICE_ACCOUNT_DIR, metricsHost: '0.0.0.0', metricsPort: 9153,
    ttl: 5, podMode: 'insecure', nameserverAddresses: [], cacheSize: 10_000, upstreamTimeoutMs: 2000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new FlagError(`${flag} needs a value`);
      return v;
    };
    const int = (v: string): number => {
      if (!/^\d+$/.test(v)) throw new FlagError(`${flag}: not a number: ${v}`);
      return Number(v);
    };
    switch (flag) {
      case '--listen': {
        const hp = hostPort(value(), flag);
        c.listenHost = hp.host;
        c.listenPort = hp.port;
        break;
      }
      case '--domain': c.domain = value(); break;
      case '--upstream': c.upstreams.push(...value().split(',').filter((s) => s !== '').map(parseUpstream)); break;
      case '--resolv-conf': c.resolvConf = value(); break;
      case '--kubeconfig': c.kubeconfig = value(); break;
      case '--context': c.context = value(); break;
      case '--service-account-dir': c.serviceAccountDir = value(); break;
      case '--metrics': {
        const v = value();
        if (v === 'off') c.metricsHost = undefined;
        else {
          const hp = hostPort(v, flag);
          c.metricsHost = hp.host;
          c.metricsPort = hp.port;
        }
        break;
      }
      case '--ttl': c.ttl = int(value()); break;
      case '--pods': {
        const v = value();
        if (v !== 'insecure' && v !== 'verified' && v !== 'disabled') throw new FlagError(`--pods: insecure, verified or disabled, got ${v}`);
        c.podMode = v;
        break;
      }
      case '--nameserver-ip': c.nameserverAddresses.push(...value().split(',').filter((s) => s !== '')); break;
      case '--cache-size': c.cacheSize = int(value()); break;
      case '--upstream-timeout': c.upstreamTimeoutMs = int(value()); break;
      case '-h':
      case '--help': throw new FlagError(USAGE);
      default: throw new FlagError(`unknown flag ${arg}\n${USAGE}`);
    }
  }
  return c;
}

/** A client from --kubeconfig, else from the in-cluster environment (KUBERNETES_SERVICE_HOST/PORT + token). */
export function apiClientFor(config: DnsConfig, env: Record<string, string | undefined> = process.env): KubeClient {
  if (config.kubeconfig !== undefined) return KubeClient.fromKubeconfig(config.kubeconfig, config.context, { userAgent: 'flatnet-dns' });
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (host === undefined || host === '') throw new FlagError('no --kubeconfig and not in a cluster (KUBERNETES_SERVICE_HOST is unset)');
  const token = readFileSync(join(config.serviceAccountDir, 'token'), 'utf8').trim();
  const ca = readFileSync(join(config.serviceAccountDir, 'ca.crt'), 'utf8');
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new KubeClient({ server, token, ca, userAgent: 'flatnet-dns' });
}

export interface RunningDns {
  zone: ClusterZone;
  server: DnsServer;
  forwarder: Forwarder;
  metrics: DnsMetrics;
  health: HealthServer | undefined;
  feed: ClusterFeed | undefined;
  dnsPort: number;
  stop(): Promise<void>;
}

/** Starts everything; with a client, the zone is fed from the API and the server is ready once synced. */
export async function startDns(config: DnsConfig, client: KubeClient | undefined): Promise<RunningDns> {
  const zone = new ClusterZone({ domain: config.domain, ttl: config.ttl, podMode: config.podMode, nameserverAddresses: config.nameserverAddresses, initialSerial: Math.floor(Date.now() / 1000) });
  const upstreams = config.upstreams.length > 0 ? config.upstreams : upstreamsFromResolvConf(readFileSync(config.resolvConf, 'utf8'));
  const metrics = new DnsMetrics(`dns://${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${config.listenPort}`);
  const cache = new ResponseCache({ capacity: config.cacheSize });
  metrics.cacheEntries = () => cache.counts();
  const forwarder = new Forwarder({ upstreams, cache, metrics, timeoutMs: config.upstreamTimeoutMs });
  const server = new DnsServer({ authority: zone, forwarder, metrics, host: config.listenHost, port: config.listenPort, ready: client === undefined });
  const { port } = await server.start();
  const health = config.metricsHost === undefined ? undefined : await startMetricsServer({ host: config.metricsHost, port: config.metricsPort, metrics, isReady: () => server.ready });
  const feed = client === undefined ? undefined : feedClusterZone(client, zone);
  feed?.synced.then(() => server.setReady(true), () => {});
  return {
    zone, server, forwarder, metrics, health, feed, dnsPort: port,
    async stop() {
      await feed?.stop();
      await server.stop();
      forwarder.close();
      await health?.close();
      client?.close();
    },
  };
}
