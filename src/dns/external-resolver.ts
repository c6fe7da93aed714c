// The lab's "internet" resolver: a DNS server in the `external` namespace serving a small static zone
// (`example.com` and friends, pointing at the external side's address), so that cluster DNS has a real
// upstream to forward names outside the cluster domain to — and no lab query ever leaves the machine.
import type { Command } from '../cli/command.ts';
import { CliError, stringOpt } from '../cli/command.ts';
import { StaticZone } from './core/static-zone.ts';
import { EXTERNAL_ZONE, externalZoneRecords } from './core/external-zone.ts';
import { DnsServer } from './dns-server.ts';

export const externalDnsCommand: Command = {
  name: 'external-dns',
  summary: "serve the lab's internet names (run by `flatnet up` inside the external namespace)",
  usage: 'external-dns --address IP [--zone example.com] [--listen 0.0.0.0] [--port 53]',
  options: {
    address: { type: 'string', help: 'the address the zone\'s names resolve to (the external side)' },
    zone: { type: 'string', help: 'zone served', default: 'example.com' },
    listen: { type: 'string', help: 'listen address', default: '0.0.0.0' },
    port: { type: 'string', help: 'port', default: '53' },
  },
  async run(values) {
    const address = stringOpt(values, 'address');
    if (!address) throw new CliError('--address is required', 2);
    const zone = stringOpt(values, 'zone') ?? EXTERNAL_ZONE;
    const authority = new StaticZone({ origin: zone, records: externalZoneRecords(zone, address) });
    const server = new DnsServer({ authority, host: stringOpt(values, 'listen') ?? '0.0.0.0', port: Number(stringOpt(values, 'port') ?? '53'), ready: true });
    const { port } = await server.start();
    process.stdout.write(`${JSON.stringify({ zone, port })}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await server.stop();
    return 0;
  },
};
