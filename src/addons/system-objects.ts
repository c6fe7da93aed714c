// The system objects `flatnet up` installs in every cluster — cluster DNS (kube-dns + coredns) and the Ingress
// controller add-on — as data. The CLI creates them in a live cluster; the offline cluster builder adds the same
// objects to a snapshot, so offline and live clusters allocate and route alike. Pure.
import type { KubeObject } from '../api/types.ts';
import { FLATNET_CLASS, FLATNET_CONTROLLER } from '../ingress/core/ingress-class.ts';
import { clusterDNSServiceIP } from '../net/allocators.ts';

export const INGRESS_NAMESPACE = 'flatnet-ingress';
export const INGRESS_SERVICE = 'flatnet-ingress';
export const INGRESS_DEPLOYMENT = 'flatnet-ingress-controller';
export const INGRESS_CLASS = FLATNET_CLASS;
export const INGRESS_REPLICAS = 2;
export const COREDNS_REPLICAS = 2;

/** Where a cluster's system pods find their service-account credentials (written by `flatnet up`). */
export const serviceAccountDir = (cluster: string): string => `/run/flatnet/${cluster}/serviceaccount`;
/** Where the Ingress controller's default certificate and key are (written by `flatnet up`). */
export const ingressCertDir = (cluster: string): string => `/run/flatnet/${cluster}/ingress`;

/**
 * Cluster DNS: the `kube-dns` Service at the 10th address of the service range and a `coredns` Deployment whose
 * image maps to flatnet's DNS program; its pods reach the API through the `kubernetes` Service with the cluster's
 * service-account directory and forward other names to the lab's external side.
 */
export function clusterDNSObjects(c: { cluster: string; serviceCIDR: string; externalIP: string }): KubeObject[] {
  const saDir = serviceAccountDir(c.cluster);
  const dnsIP = clusterDNSServiceIP(c.serviceCIDR);
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: { selector: labels, clusterIP: dnsIP, ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ] },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: COREDNS_REPLICAS,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            dnsPolicy: 'Default',
            containers: [{
              name: 'coredns',
              image: 'registry.k8s.io/coredns/coredns:v1.12.0',
              args: ['--listen', '0.0.0.0:53', '--domain', 'cluster.local', '--service-account-dir', saDir, '--metrics', '0.0.0.0:9153',
                '--nameserver-ip', dnsIP, '--upstream', `${c.externalIP}:53`],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/ready', port: 9153 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: '/health', port: 9153 }, periodSeconds: 10, failureThreshold: 5 },
              securityContext: { runAsUser: 0 },
            }],
          },
        },
      },
    },
  ];
}

/**
 * The Ingress controller add-on, laid out like ingress-nginx's manifests: namespace `flatnet-ingress`, the
 * default IngressClass `flatnet`, a Deployment of the `flatnet.dev/ingress-controller` image listening on 80/443
 * inside its pods, and the LoadBalancer Service `flatnet-ingress` whose pool address the controller publishes.
 */
export function ingressObjects(c: { cluster: string }): KubeObject[] {
  const saDir = serviceAccountDir(c.cluster);
  const certDir = ingressCertDir(c.cluster);
  const labels = { 'app.kubernetes.io/name': 'flatnet-ingress', 'app.kubernetes.io/component': 'controller' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: INGRESS_NAMESPACE, labels: { 'app.kubernetes.io/name': 'flatnet-ingress' } } },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS, labels, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: FLATNET_CONTROLLER },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: INGRESS_SERVICE, namespace: INGRESS_NAMESPACE, labels },
      // No node ports: the pool address is routed to the nodes and kube-proxy serves it directly, so the
      // add-on takes nothing from the NodePort range users and tests pick from.
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: labels, ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
        { name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' },
      ] },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: INGRESS_DEPLOYMENT, namespace: INGRESS_NAMESPACE, labels },
      spec: {
        replicas: INGRESS_REPLICAS,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 15,
            containers: [{
              name: 'controller',
              image: 'flatnet.dev/ingress-controller',
              args: ['--http-port', '80', '--https-port', '443', '--class', INGRESS_CLASS, '--publish-service', `${INGRESS_NAMESPACE}/${INGRESS_SERVICE}`,
                '--service-account-dir', saDir, '--default-cert', `${certDir}/tls.crt`, '--default-key', `${certDir}/tls.key`],
              ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }, { name: 'https', containerPort: 443, protocol: 'TCP' }],
              // The proxy listens only once its informers synced and the first table is installed.
              readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 },
              livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 10, failureThreshold: 5 },
              securityContext: { runAsUser: 0 },
            }],
          },
        },
      },
    },
  ];
}
