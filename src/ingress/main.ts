// `node src/ingress/main.ts [flags]`: flatnet's Ingress controller as a program (the image
// flatnet.dev/ingress-controller, which `flatnet up` runs as the Deployment flatnet-ingress/flatnet-ingress-controller).
//
//   --kubeconfig PATH        kubeconfig to use (default: in-cluster config when KUBERNETES_SERVICE_HOST is
//                            set, else $KUBECONFIG or ~/.kube/config)
//   --context NAME           kubeconfig context
//   --listen ADDR            address to bind (default 0.0.0.0)
//   --http-port N            plain HTTP port (default 80; 0 = ephemeral; `off` or `=-1` = no listener)
//   --https-port N           HTTPS port (default 443; 0 = ephemeral; `off` or `=-1` = no listener)
//   --class NAME             IngressClass served (default flatnet; '*' = every class of the controller)
//   --controller NAME        IngressClass spec.controller (default flatnet.dev/ingress)
//   --publish-service NS/N   publish this Service's load-balancer address in Ingress status
//   --lb-address ADDR        publish ADDR (IP or hostname; repeatable) instead
//   --default-cert FILE      default certificate (PEM) with --default-key FILE; generated with openssl if absent
//   --no-http2               HTTP/1.1 only on the HTTPS port
//   --service-account-dir D  in-cluster credentials (token, ca.crt, namespace) (default
//                            /var/run/secrets/kubernetes.io/serviceaccount)
//
// Once serving, prints one JSON line on stdout: {"httpPort":..,"httpsPort":..}. SIGTERM/SIGINT stop it
// gracefully (in-flight requests get up to 10 s).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadBalancerIngress } from '../api/types.ts';
import { KubeClient } from '../client/kube-client.ts';
import { defaultKubeconfigPath } from '../client/kubeconfig.ts';
import { generateSelfSigned } from './certs.ts';
import { IngressController } from './controller.ts';
import { FLATNET_CLASS, FLATNET_CONTROLLER } from './core/ingress-class.ts';
import { IngressProxy } from './proxy.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface IngressMainOptions {
  kubeconfig: string | undefined;
  context: string | undefined;
  listen: string;
  httpPort: number | null;
  httpsPort: number | null;
  className: string | null;
  controllerName: string;
  publishService: { namespace: string; name: string } | undefined;
  lbAddresses: LoadBalancerIngress[];
  defaultCert: string | undefined;
  defaultKey: string | undefined;
  http2: boolean;
  /** Where the in-cluster token, ca.crt and namespace files are. */
  serviceAccountDir: string;
}

function port(flag: string, value: string | undefined, fallback: number): number | null {
  if (value === undefined) return fallback;
  if (value === 'off') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new Error(`--${flag}: not a port: ${value}`);
  return n === -1 ? null : n;
}

/** Parses the command line (throws with a readable message on bad flags). */
export function parseIngressArgs(argv: readonly string[]): IngressMainOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string' }, context: { type: 'string' }, listen: { type: 'string' },
      'http-port': { type: 'string' }, 'https-port': { type: 'string' }, class: { type: 'string' }, controller: { type: 'string' },
      'publish-service': { type: 'string' }, 'lb-address': { type: 'string', multiple: true },
      'default-cert': { type: 'string' }, 'default-key': { type: 'string' }, 'no-http2': { type: 'boolean' },
      'service-account-dir': { type: 'string' },
    },
    strict: true, allowPositionals: false,
  });
  let publishService: IngressMainOptions['publishService'];
  if (values['publish-service'] !== undefined) {
    const [namespace, name, extra] = values['publish-service'].split('/');
    if (namespace === undefined || name === undefined || namespace === '' || name === '' || extra !== undefined) throw new Error('--publish-service: expected NAMESPACE/NAME');
    publishService = { namespace, name };
  }
  if ((values['default-cert'] === undefined) !== (values['default-key'] === undefined)) throw new Error('--default-cert and --default-key go together');
  if (values['service-account-dir'] === '') throw new Error('--service-account-dir: expected a directory');
  const cls = values.class ?? FLATNET_CLASS;
  return {
    kubeconfig: values.kubeconfig, context: values.context, listen: values.listen ?? '0.0.0.0',
    httpPort: port('http-port', values['http-port'], 80), httpsPort: port('https-port', values['https-port'], 443),
    className: cls === '*' ? null : cls, controllerName: values.controller ?? FLATNET_CONTROLLER, publishService,
    lbAddresses: (values['lb-address'] ?? []).map((a) => (/^[0-9.]+$/.test(a) || a.includes(':') ? { ip: a } : { hostname: a })),
    defaultCert: values['default-cert'], defaultKey: values['default-key'], http2: values['no-http2'] !== true,
    serviceAccountDir: values['service-account-dir'] ?? SERVICE_ACCOUNT_DIR,
  };
}

