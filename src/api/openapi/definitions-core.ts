// Schemas of the core (v1) group: Namespace, Node, Pod and its spec, Service, Endpoints, ConfigMap, Secret,
// Event, ServiceAccount, plus Binding (pods/binding). Descriptions are our own one-liners. Pure.
import {
  CORE, META, QUANTITY, MICRO_TIME, S,
  obj, kind, gvk, str, oneOf, i32, i64, bool, ref, time, intOrStr, arr, strs, mapOf, strMap, req, dflt,
} from './dsl.ts';
import type { Definitions, Field } from './dsl.ts';

const c = (name: string): string => `${CORE}${name}`;
const v1 = (kindName: string) => gvk('', 'v1', kindName);
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

/** A condition type of the core group (PodCondition, NodeCondition, ...): same fields, own name. */
function conditionFields(extra: Record<string, Field> = {}): Record<string, Field> {
  return {
    type: req(str('What the condition is about.')),
    status: req(oneOf(['True', 'False', 'Unknown'], 'Whether the condition holds.')),
    lastTransitionTime: time('When status last changed.'),
    reason: str('Machine-readable CamelCase cause of the last transition.'),
    message: str('Human-readable detail of the last transition.'),
    ...extra,
  };
}

const handlerFields = (what: string): Record<string, Field> => ({
  exec: ref(c('ExecAction'), `Run a command inside the container to ${what}.`),
  httpGet: ref(c('HTTPGetAction'), `Send an HTTP GET request to ${what}.`),
  tcpSocket: ref(c('TCPSocketAction'), `Open a TCP connection to ${what}.`),
});

