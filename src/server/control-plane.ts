// The control plane in one process, as k3s runs it: the API server plus the controller manager (scheduler
// and controllers), the latter talking to the former through a client built from the server's own admin
// kubeconfig. `flatnet server` and the controller tests use this; `startApiServer` alone stays lean.
import { networkInterfaces } from 'node:os';
import { KubeClient } from '../client/kube-client.ts';
import { startControllerManager, type ControllerManagerOptions, type RunningControllerManager } from '../controllers/controller-manager.ts';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './api-server.ts';

export interface ControlPlaneOptions extends ApiServerOptions {
  /** Run the controller manager (default true). */
  controllers?: boolean;
  clusterCIDR?: string;
  nodeCIDRMaskSize?: number;
  lbPool?: readonly string[];
  /** Extra controller-manager options (a subset of controllers, the LB class, ...). */
  controllerManager?: Omit<ControllerManagerOptions, 'client' | 'clusterCIDR' | 'nodeCIDRMaskSize' | 'lbPool' | 'log'>;
}

export interface RunningControlPlane {
  server: RunningApiServer;
  /** Undefined when started with `controllers: false`. */
  controllers: RunningControllerManager | undefined;
  stop(): Promise<void>;
}

/** The advertise address as upstream chooses it when the server binds to loopback. */
export function chooseAdvertiseAddress(host: string | undefined): string | undefined {
  if (host !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(host) && !host.startsWith('127.') && host !== '0.0.0.0') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
  }
  return undefined;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const server = await startApiServer(options);
  let controllers: RunningControllerManager | undefined;
  let client: KubeClient | undefined;
  if (options.controllers !== false) {
    try {
      // A bounded socket pool (watches hold ~20): a burst of writes queues here instead of opening and
      // TLS-handshaking hundreds of connections to the server this process also runs. No short deadline, as
      // kube-controller-manager has none: a write that times out client-side may still land, and acting
      // on it twice (a second pod, a second CIDR) is worse than waiting.
      client = KubeClient.fromKubeconfig(server.kubeconfigPath, undefined, { userAgent: 'flatnet-controller-manager', maxSockets: 256, requestTimeoutMs: 300_000 });
      // The `kubernetes` Service's endpoints: the advertise address (where pods reach the API) and its port;
      // without one, a non-loopback address of this machine and the listen port, as upstream picks one when
      // bound to loopback (Endpoints may not hold loopback addresses).
      const advertise = options.advertiseAddress !== undefined && options.advertiseAddress !== ''
        ? { ip: options.advertiseAddress, port: options.advertisePort ?? 6443 }
        : (() => {
            const ip = chooseAdvertiseAddress(options.host);
            return ip !== undefined ? { ip, port: server.port } : undefined;
          })();
      if (advertise === undefined) options.log?.('no non-loopback address to advertise: the kubernetes Service gets no endpoints');
      controllers = await startControllerManager({
        ...(advertise !== undefined ? { apiServerEndpoint: advertise } : {}),
        ...options.controllerManager,
        client,
        ...(options.clusterCIDR !== undefined ? { clusterCIDR: options.clusterCIDR } : {}),
        ...(options.nodeCIDRMaskSize !== undefined ? { nodeCIDRMaskSize: options.nodeCIDRMaskSize } : {}),
        ...(options.lbPool !== undefined ? { lbPool: options.lbPool } : {}),
        ...(options.log !== undefined ? { log: options.log } : {}),
      });
    } catch (e) {
      client?.close();
      await server.stop();
      throw e;
    }
  }
  let stopped = false;
  return {
    server,
    controllers,
    async stop() {
      if (stopped) return;
      stopped = true;
      await controllers?.stop();
      client?.close();
      await server.stop();
    },
  };
}
