// Program entry of the cluster DNS server (runs in a pod, or on the host for tests and benchmarks):
//   node src/dns/main.ts --listen 0.0.0.0:53 --domain cluster.local [--kubeconfig PATH] [--upstream IP]
// Prints one JSON line {"dns":"host:port","metrics":port} once listening; stops on SIGTERM/SIGINT.
import { FlagError, apiClientFor, parseDnsFlags, startDns } from './dns-program.ts';

async function main(argv: string[]): Promise<void> {
  const config = parseDnsFlags(argv);
  const client = apiClientFor(config);
  const dns = await startDns(config, client);
  process.stdout.write(JSON.stringify({ dns: `${config.listenHost}:${dns.dnsPort}`, metrics: dns.health?.port ?? null }) + '\n');
  dns.feed?.synced.then(() => process.stderr.write(`dns: caches synced; serving ${config.domain} (${JSON.stringify(dns.zone.stats())})\n`), () => {});
  const shutdown = () => {
    dns.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`dns: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof FlagError ? 2 : 1);
});
