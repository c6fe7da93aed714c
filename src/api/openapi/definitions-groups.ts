// Schemas of the named groups: apps/v1, autoscaling/v1 (Scale), policy/v1 (Eviction), discovery.k8s.io/v1
// and networking.k8s.io/v1. Descriptions are our own one-liners. Pure.
import {
  APPS, AUTOSCALING, POLICY, DISCOVERY, NETWORKING, CORE, META, S,
  obj, kind, gvk, str, oneOf, i32, i64, bool, ref, time, intOrStr, arr, strs, req, dflt,
} from './dsl.ts';
import type { Definitions, Field } from './dsl.ts';

const a = (name: string): string => `${APPS}${name}`;
const d = (name: string): string => `${DISCOVERY}${name}`;
const n = (name: string): string => `${NETWORKING}${name}`;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

function appsCondition(extra: Record<string, Field> = {}): Record<string, Field> {
  return {
    type: req(str('What the condition is about.')),
    status: req(oneOf(['True', 'False', 'Unknown'], 'Whether the condition holds.')),
    lastTransitionTime: time('When status last changed.'),
    reason: str('Machine-readable CamelCase cause of the last transition.'),
    message: str('Human-readable detail of the last transition.'),
    ...extra,
  };
}

const template = (owner: string): Field =>
  req(ref(`${CORE}PodTemplateSpec`, `The pods this ${owner} creates.`));
const selector = (owner: string): Field =>
  req(ref(`${META}LabelSelector`, `Labels of the pods this ${owner} manages; must match the template labels and cannot change.`));

