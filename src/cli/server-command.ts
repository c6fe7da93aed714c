// `flatnet server`: runs the API server (and, as they land, the controllers) in the foreground.
import { startApiServer } from '../server/api-server.ts';
import { CliError, stringOpt, type Command } from './command.ts';

export const serverCommand: Command = {
  name: 'server',
  summary: 'run the API server alone, in the foreground',
  usage: 'server --data-dir DIR [--host ADDR] [--port N] [--storage sqlite|memory]',
  options: {
    'data-dir': { type: 'string', help: 'directory for state (SQLite), PKI and the kubeconfig' },
    host: { type: 'string', help: 'address to listen on', default: '127.0.0.1' },
    port: { type: 'string', help: 'port to listen on (0 picks a free one)', default: '6443' },
    storage: { type: 'string', help: 'sqlite or memory', default: 'sqlite' },
    name: { type: 'string', help: 'cluster name (used in the kubeconfig context and CA name)', default: 'flatnet' },
    'service-cidr': { type: 'string', help: 'Service ClusterIP range', default: '10.96.0.0/12' },
    'node-port-range': { type: 'string', help: 'NodePort range', default: '30000-32767' },
    'advertise-address': { type: 'string', help: 'address pods reach the API at (also listened on, port 6443)' },
  },
  async run(values) {
    const dataDir = stringOpt(values, 'data-dir');
    if (!dataDir) throw new CliError('--data-dir is required', 2);
    const storage = stringOpt(values, 'storage');
    if (storage !== 'sqlite' && storage !== 'memory') throw new CliError(`--storage must be sqlite or memory, not "${storage ?? ''}"`, 2);
    const port = Number(stringOpt(values, 'port'));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be a port number', 2);
    const server = await startApiServer({
      dataDir,
      host: stringOpt(values, 'host') ?? '127.0.0.1',
      port,
      storage,
      clusterName: stringOpt(values, 'name') ?? 'flatnet',
      serviceCIDR: stringOpt(values, 'service-cidr') ?? '10.96.0.0/12',
      nodePortRange: stringOpt(values, 'node-port-range') ?? '30000-32767',
      ...(stringOpt(values, 'advertise-address') ? { advertiseAddress: stringOpt(values, 'advertise-address') ?? '' } : {}),
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stdout.write(`${JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath })}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await server.stop();
    return 0;
  },
};
