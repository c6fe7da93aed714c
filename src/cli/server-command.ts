// `flatnet server`: runs the API server (and, as they land, the controllers) in the foreground.
import { startControlPlane } from '../server/control-plane.ts';
import { CliError, stringOpt, type Command } from './command.ts';

export const serverCommand: Command = {
  name: 'server',
  summary: 'run the control plane (API server, scheduler, controllers) in the foreground',
  usage: 'server --data-dir DIR [--host ADDR] [--port N] [--storage sqlite|memory] [--no-controllers] [--cluster-cidr CIDR] [--node-cidr-mask-size N] [--lb-pool CIDR[,CIDR...]]',
  options: {
    'data-dir': { type: 'string', help: 'directory for state (SQLite), PKI and the kubeconfig' },
    host: { type: 'string', help: 'address to listen on', default: '127.0.0.1' },
    port: { type: 'string', help: 'port to listen on (0 picks a free one)', default: '6443' },
    storage: { type: 'string', help: 'sqlite or memory', default: 'sqlite' },
    name: { type: 'string', help: 'cluster name (used in the kubeconfig context and CA name)', default: 'flatnet' },
    'service-cidr': { type: 'string', help: 'Service ClusterIP range', default: '10.96.0.0/12' },
    'node-port-range': { type: 'string', help: 'NodePort range', default: '30000-32767' },
    'advertise-address': { type: 'string', help: 'address pods reach the API at (also listened on, port 6443)' },
    'no-controllers': { type: 'boolean', help: 'run the API server without the scheduler and controllers', default: false },
    'cluster-cidr': { type: 'string', help: 'Pod CIDR of the cluster, split into node Pod CIDRs', default: '10.244.0.0/16' },
    'node-cidr-mask-size': { type: 'string', help: 'prefix length of each node\'s Pod CIDR', default: '24' },
    'lb-pool': { type: 'string', help: 'LoadBalancer addresses: comma-separated CIDRs or a-b ranges', default: '10.255.255.0/24' },
  },
  async run(values) {
    const dataDir = stringOpt(values, 'data-dir');
    if (!dataDir) throw new CliError('--data-dir is required', 2);
    const storage = stringOpt(values, 'storage');
    if (storage !== 'sqlite' && storage !== 'memory') throw new CliError(`--storage must be sqlite or memory, not "${storage ?? ''}"`, 2);
    const port = Number(stringOpt(values, 'port'));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be a port number', 2);
    const maskSize = Number(stringOpt(values, 'node-cidr-mask-size'));
    if (!Number.isInteger(maskSize) || maskSize < 1 || maskSize > 32) throw new CliError('--node-cidr-mask-size must be a prefix length (1-32)', 2);
    const plane = await startControlPlane({
      controllers: values['no-controllers'] !== true,
      clusterCIDR: stringOpt(values, 'cluster-cidr') ?? '10.244.0.0/16',
      nodeCIDRMaskSize: maskSize,
      lbPool: (stringOpt(values, 'lb-pool') ?? '10.255.255.0/24').split(',').map((p) => p.trim()).filter((p) => p !== ''),
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
    const server = plane.server;
    process.stdout.write(`${JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath })}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await plane.stop();
    return 0;
  },
};