export const appsDefinitions: Definitions = {
  [a('Deployment')]: kind(gvk('apps', 'v1', 'Deployment'), 'Declarative updates of a replicated set of pods, rolled out through replica sets.', {
    spec: ref(a('DeploymentSpec'), 'What the deployment should run.'),
    status: ref(a('DeploymentStatus'), 'Most recently observed state of the deployment.'),
  }),
  [a('DeploymentSpec')]: obj('Desired state of a deployment.', {
    replicas: i32('Number of pods wanted; 1 by default.'),
    selector: selector('deployment'),
    template: template('deployment'),
    strategy: ref(a('DeploymentStrategy'), 'How old pods are replaced by new ones.'),
    minReadySeconds: i32('Seconds a new pod must be ready before it counts as available.'),
    revisionHistoryLimit: i32('How many old replica sets are kept for rollback; 10 by default.'),
    paused: bool('When true, template changes are not rolled out.'),
    progressDeadlineSeconds: i32('Seconds without progress after which the rollout is reported as failed.'),
  }),
  [a('DeploymentStrategy')]: obj('How a deployment replaces its pods.', {
    type: oneOf(['Recreate', 'RollingUpdate'], 'Recreate stops all old pods first; RollingUpdate replaces them gradually.'),
    rollingUpdate: ref(a('RollingUpdateDeployment'), 'Limits of a rolling update.'),
  }),
  [a('RollingUpdateDeployment')]: obj('Limits of a rolling update of a deployment.', {
    maxUnavailable: intOrStr('Most pods (count or percentage) that may be unavailable during the update.'),
    maxSurge: intOrStr('Most pods (count or percentage) created above the wanted number during the update.'),
  }),
  [a('DeploymentStatus')]: obj('Observed state of a deployment.', {
    observedGeneration: i64('Generation last acted on by the controller.'),
    replicas: i32('Pods owned by the deployment.'),
    updatedReplicas: i32('Pods that run the current template.'),
    readyReplicas: i32('Pods that are ready.'),
    availableReplicas: i32('Pods ready for at least minReadySeconds.'),
    unavailableReplicas: i32('Pods still needed to reach the wanted number of available pods.'),
    terminatingReplicas: i32('Pods that are being deleted.'),
    conditions: arr(S.ref(a('DeploymentCondition')), 'Observations such as Available and Progressing.'),
    collisionCount: i32('Counter used to avoid name collisions of replica sets.'),
  }),
  [a('DeploymentCondition')]: obj('One aspect of the state of a deployment.', appsCondition({
    lastUpdateTime: time('When the condition was last updated.'),
  })),

  [a('ReplicaSet')]: kind(gvk('apps', 'v1', 'ReplicaSet'), 'Keeps a number of identical pods running.', {
    spec: ref(a('ReplicaSetSpec'), 'What the replica set should run.'),
    status: ref(a('ReplicaSetStatus'), 'Most recently observed state of the replica set.'),
  }),
  [a('ReplicaSetSpec')]: obj('Desired state of a replica set.', {
    replicas: i32('Number of pods wanted; 1 by default.'),
    minReadySeconds: i32('Seconds a new pod must be ready before it counts as available.'),
    selector: selector('replica set'),
    template: ref(`${CORE}PodTemplateSpec`, 'The pods this replica set creates.'),
  }),
  [a('ReplicaSetStatus')]: obj('Observed state of a replica set.', {
    replicas: req(i32('Pods owned by the replica set.')),
    fullyLabeledReplicas: i32('Pods whose labels match the template labels.'),
    readyReplicas: i32('Pods that are ready.'),
    availableReplicas: i32('Pods ready for at least minReadySeconds.'),
    terminatingReplicas: i32('Pods that are being deleted.'),
    observedGeneration: i64('Generation last acted on by the controller.'),
    conditions: arr(S.ref(a('ReplicaSetCondition')), 'Observations about the replica set.'),
  }),
  [a('ReplicaSetCondition')]: obj('One aspect of the state of a replica set.', appsCondition()),

  [a('DaemonSet')]: kind(gvk('apps', 'v1', 'DaemonSet'), 'Runs one copy of a pod on every eligible node.', {
    spec: ref(a('DaemonSetSpec'), 'What the daemon set should run.'),
    status: ref(a('DaemonSetStatus'), 'Most recently observed state of the daemon set.'),
  }),
  [a('DaemonSetSpec')]: obj('Desired state of a daemon set.', {
    selector: selector('daemon set'),
    template: template('daemon set'),
    updateStrategy: ref(a('DaemonSetUpdateStrategy'), 'How pods are replaced when the template changes.'),
    minReadySeconds: i32('Seconds a new pod must be ready before it counts as available.'),
    revisionHistoryLimit: i32('How many old revisions are kept for rollback; 10 by default.'),
  }),
  [a('DaemonSetUpdateStrategy')]: obj('How a daemon set replaces its pods.', {
    type: oneOf(['RollingUpdate', 'OnDelete'], 'RollingUpdate replaces pods gradually; OnDelete waits until they are deleted by hand.'),
    rollingUpdate: ref(a('RollingUpdateDaemonSet'), 'Limits of a rolling update.'),
  }),
  [a('RollingUpdateDaemonSet')]: obj('Limits of a rolling update of a daemon set.', {
    maxUnavailable: intOrStr('Most nodes (count or percentage) whose pod may be unavailable during the update.'),
    maxSurge: intOrStr('Most nodes (count or percentage) that may run an old and a new pod at once.'),
  }),
  [a('DaemonSetStatus')]: obj('Observed state of a daemon set.', {
    currentNumberScheduled: req(i32('Nodes running a daemon pod that should.')),
    numberMisscheduled: req(i32('Nodes running a daemon pod that should not.')),
    desiredNumberScheduled: req(i32('Nodes that should run a daemon pod.')),
    numberReady: req(i32('Nodes whose daemon pod is ready.')),
    observedGeneration: i64('Generation last acted on by the controller.'),
    updatedNumberScheduled: i32('Nodes running the current template.'),
    numberAvailable: i32('Nodes whose daemon pod has been ready for minReadySeconds.'),
    numberUnavailable: i32('Nodes that should run an available daemon pod but do not.'),
    collisionCount: i32('Counter used to avoid name collisions of revisions.'),
    conditions: arr(S.ref(a('DaemonSetCondition')), 'Observations about the daemon set.'),
  }),
  [a('DaemonSetCondition')]: obj('One aspect of the state of a daemon set.', appsCondition()),

  [`${AUTOSCALING}Scale`]: kind(gvk('autoscaling', 'v1', 'Scale'), 'The replica count of a scalable object, read and written through its scale subresource.', {
    spec: ref(`${AUTOSCALING}ScaleSpec`, 'The wanted replica count.'),
    status: ref(`${AUTOSCALING}ScaleStatus`, 'The current replica count.'),
  }),
  [`${AUTOSCALING}ScaleSpec`]: obj('Wanted size of a scalable object.', {
    replicas: i32('Number of replicas wanted.'),
  }),
  [`${AUTOSCALING}ScaleStatus`]: obj('Current size of a scalable object.', {
    replicas: req(i32('Number of replicas running.')),
    selector: str('Label selector of the pods counted, in query-string form.'),
  }),
  [`${POLICY}Eviction`]: kind(gvk('policy', 'v1', 'Eviction'), 'A request to evict a pod, honouring disruption budgets; posted to the eviction subresource of a pod.', {
    deleteOptions: ref(`${META}DeleteOptions`, 'Options of the deletion that follows.'),
  }),
};