/** A client from the pod's service account (KUBERNETES_SERVICE_HOST/PORT, token and CA files). */
export function inClusterClient(env: Record<string, string | undefined> = process.env, dir = SERVICE_ACCOUNT_DIR): KubeClient {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const p = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (host === undefined || host === '') throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST is not set');
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${p}`;
  const token = readFileSync(`${dir}/token`, 'utf8').trim();
  const ca = readFileSync(`${dir}/ca.crt`, 'utf8');
  let namespace = 'default';
  try {
    namespace = readFileSync(`${dir}/namespace`, 'utf8').trim() || 'default';
  } catch {
    // No namespace file: keep `default`.
  }
  return new KubeClient({ server, token, ca, namespace, userAgent: 'flatnet-ingress' });
}

function clientFor(o: IngressMainOptions, env: Record<string, string | undefined>): KubeClient {
  if (o.kubeconfig !== undefined) return KubeClient.fromKubeconfig(o.kubeconfig, o.context, { userAgent: 'flatnet-ingress' });
  if (env['KUBERNETES_SERVICE_HOST'] !== undefined && env['KUBERNETES_SERVICE_HOST'] !== '') return inClusterClient(env, o.serviceAccountDir);
  return KubeClient.fromKubeconfig(defaultKubeconfigPath(env), o.context, { userAgent: 'flatnet-ingress' });
}

export interface RunningIngress {
  proxy: IngressProxy;
  controller: IngressController;
  httpPort: number | null;
  httpsPort: number | null;
  stop(graceMs?: number): Promise<void>;
}

/** Starts the controller and proxy: sync first, then listen. */
export async function startIngress(o: IngressMainOptions, env: Record<string, string | undefined> = process.env): Promise<RunningIngress> {
  const client = clientFor(o, env);
  const defaultCertificate = o.defaultCert !== undefined && o.defaultKey !== undefined
    ? { cert: readFileSync(o.defaultCert, 'utf8'), key: readFileSync(o.defaultKey, 'utf8') }
    : await generateSelfSigned('flatnet-ingress-default');
  const proxy = new IngressProxy({ defaultCertificate, http2: o.http2 });
  const controller = new IngressController({
    client, proxy, className: o.className, controllerName: o.controllerName,
    ...(o.lbAddresses.length > 0 ? { loadBalancer: o.lbAddresses } : {}),
    ...(o.publishService !== undefined ? { publishService: o.publishService } : {}),
  });
  await controller.start();
  const ports = await proxy.listen({ host: o.listen, httpPort: o.httpPort, httpsPort: o.httpsPort });
  return {
    proxy, controller, ...ports,
    async stop(graceMs = 10_000) {
      await controller.stop();
      await proxy.close(graceMs);
      client.close();
    },
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  const running = await startIngress(parseIngressArgs(argv));
  process.stdout.write(JSON.stringify({ httpPort: running.httpPort, httpsPort: running.httpsPort }) + '\n');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    running.stop().then(() => process.exit(0), (e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`flatnet-ingress: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