export const coreDefinitions: Definitions = {
  // ------------------------------------------------------------------------------------ Namespace
  [c('Namespace')]: kind(v1('Namespace'), 'A scope for names: most objects live in exactly one namespace.', {
    spec: ref(c('NamespaceSpec'), 'What the namespace should be.'),
    status: ref(c('NamespaceStatus'), 'What the namespace currently is; set by the server.'),
  }),
  [c('NamespaceSpec')]: obj('Desired state of a namespace.', {
    finalizers: strs('Cleanup steps that must finish before the namespace is removed.'),
  }),
  [c('NamespaceStatus')]: obj('Observed state of a namespace.', {
    phase: oneOf(['Active', 'Terminating'], 'Active, or Terminating while its contents are being deleted.'),
    conditions: arr(S.ref(c('NamespaceCondition')), 'Observations about the namespace, such as stuck deletions.'),
  }),
  [c('NamespaceCondition')]: obj('One aspect of the state of a namespace.', conditionFields()),

  // ----------------------------------------------------------------------------------------- Node
  [c('Node')]: kind(v1('Node'), 'A machine (here: a network namespace) that runs pods.', {
    spec: ref(c('NodeSpec'), 'How the node should be configured.'),
    status: ref(c('NodeStatus'), 'Most recently observed state of the node; set by its agent.'),
  }),
  [c('NodeSpec')]: obj('Desired configuration of a node.', {
    podCIDR: str('The pod address range given to this node.'),
    podCIDRs: strs('The pod address ranges given to this node, at most one per address family.'),
    providerID: str('Identifier of the node at its infrastructure provider.'),
    unschedulable: bool('When true, no new pods are scheduled here.'),
    taints: arr(S.ref(c('Taint')), 'Taints that repel pods not tolerating them.'),
  }),
  [c('Taint')]: obj('Marks a node so that pods without a matching toleration stay away.', {
    key: req(str('Key of the taint.')),
    value: str('Value of the taint.'),
    effect: req(oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], 'What happens to pods not tolerating the taint.')),
    timeAdded: time('When a NoExecute taint was added.'),
  }),
  [c('NodeStatus')]: obj('Observed state of a node.', {
    capacity: mapOf(S.ref(QUANTITY), 'Total resources of the node.'),
    allocatable: mapOf(S.ref(QUANTITY), 'Resources available to pods.'),
    phase: str('Deprecated lifecycle phase of the node.'),
    conditions: arr(S.ref(c('NodeCondition')), 'Observations such as Ready.'),
    addresses: arr(S.ref(c('NodeAddress')), 'Addresses at which the node is reachable.'),
    daemonEndpoints: ref(c('NodeDaemonEndpoints'), 'Ports of the daemons running on the node.'),
    nodeInfo: ref(c('NodeSystemInfo'), 'Identity and software versions of the node.'),
  }),
  [c('NodeCondition')]: obj('One aspect of the state of a node.', conditionFields({
    lastHeartbeatTime: time('When the node agent last reported this condition.'),
  })),
  [c('NodeAddress')]: obj('One address of a node.', {
    type: req(oneOf(['Hostname', 'InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS'], 'Kind of address.')),
    address: req(str('The address.')),
  }),
  [c('NodeDaemonEndpoints')]: obj('Endpoints of the daemons on a node.', {
    kubeletEndpoint: ref(c('DaemonEndpoint'), 'Where the node agent listens.'),
  }),
  [c('DaemonEndpoint')]: obj('A port a daemon listens on.', {
    Port: req(i32('The port number.')),
  }),
  [c('NodeSystemInfo')]: obj('Identifiers and versions reported by a node.', {
    machineID: req(str('Machine identifier of the node.')),
    systemUUID: req(str('System UUID of the node.')),
    bootID: req(str('Identifier of the current boot.')),
    kernelVersion: req(str('Kernel version.')),
    osImage: req(str('Operating system image.')),
    containerRuntimeVersion: req(str('Container runtime and its version.')),
    kubeletVersion: req(str('Version of the node agent.')),
    kubeProxyVersion: req(str('Deprecated version of the service proxy.')),
    operatingSystem: req(str('Operating system name.')),
    architecture: req(str('Processor architecture.')),
  }),

  // ------------------------------------------------------------------------------------------ Pod
  [c('Pod')]: kind(v1('Pod'), 'A group of containers that share a network namespace and are scheduled together.', {
    spec: ref(c('PodSpec'), 'What the pod should run.'),
    status: ref(c('PodStatus'), 'Most recently observed state of the pod.'),
  }),
  [c('PodTemplateSpec')]: obj('The pods a controller creates: their metadata and spec.', {
    metadata: ref(`${META}ObjectMeta`, 'Labels, annotations and other metadata given to each pod.'),
    spec: ref(c('PodSpec'), 'The spec given to each pod.'),
  }),
  [c('PodSpec')]: obj('What a pod runs and how.', {
    containers: req(arr(S.ref(c('Container')), 'The containers of the pod; at least one.')),
    initContainers: arr(S.ref(c('Container')), 'Containers run one after another, to completion, before the main containers start.'),
    volumes: arr(S.ref(c('Volume')), 'Volumes the containers can mount.'),
    restartPolicy: oneOf(['Always', 'OnFailure', 'Never'], 'When containers are restarted after they exit.'),
    terminationGracePeriodSeconds: i64('Seconds given to the pod to stop cleanly before it is killed.'),
    activeDeadlineSeconds: i64('Seconds the pod may run before it is marked failed.'),
    dnsPolicy: oneOf(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'], 'How DNS is set up for the pod.'),
    dnsConfig: ref(c('PodDNSConfig'), 'Extra DNS settings merged into those from dnsPolicy.'),
    nodeSelector: strMap('Labels a node must carry for the pod to be scheduled on it.'),
    serviceAccountName: str('Service account whose identity the pod runs as.'),
    serviceAccount: str('Deprecated alias of serviceAccountName.'),
    automountServiceAccountToken: bool('Whether the service account token is mounted into the pod.'),
    nodeName: str('The node the pod runs on; set by the scheduler, or directly to bypass it.'),
    hostNetwork: bool("Whether the pod uses the node's network namespace."),
    hostPID: bool("Whether the pod uses the node's process namespace."),
    hostIPC: bool("Whether the pod uses the node's IPC namespace."),
    shareProcessNamespace: bool('Whether the containers of the pod see each other\'s processes.'),
    securityContext: ref(c('PodSecurityContext'), 'Security settings for all containers of the pod.'),
    imagePullSecrets: arr(S.ref(c('LocalObjectReference')), 'Secrets holding credentials to pull the images.'),
    hostname: str('Host name of the pod; defaults to the pod name.'),
    subdomain: str('Subdomain under which the pod gets a DNS name (with a headless service of that name).'),
    affinity: ref(c('Affinity'), 'Scheduling constraints relative to nodes and other pods.'),
    schedulerName: str('Scheduler that places the pod.'),
    tolerations: arr(S.ref(c('Toleration')), 'Taints the pod tolerates.'),
    hostAliases: arr(S.ref(c('HostAlias')), 'Entries added to the /etc/hosts file of the pod.'),
    priorityClassName: str('Name of the priority class of the pod.'),
    priority: i32('Priority value of the pod, resolved from priorityClassName.'),
    enableServiceLinks: bool('Whether environment variables describing services are injected.'),
    preemptionPolicy: oneOf(['Never', 'PreemptLowerPriority'], 'Whether the pod may preempt lower-priority pods.'),
    setHostnameAsFQDN: bool('Whether the host name is set to the fully qualified domain name.'),
    readinessGates: arr(S.ref(c('PodReadinessGate')), 'Extra conditions that must be true for the pod to be ready.'),
  }),
  [c('Container')]: obj('A single container of a pod.', {
    name: req(str('Name of the container, unique within the pod.')),
    image: str('Image to run.'),
    imagePullPolicy: oneOf(['Always', 'IfNotPresent', 'Never'], 'When the image is pulled.'),
    command: strs('Entrypoint; replaces the image ENTRYPOINT.'),
    args: strs('Arguments to the entrypoint; replace the image CMD.'),
    workingDir: str('Working directory of the container.'),
    ports: arr(S.ref(c('ContainerPort')), 'Ports the container exposes; informational.'),
    env: arr(S.ref(c('EnvVar')), 'Environment variables of the container.'),
    envFrom: arr(S.ref(c('EnvFromSource')), 'Sources whose keys all become environment variables.'),
    resources: ref(c('ResourceRequirements'), 'Compute resources requested and limits.'),
    volumeMounts: arr(S.ref(c('VolumeMount')), 'Volumes mounted into the container filesystem.'),
    livenessProbe: ref(c('Probe'), 'Check that restarts the container when it fails.'),
    readinessProbe: ref(c('Probe'), 'Check that removes the pod from service endpoints while it fails.'),
    startupProbe: ref(c('Probe'), 'Check that must succeed once before the other probes run.'),
    lifecycle: ref(c('Lifecycle'), 'Actions run right after start and right before stop.'),
    terminationMessagePath: str('File whose contents become the termination message.'),
    terminationMessagePolicy: oneOf(['File', 'FallbackToLogsOnError'], 'Where the termination message comes from.'),
    securityContext: ref(c('SecurityContext'), 'Security settings of this container.'),
    stdin: bool('Whether the container has a stdin buffer.'),
    stdinOnce: bool('Whether stdin is closed after the first attach ends.'),
    tty: bool('Whether a terminal is allocated.'),
    restartPolicy: oneOf(['Always'], 'For init containers only: Always makes it a sidecar that keeps running.'),
  }),
  [c('ContainerPort')]: obj('A network port of a container.', {
    name: str('Name of the port, usable as a service targetPort.'),
    hostPort: i32('Port on the node to forward to this one.'),
    containerPort: req(i32('Port number the container listens on.')),
    protocol: dflt(oneOf(PROTOCOLS, 'Protocol of the port; TCP by default.'), 'TCP'),
    hostIP: str('Node address the hostPort binds to.'),
  }),
  [c('EnvVar')]: obj('One environment variable.', {
    name: req(str('Name of the variable.')),
    value: str('Literal value; $(VAR) references to earlier variables are expanded.'),
    valueFrom: ref(c('EnvVarSource'), 'Where to read the value from instead of value.'),
  }),
  [c('EnvVarSource')]: obj('A source for the value of an environment variable.', {
    fieldRef: ref(c('ObjectFieldSelector'), 'A field of the pod.'),
    configMapKeyRef: ref(c('ConfigMapKeySelector'), 'A key of a config map.'),
    secretKeyRef: ref(c('SecretKeySelector'), 'A key of a secret.'),
    resourceFieldRef: ref(c('ResourceFieldSelector'), 'A resource request or limit of a container.'),
  }),
  [c('ObjectFieldSelector')]: obj('Selects a field of the pod.', {
    apiVersion: str('Version the field path is written against; v1 by default.'),
    fieldPath: req(str('Path of the field, such as metadata.name or status.podIP.')),
  }),
  [c('ConfigMapKeySelector')]: obj('Selects one key of a config map.', {
    name: req(str('Name of the config map.')),
    key: req(str('The key to read.')),
    optional: bool('Whether a missing config map or key is acceptable.'),
  }),
  [c('SecretKeySelector')]: obj('Selects one key of a secret.', {
    name: req(str('Name of the secret.')),
    key: req(str('The key to read.')),
    optional: bool('Whether a missing secret or key is acceptable.'),
  }),
  [c('ResourceFieldSelector')]: obj('Selects a resource request or limit of a container.', {
    containerName: str('Container whose resources are read; required for volumes.'),
    resource: req(str('The resource, such as limits.cpu.')),
    divisor: ref(QUANTITY, 'Unit the value is divided by; 1 by default.'),
  }),
  [c('EnvFromSource')]: obj('A config map or secret whose keys all become environment variables.', {
    prefix: str('Prefix added to each variable name.'),
    configMapRef: ref(c('ConfigMapEnvSource'), 'The config map to read.'),
    secretRef: ref(c('SecretEnvSource'), 'The secret to read.'),
  }),
  [c('ConfigMapEnvSource')]: obj('A config map to read variables from.', {
    name: req(str('Name of the config map.')),
    optional: bool('Whether a missing config map is acceptable.'),
  }),
  [c('SecretEnvSource')]: obj('A secret to read variables from.', {
    name: req(str('Name of the secret.')),
    optional: bool('Whether a missing secret is acceptable.'),
  }),
  [c('Probe')]: obj('A periodic health check of a container.', {
    ...handlerFields('check the container'),
    grpc: ref(c('GRPCAction'), 'Call the gRPC health service of the container.'),
    initialDelaySeconds: i32('Seconds after start before the first check.'),
    timeoutSeconds: i32('Seconds after which a check counts as failed.'),
    periodSeconds: i32('Seconds between checks.'),
    successThreshold: i32('Consecutive successes needed after a failure.'),
    failureThreshold: i32('Consecutive failures needed to act.'),
    terminationGracePeriodSeconds: i64('Grace period used when a failing probe kills the container.'),
  }),
  [c('ExecAction')]: obj('Runs a command in the container; exit status 0 is success.', {
    command: strs('The command and its arguments; not run in a shell.'),
  }),
  [c('HTTPGetAction')]: obj('An HTTP GET request; a 2xx or 3xx answer is success.', {
    path: str('Path of the request.'),
    port: req(intOrStr('Port number or named container port to connect to.')),
    host: str('Host to connect to; the pod IP by default.'),
    scheme: oneOf(['HTTP', 'HTTPS'], 'Scheme of the request; HTTP by default.'),
    httpHeaders: arr(S.ref(c('HTTPHeader')), 'Extra request headers.'),
  }),
  [c('HTTPHeader')]: obj('One HTTP header.', {
    name: req(str('Header name.')),
    value: req(str('Header value.')),
  }),
  [c('TCPSocketAction')]: obj('Opens a TCP connection; connecting is success.', {
    port: req(intOrStr('Port number or named container port to connect to.')),
    host: str('Host to connect to; the pod IP by default.'),
  }),
  [c('GRPCAction')]: obj('Calls the standard gRPC health check.', {
    port: req(i32('Port of the gRPC service.')),
    service: str('Service name passed to the health check.'),
  }),
  [c('Lifecycle')]: obj('Hooks run around the life of a container.', {
    postStart: ref(c('LifecycleHandler'), 'Run right after the container starts.'),
    preStop: ref(c('LifecycleHandler'), 'Run before the container is stopped.'),
  }),
  [c('LifecycleHandler')]: obj('The action of a lifecycle hook.', {
    ...handlerFields('the container'),
    sleep: ref(c('SleepAction'), 'Wait for a number of seconds.'),
  }),
  [c('SleepAction')]: obj('Waits for a while.', {
    seconds: req(i64('Seconds to wait.')),
  }),
  [c('ResourceRequirements')]: obj('Compute resources of a container.', {
    limits: mapOf(S.ref(QUANTITY), 'Most of each resource the container may use.'),
    requests: mapOf(S.ref(QUANTITY), 'Resources reserved for the container when scheduling.'),
  }),
  [c('SecurityContext')]: obj('Security settings of a container.', {
    runAsUser: i64('User ID the process runs as.'),
    runAsGroup: i64('Group ID the process runs as.'),
    runAsNonRoot: bool('Refuse to start if the process would run as root.'),
    privileged: bool('Run with all capabilities and device access of the node.'),
    allowPrivilegeEscalation: bool('Whether a process may gain more privileges than its parent.'),
    readOnlyRootFilesystem: bool('Mount the root filesystem read-only.'),
    capabilities: ref(c('Capabilities'), 'Linux capabilities to add or drop.'),
  }),
  [c('Capabilities')]: obj('Linux capabilities to add to or drop from a container.', {
    add: strs('Capabilities to add, such as NET_ADMIN.'),
    drop: strs('Capabilities to drop, such as ALL.'),
  }),
  [c('VolumeMount')]: obj('Mounts a volume into a container.', {
    name: req(str('Name of the pod volume.')),
    mountPath: req(str('Path inside the container.')),
    readOnly: bool('Mount read-only.'),
    subPath: str('Path inside the volume to mount instead of its root.'),
  }),
  [c('Affinity')]: obj('Scheduling constraints.', {
    nodeAffinity: ref(c('NodeAffinity'), 'Constraints on the nodes the pod may run on.'),
    podAffinity: ref(c('PodAffinity'), 'Run near pods matching some terms.'),
    podAntiAffinity: ref(c('PodAntiAffinity'), 'Run away from pods matching some terms.'),
  }),
  [c('NodeAffinity')]: obj('Constraints on nodes, by node labels.', {
    requiredDuringSchedulingIgnoredDuringExecution: ref(c('NodeSelector'), 'Terms at least one of which a node must match.'),
    preferredDuringSchedulingIgnoredDuringExecution: arr(S.ref(c('PreferredSchedulingTerm')), 'Weighted terms the scheduler prefers.'),
  }),
  [c('NodeSelector')]: obj('A disjunction of node selector terms.', {
    nodeSelectorTerms: req(arr(S.ref(c('NodeSelectorTerm')), 'The terms; a node must match one of them.')),
  }),
  [c('NodeSelectorTerm')]: obj('Requirements that must all hold for a node.', {
    matchExpressions: arr(S.ref(c('NodeSelectorRequirement')), 'Requirements on node labels.'),
    matchFields: arr(S.ref(c('NodeSelectorRequirement')), 'Requirements on node fields.'),
  }),
  [c('NodeSelectorRequirement')]: obj('A requirement on a node label or field.', {
    key: req(str('Label key or field name.')),
    operator: req(oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'], 'How the key relates to the values.')),
    values: strs('Values to compare with; one integer for Gt and Lt.'),
  }),
  [c('PreferredSchedulingTerm')]: obj('A node selector term with a weight.', {
    weight: req(i32('Weight, 1 to 100.')),
    preference: req(ref(c('NodeSelectorTerm'), 'The term.')),
  }),
  [c('PodAffinity')]: obj('Rules to place a pod near other pods.', {
    requiredDuringSchedulingIgnoredDuringExecution: arr(S.ref(c('PodAffinityTerm')), 'Terms that must all hold.'),
    preferredDuringSchedulingIgnoredDuringExecution: arr(S.ref(c('WeightedPodAffinityTerm')), 'Terms the scheduler prefers.'),
  }),
  [c('PodAntiAffinity')]: obj('Rules to keep a pod away from other pods.', {
    requiredDuringSchedulingIgnoredDuringExecution: arr(S.ref(c('PodAffinityTerm')), 'Terms that must all hold.'),
    preferredDuringSchedulingIgnoredDuringExecution: arr(S.ref(c('WeightedPodAffinityTerm')), 'Terms the scheduler prefers.'),
  }),
  [c('PodAffinityTerm')]: obj('Pods matched by a selector, counted within a topology domain.', {
    labelSelector: ref(`${META}LabelSelector`, 'Selects the pods.'),
    namespaceSelector: ref(`${META}LabelSelector`, 'Selects the namespaces the pods are looked for in.'),
    namespaces: strs('Namespaces the pods are looked for in; the pod\'s own by default.'),
    topologyKey: req(str('Node label whose value defines the domain, such as kubernetes.io/hostname.')),
  }),
  [c('WeightedPodAffinityTerm')]: obj('A pod affinity term with a weight.', {
    weight: req(i32('Weight, 1 to 100.')),
    podAffinityTerm: req(ref(c('PodAffinityTerm'), 'The term.')),
  }),
  [c('Toleration')]: obj('Lets a pod be scheduled onto (or stay on) nodes with a matching taint.', {
    key: str('Taint key matched; empty with Exists matches every taint.'),
    operator: oneOf(['Exists', 'Equal'], 'Equal compares the value; Exists matches any value.'),
    value: str('Taint value matched by Equal.'),
    effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], 'Taint effect matched; empty matches all.'),
    tolerationSeconds: i64('How long a NoExecute taint is tolerated before eviction.'),
  }),
  [c('PodDNSConfig')]: obj('DNS settings of a pod.', {
    nameservers: strs('Name server addresses.'),
    searches: strs('Search domains.'),
    options: arr(S.ref(c('PodDNSConfigOption')), 'Resolver options.'),
  }),
  [c('PodDNSConfigOption')]: obj('One resolver option.', {
    name: req(str('Option name.')),
    value: str('Option value.'),
  }),
  [c('Volume')]: obj('A named volume of a pod and where its data comes from.', {
    name: req(str('Name of the volume, referenced by volume mounts.')),
    emptyDir: ref(c('EmptyDirVolumeSource'), 'An empty directory that lives as long as the pod.'),
    configMap: ref(c('ConfigMapVolumeSource'), 'Files from a config map.'),
    secret: ref(c('SecretVolumeSource'), 'Files from a secret.'),
    hostPath: ref(c('HostPathVolumeSource'), 'A path on the node.'),
    persistentVolumeClaim: ref(c('PersistentVolumeClaimVolumeSource'), 'A persistent volume claimed by name.'),
    downwardAPI: ref(c('DownwardAPIVolumeSource'), 'Files holding fields of the pod.'),
    projected: ref(c('ProjectedVolumeSource'), 'Several sources merged into one directory.'),
  }),
  [c('EmptyDirVolumeSource')]: obj('An initially empty directory.', {
    medium: str('Storage medium; Memory for a tmpfs.'),
    sizeLimit: ref(QUANTITY, 'Most space the directory may use.'),
  }),
  [c('KeyToPath')]: obj('Maps a key to a file path.', {
    key: req(str('The key.')),
    path: req(str('Relative file path to write the value to.')),
    mode: i32('Permission bits of the file.'),
  }),
  [c('ConfigMapVolumeSource')]: obj('Exposes the keys of a config map as files.', {
    name: str('Name of the config map.'),
    items: arr(S.ref(c('KeyToPath')), 'Keys to expose and their paths; all keys by default.'),
    defaultMode: i32('Permission bits of the files.'),
    optional: bool('Whether a missing config map is acceptable.'),
  }),
  [c('SecretVolumeSource')]: obj('Exposes the keys of a secret as files.', {
    secretName: str('Name of the secret.'),
    items: arr(S.ref(c('KeyToPath')), 'Keys to expose and their paths; all keys by default.'),
    defaultMode: i32('Permission bits of the files.'),
    optional: bool('Whether a missing secret is acceptable.'),
  }),
  [c('HostPathVolumeSource')]: obj('A file or directory on the node.', {
    path: req(str('Path on the node.')),
    type: str('What must be at the path, such as Directory or FileOrCreate.'),
  }),
  [c('PersistentVolumeClaimVolumeSource')]: obj('Refers to a persistent volume claim.', {
    claimName: req(str('Name of the claim in the pod namespace.')),
    readOnly: bool('Mount read-only.'),
  }),
  [c('DownwardAPIVolumeFile')]: obj('A file holding a field of the pod.', {
    path: req(str('Relative file path.')),
    fieldRef: ref(c('ObjectFieldSelector'), 'A field of the pod.'),
    resourceFieldRef: ref(c('ResourceFieldSelector'), 'A resource of a container.'),
    mode: i32('Permission bits of the file.'),
  }),
  [c('DownwardAPIVolumeSource')]: obj('Files holding fields of the pod.', {
    items: arr(S.ref(c('DownwardAPIVolumeFile')), 'The files.'),
    defaultMode: i32('Permission bits of the files.'),
  }),
  [c('ProjectedVolumeSource')]: obj('Merges several sources into one directory.', {
    sources: arr(S.ref(c('VolumeProjection')), 'The sources.'),
    defaultMode: i32('Permission bits of the files.'),
  }),
  [c('VolumeProjection')]: obj('One source of a projected volume.', {
    configMap: ref(c('ConfigMapProjection'), 'Keys of a config map.'),
    secret: ref(c('SecretProjection'), 'Keys of a secret.'),
    downwardAPI: ref(c('DownwardAPIProjection'), 'Fields of the pod.'),
    serviceAccountToken: ref(c('ServiceAccountTokenProjection'), 'A token of the pod service account.'),
  }),
  [c('ConfigMapProjection')]: obj('Keys of a config map in a projected volume.', {
    name: str('Name of the config map.'),
    items: arr(S.ref(c('KeyToPath')), 'Keys to expose and their paths.'),
    optional: bool('Whether a missing config map is acceptable.'),
  }),
  [c('SecretProjection')]: obj('Keys of a secret in a projected volume.', {
    name: str('Name of the secret.'),
    items: arr(S.ref(c('KeyToPath')), 'Keys to expose and their paths.'),
    optional: bool('Whether a missing secret is acceptable.'),
  }),
  [c('DownwardAPIProjection')]: obj('Fields of the pod in a projected volume.', {
    items: arr(S.ref(c('DownwardAPIVolumeFile')), 'The files.'),
  }),
  [c('ServiceAccountTokenProjection')]: obj('A service account token in a projected volume.', {
    audience: str('Intended audience of the token.'),
    expirationSeconds: i64('Requested lifetime of the token.'),
    path: req(str('Relative file path of the token.')),
  }),
  [c('PodSecurityContext')]: obj('Security settings applied to every container of a pod.', {
    runAsUser: i64('User ID processes run as.'),
    runAsGroup: i64('Group ID processes run as.'),
    runAsNonRoot: bool('Refuse to start containers that would run as root.'),
    fsGroup: i64('Group that owns mounted volumes.'),
    sysctls: arr(S.ref(c('Sysctl')), 'Namespaced kernel parameters set for the pod.'),
  }),
  [c('Sysctl')]: obj('One kernel parameter.', {
    name: req(str('Parameter name.')),
    value: req(str('Parameter value.')),
  }),
  [c('HostAlias')]: obj('An /etc/hosts entry.', {
    ip: req(str('The address.')),
    hostnames: strs('Host names for the address.'),
  }),
  [c('PodReadinessGate')]: obj('An extra pod condition that gates readiness.', {
    conditionType: req(str('Type of the pod condition.')),
  }),
  [c('LocalObjectReference')]: obj('Names an object in the same namespace.', {
    name: str('Name of the object.'),
  }),
  [c('PodStatus')]: obj('Observed state of a pod.', {
    phase: oneOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'], 'Coarse summary of where the pod is in its lifecycle.'),
    conditions: arr(S.ref(c('PodCondition')), 'Observations such as Ready and PodScheduled.'),
    message: str('Human-readable reason for the current state.'),
    reason: str('Short CamelCase reason for the current state.'),
    nominatedNodeName: str('Node the pod is expected to run on after preemption.'),
    hostIP: str('Primary address of the node running the pod.'),
    hostIPs: arr(S.ref(c('HostIP')), 'Addresses of the node running the pod.'),
    podIP: str('Primary address of the pod.'),
    podIPs: arr(S.ref(c('PodIP')), 'Addresses of the pod, at most one per family.'),
    startTime: time('When the node accepted the pod.'),
    initContainerStatuses: arr(S.ref(c('ContainerStatus')), 'State of each init container.'),
    containerStatuses: arr(S.ref(c('ContainerStatus')), 'State of each container.'),
    qosClass: oneOf(['Guaranteed', 'Burstable', 'BestEffort'], 'Quality of service class derived from resources.'),
  }),
  [c('PodCondition')]: obj('One aspect of the state of a pod.', conditionFields({
    lastProbeTime: time('When the condition was last probed.'),
  })),
  [c('PodIP')]: obj('One address of a pod.', { ip: req(str('The address.')) }),
  [c('HostIP')]: obj('One address of the node of a pod.', { ip: req(str('The address.')) }),
  [c('ContainerStatus')]: obj('State of one container.', {
    name: req(str('Name of the container.')),
    state: ref(c('ContainerState'), 'Current state.'),
    lastState: ref(c('ContainerState'), 'State of the previous run, if any.'),
    ready: req(bool('Whether the readiness probe passes.')),
    restartCount: req(i32('How many times the container restarted.')),
    image: req(str('Image the container runs.')),
    imageID: req(str('Resolved identity of the image.')),
    containerID: str('Runtime identity of the container.'),
    started: bool('Whether the startup probe has passed.'),
  }),
  [c('ContainerState')]: obj('State of a container: exactly one member is set.', {
    waiting: ref(c('ContainerStateWaiting'), 'Not running yet.'),
    running: ref(c('ContainerStateRunning'), 'Running.'),
    terminated: ref(c('ContainerStateTerminated'), 'Exited.'),
  }),
  [c('ContainerStateWaiting')]: obj('A container that is not running yet.', {
    reason: str('Why it is waiting.'),
    message: str('Details.'),
  }),
  [c('ContainerStateRunning')]: obj('A running container.', {
    startedAt: time('When it started.'),
  }),
  [c('ContainerStateTerminated')]: obj('A container that exited.', {
    exitCode: req(i32('Exit status.')),
    signal: i32('Signal that ended it.'),
    reason: str('Why it exited.'),
    message: str('Details.'),
    startedAt: time('When it started.'),
    finishedAt: time('When it exited.'),
    containerID: str('Runtime identity of the container.'),
  }),
  [c('Binding')]: kind(v1('Binding'), 'Assigns a pod to a node; posted to the binding subresource of a pod.', {
    target: req(ref(c('ObjectReference'), 'The node to bind to.')),
  }),

  // -------------------------------------------------------------------------------------- Service
  [c('Service')]: kind(v1('Service'), 'A stable virtual address and name for a set of pods, with load balancing across them.', {
    spec: ref(c('ServiceSpec'), 'What the service should be.'),
    status: ref(c('ServiceStatus'), 'Most recently observed state of the service.'),
  }),
  [c('ServiceSpec')]: obj('Desired state of a service.', {
    ports: arr(S.ref(c('ServicePort')), 'Ports the service exposes and where each one forwards to.'),
    selector: strMap('Labels of the pods that back the service; without it, endpoints are managed by hand.'),
    clusterIP: str('Virtual address of the service; None makes a headless service.'),
    clusterIPs: strs('Virtual addresses of the service, at most one per family.'),
    type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], 'How the service is exposed.', 'ClusterIP'),
    externalIPs: strs('Extra addresses at which nodes accept traffic for the service.'),
    sessionAffinity: oneOf(['ClientIP', 'None'], 'Whether a client keeps going to the same pod.'),
    loadBalancerIP: str('Deprecated requested load balancer address.'),
    loadBalancerSourceRanges: strs('Client ranges allowed through the load balancer.'),
    externalName: str('DNS name returned as a CNAME for ExternalName services.'),
    externalTrafficPolicy: oneOf(['Cluster', 'Local'], 'Whether external traffic may be sent to pods on other nodes.'),
    healthCheckNodePort: i32('Node port that answers load balancer health checks for Local policy.'),
    publishNotReadyAddresses: bool('Whether pods that are not ready still get DNS records and endpoints.'),
    sessionAffinityConfig: ref(c('SessionAffinityConfig'), 'Settings of session affinity.'),
    ipFamilies: arr(S.oneOf(['IPv4', 'IPv6']), 'Address families of the service, in order.'),
    ipFamilyPolicy: oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack'], 'How many address families the service gets.'),
    allocateLoadBalancerNodePorts: bool('Whether LoadBalancer services get node ports.'),
    loadBalancerClass: str('Which load balancer implementation handles the service.'),
    internalTrafficPolicy: oneOf(['Cluster', 'Local'], 'Whether in-cluster traffic may be sent to pods on other nodes.'),
    trafficDistribution: str('Preference for how traffic is spread across endpoints, such as PreferClose.'),
  }),
  [c('ServicePort')]: obj('One port of a service.', {
    name: str('Name of the port; required when there are several.'),
    protocol: dflt(oneOf(PROTOCOLS, 'Protocol of the port; TCP by default.'), 'TCP'),
    appProtocol: str('Application protocol, as a hint to implementations.'),
    port: req(i32('Port number the service listens on.')),
    targetPort: intOrStr('Port number or named container port on the pods; the port value by default.'),
    nodePort: i32('Port opened on every node for NodePort and LoadBalancer services.'),
  }),
  [c('SessionAffinityConfig')]: obj('Settings of session affinity.', {
    clientIP: ref(c('ClientIPConfig'), 'Settings of client IP affinity.'),
  }),
  [c('ClientIPConfig')]: obj('Settings of client IP affinity.', {
    timeoutSeconds: i32('Seconds a client sticks to a pod.'),
  }),
  [c('ServiceStatus')]: obj('Observed state of a service.', {
    loadBalancer: ref(c('LoadBalancerStatus'), 'State of the load balancer, if any.'),
    conditions: arr(S.ref(`${META}Condition`), 'Observations about the service.'),
  }),
  [c('LoadBalancerStatus')]: obj('State of a load balancer.', {
    ingress: arr(S.ref(c('LoadBalancerIngress')), 'Entry points of the load balancer.'),
  }),
  [c('LoadBalancerIngress')]: obj('One entry point of a load balancer.', {
    ip: str('Address of the entry point.'),
    hostname: str('DNS name of the entry point.'),
    ipMode: oneOf(['VIP', 'Proxy'], 'How traffic reaches the pods from this address.'),
    ports: arr(S.ref(c('PortStatus')), 'State of each service port.'),
  }),
  [c('PortStatus')]: obj('State of one port.', {
    port: req(i32('Port number.')),
    protocol: req(oneOf(PROTOCOLS, 'Protocol of the port.')),
    error: str('Problem with the port, if any.'),
  }),
  [c('ObjectReference')]: obj('Points at any object.', {
    kind: str('Kind of the object.'),
    namespace: str('Namespace of the object.'),
    name: str('Name of the object.'),
    uid: str('UID of the object.'),
    apiVersion: str('API version of the object.'),
    resourceVersion: str('Resource version the reference was made at.'),
    fieldPath: str('Part of the object meant, such as a container.'),
  }),

  // ------------------------------------------------------------------------------------ Endpoints
  [c('Endpoints')]: kind(v1('Endpoints'), 'The addresses and ports that back a service (legacy form of EndpointSlice).', {
    subsets: arr(S.ref(c('EndpointSubset')), 'Groups of addresses sharing the same ports.'),
  }),
  [c('EndpointSubset')]: obj('Addresses that all serve the same ports.', {
    addresses: arr(S.ref(c('EndpointAddress')), 'Ready addresses.'),
    notReadyAddresses: arr(S.ref(c('EndpointAddress')), 'Addresses not ready yet.'),
    ports: arr(S.ref(c('EndpointPort')), 'Ports served at every address.'),
  }),
  [c('EndpointAddress')]: obj('One endpoint address.', {
    ip: req(str('The address.')),
    hostname: str('Host name of the endpoint.'),
    nodeName: str('Node the endpoint is on.'),
    targetRef: ref(c('ObjectReference'), 'The object behind the address, usually a pod.'),
  }),
  [c('EndpointPort')]: obj('One endpoint port.', {
    name: str('Name matching the service port name.'),
    port: req(i32('Port number.')),
    protocol: oneOf(PROTOCOLS, 'Protocol of the port.'),
    appProtocol: str('Application protocol of the port.'),
  }),

  // ---------------------------------------------------------------------- ConfigMap, Secret, ...
  [c('ConfigMap')]: kind(v1('ConfigMap'), 'Non-secret configuration as key/value pairs.', {
    data: strMap('Text values by key.'),
    binaryData: mapOf({ t: 'string', format: 'byte' }, 'Binary values by key, base64-encoded.'),
    immutable: bool('When true, the data can no longer be changed.'),
  }),
  [c('Secret')]: kind(v1('Secret'), 'Sensitive data as key/value pairs.', {
    data: mapOf({ t: 'string', format: 'byte' }, 'Values by key, base64-encoded.'),
    stringData: strMap('Plain-text values by key, merged into data on write; never returned.'),
    type: str('What the secret holds, such as Opaque or kubernetes.io/tls.'),
    immutable: bool('When true, the data can no longer be changed.'),
  }),
  [c('Event')]: kind(v1('Event'), 'A report of something that happened to an object.', {
    involvedObject: req(ref(c('ObjectReference'), 'The object the event is about.')),
    reason: str('Short CamelCase cause, such as Scheduled.'),
    message: str('Human-readable description.'),
    source: ref(c('EventSource'), 'Component that reported the event.'),
    firstTimestamp: time('When the event was first seen.'),
    lastTimestamp: time('When the event was last seen.'),
    count: i32('How many times the event was seen.'),
    type: oneOf(['Normal', 'Warning'], 'Severity of the event.'),
    eventTime: ref(MICRO_TIME, 'When the event was first seen, with microseconds.'),
    reportingComponent: str('Controller that emitted the event.'),
    reportingInstance: str('Instance of the controller that emitted the event.'),
    action: str('What was done, or failed to be done.'),
    related: ref(c('ObjectReference'), 'A second object involved.'),
  }),
  [c('EventSource')]: obj('Where an event came from.', {
    component: str('Reporting component.'),
    host: str('Node the component runs on.'),
  }),
  [c('ServiceAccount')]: kind(v1('ServiceAccount'), 'An identity for processes running in pods.', {
    secrets: arr(S.ref(c('ObjectReference')), 'Secrets pods of this account may use.'),
    imagePullSecrets: arr(S.ref(c('LocalObjectReference')), 'Secrets used to pull images for pods of this account.'),
    automountServiceAccountToken: bool('Whether pods of this account get a token mounted by default.'),
  }),
};