export const discoveryDefinitions: Definitions = {
  [d('EndpointSlice')]: kind(gvk('discovery.k8s.io', 'v1', 'EndpointSlice'), 'A part of the endpoints of a service: addresses of one family and their ports.', {
    addressType: req(oneOf(['IPv4', 'IPv6', 'FQDN'], 'The kind of addresses in this slice.')),
    endpoints: req(arr(S.ref(d('Endpoint')), 'The endpoints of this slice.')),
    ports: arr(S.ref(d('EndpointPort')), 'Ports served by every endpoint of this slice.'),
  }),
  [d('Endpoint')]: obj('One backend of a service.', {
    addresses: req(strs('Addresses of the backend; all are interchangeable.')),
    conditions: ref(d('EndpointConditions'), 'Readiness of the backend.'),
    hostname: str('Host name of the backend.'),
    targetRef: ref(`${CORE}ObjectReference`, 'The object behind the endpoint, usually a pod.'),
    nodeName: str('Node the backend runs on.'),
    zone: str('Zone the backend runs in.'),
    hints: ref(d('EndpointHints'), 'Routing hints for topology-aware routing.'),
  }),
  [d('EndpointConditions')]: obj('Readiness of an endpoint.', {
    ready: bool('Whether the endpoint should receive traffic.'),
    serving: bool('Whether the endpoint can serve, even while terminating.'),
    terminating: bool('Whether the endpoint is shutting down.'),
  }),
  [d('EndpointHints')]: obj('Routing hints of an endpoint.', {
    forZones: arr(S.ref(d('ForZone')), 'Zones that should send traffic to this endpoint.'),
  }),
  [d('ForZone')]: obj('A zone in routing hints.', {
    name: req(str('Name of the zone.')),
  }),
  [d('EndpointPort')]: obj('One port of an endpoint slice.', {
    name: str('Name matching the service port name.'),
    protocol: oneOf(PROTOCOLS, 'Protocol of the port.'),
    port: i32('Port number; empty means all ports.'),
    appProtocol: str('Application protocol of the port.'),
  }),
};

export const networkingDefinitions: Definitions = {
  [n('NetworkPolicy')]: kind(gvk('networking.k8s.io', 'v1', 'NetworkPolicy'), 'Which traffic the selected pods may receive and send.', {
    spec: ref(n('NetworkPolicySpec'), 'The policy.'),
  }),
  [n('NetworkPolicySpec')]: obj('Desired behaviour of a network policy.', {
    podSelector: req(ref(`${META}LabelSelector`, 'Pods in this namespace the policy applies to; empty selects all.')),
    ingress: arr(S.ref(n('NetworkPolicyIngressRule')), 'Allowed incoming traffic; anything else is dropped when Ingress is a policy type.'),
    egress: arr(S.ref(n('NetworkPolicyEgressRule')), 'Allowed outgoing traffic; anything else is dropped when Egress is a policy type.'),
    policyTypes: arr(S.oneOf(['Ingress', 'Egress']), 'Directions the policy restricts.'),
  }),
  [n('NetworkPolicyIngressRule')]: obj('Traffic allowed in: from any of the peers to any of the ports.', {
    ports: arr(S.ref(n('NetworkPolicyPort')), 'Destination ports; empty allows all.'),
    from: arr(S.ref(n('NetworkPolicyPeer')), 'Sources; empty allows all.'),
  }),
  [n('NetworkPolicyEgressRule')]: obj('Traffic allowed out: to any of the peers on any of the ports.', {
    ports: arr(S.ref(n('NetworkPolicyPort')), 'Destination ports; empty allows all.'),
    to: arr(S.ref(n('NetworkPolicyPeer')), 'Destinations; empty allows all.'),
  }),
  [n('NetworkPolicyPeer')]: obj('A set of traffic ends: selected pods and namespaces, or an address block.', {
    podSelector: ref(`${META}LabelSelector`, 'Pods, in the namespaces chosen by namespaceSelector or the policy namespace.'),
    namespaceSelector: ref(`${META}LabelSelector`, 'Namespaces whose pods are chosen.'),
    ipBlock: ref(n('IPBlock'), 'An address range.'),
  }),
  [n('NetworkPolicyPort')]: obj('A port or port range.', {
    protocol: dflt(oneOf(PROTOCOLS, 'Protocol; TCP by default.'), 'TCP'),
    port: intOrStr('Port number or named port; empty means all ports.'),
    endPort: i32('Last port of a range starting at port.'),
  }),
  [n('IPBlock')]: obj('An address range with holes.', {
    cidr: req(str('The range, such as 10.0.0.0/8.')),
    except: strs('Sub-ranges excluded.'),
  }),

  [n('Ingress')]: kind(gvk('networking.k8s.io', 'v1', 'Ingress'), 'HTTP routing from outside the cluster to services, by host and path.', {
    spec: ref(n('IngressSpec'), 'The routing wanted.'),
    status: ref(n('IngressStatus'), 'Most recently observed state of the ingress.'),
  }),
  [n('IngressSpec')]: obj('Desired routing of an ingress.', {
    ingressClassName: str('Ingress class that implements this ingress.'),
    defaultBackend: ref(n('IngressBackend'), 'Where requests matching no rule go.'),
    tls: arr(S.ref(n('IngressTLS')), 'TLS settings by host.'),
    rules: arr(S.ref(n('IngressRule')), 'Routing rules by host.'),
  }),
  [n('IngressBackend')]: obj('Where matching requests go: a service port or another resource.', {
    service: ref(n('IngressServiceBackend'), 'A service port.'),
    resource: ref(`${CORE}TypedLocalObjectReference`, 'Another object in the namespace.'),
  }),
  [n('IngressServiceBackend')]: obj('A service port used as a backend.', {
    name: req(str('Name of the service.')),
    port: ref(n('ServiceBackendPort'), 'Port of the service.'),
  }),
  [n('ServiceBackendPort')]: obj('A service port, by name or number.', {
    name: str('Name of the port.'),
    number: i32('Number of the port.'),
  }),
  [n('IngressRule')]: obj('Routing for one host.', {
    host: str('Host name matched; may start with a wildcard label. Empty matches all hosts.'),
    http: ref(n('HTTPIngressRuleValue'), 'HTTP paths of the host.'),
  }),
  [n('HTTPIngressRuleValue')]: obj('HTTP paths of a rule.', {
    paths: req(arr(S.ref(n('HTTPIngressPath')), 'Paths and their backends.')),
  }),
  [n('HTTPIngressPath')]: obj('A path and its backend.', {
    path: str('The path matched; must start with a slash.'),
    pathType: req(oneOf(['Exact', 'Prefix', 'ImplementationSpecific'], 'How path is matched.')),
    backend: req(ref(n('IngressBackend'), 'Where matching requests go.')),
  }),
  [n('IngressTLS')]: obj('TLS for some hosts.', {
    hosts: strs('Hosts covered by the certificate.'),
    secretName: str('Secret holding the certificate and key.'),
  }),
  [n('IngressStatus')]: obj('Observed state of an ingress.', {
    loadBalancer: ref(n('IngressLoadBalancerStatus'), 'Where the ingress is reachable.'),
  }),
  [n('IngressLoadBalancerStatus')]: obj('Entry points of an ingress.', {
    ingress: arr(S.ref(n('IngressLoadBalancerIngress')), 'The entry points.'),
  }),
  [n('IngressLoadBalancerIngress')]: obj('One entry point of an ingress.', {
    ip: str('Address of the entry point.'),
    hostname: str('DNS name of the entry point.'),
    ports: arr(S.ref(n('IngressPortStatus')), 'State of each port.'),
  }),
  [n('IngressPortStatus')]: obj('State of one ingress port.', {
    port: req(i32('Port number.')),
    protocol: req(oneOf(PROTOCOLS, 'Protocol of the port.')),
    error: str('Problem with the port, if any.'),
  }),
  [n('IngressClass')]: kind(gvk('networking.k8s.io', 'v1', 'IngressClass'), 'A kind of ingress and the controller that implements it.', {
    spec: ref(n('IngressClassSpec'), 'The class.'),
  }),
  [n('IngressClassSpec')]: obj('Desired state of an ingress class.', {
    controller: str('Name of the controller implementing the class, such as example.com/ingress.'),
    parameters: ref(n('IngressClassParametersReference'), 'Object holding controller settings.'),
  }),
  [n('IngressClassParametersReference')]: obj('Points at the settings object of an ingress class.', {
    apiGroup: str('Group of the object.'),
    kind: req(str('Kind of the object.')),
    name: req(str('Name of the object.')),
    namespace: str('Namespace of the object, for Namespace scope.'),
    scope: oneOf(['Cluster', 'Namespace'], 'Whether the object is cluster-wide or namespaced.'),
  }),
  [`${CORE}TypedLocalObjectReference`]: obj('Points at an object of any kind in the same namespace.', {
    apiGroup: str('Group of the object; empty for the core group.'),
    kind: req(str('Kind of the object.')),
    name: req(str('Name of the object.')),
  }),
};
