// Validation of the served kinds, as kube-apiserver's registry strategies run it: `validateCreate` on a new
// object and `validateUpdate` on a replacement, both after defaulting (src/api/defaults). Field paths and
// messages follow upstream so `fieldErrorMessage` renders what kubectl users know. Pure.
import type { FieldError } from '../errors.ts';
import type {
  ConfigMap, DaemonSet, Deployment, EndpointSlice, Endpoints, Event, Ingress, IngressClass, KubeObject, Namespace, NetworkPolicy, Node, Pod,
  ReplicaSet, Secret, Service, ServiceAccount,
} from '../types.ts';
import { validateAppsUpdate, validateDaemonSet, validateDeployment, validateReplicaSet } from './apps.ts';
import {
  validateConfigMap, validateConfigMapUpdate, validateEndpoints, validateEndpointsUpdate, validateEvent, validateEventUpdate, validateNamespace,
  validateNamespaceUpdate, validateNode, validateNodeUpdate, validateSecret, validateSecretUpdate, validateServiceAccount, validateServiceAccountUpdate,
} from './core.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { nameIsDNSSubdomain } from './names.ts';
import {
  validateEndpointSlice, validateEndpointSliceUpdate, validateIngress, validateIngressClass, validateIngressClassUpdate, validateIngressUpdate,
  validateNetworkPolicy, validateNetworkPolicyUpdate,
} from './networking.ts';
import { validatePod, validatePodUpdate } from './pod.ts';
import { validateService, validateServiceUpdate } from './service.ts';

/** Errors for creating `obj` of `kind` (e.g. "Service"); empty when valid. Unknown kinds get ObjectMeta checks only. */
export function validateCreate(kind: string, obj: KubeObject): FieldError[] {
  switch (kind) {
    case 'Pod': return validatePod(obj as Pod);
    case 'Service': return validateService(obj as Service);
    case 'Deployment': return validateDeployment(obj as Deployment);
    case 'ReplicaSet': return validateReplicaSet(obj as ReplicaSet);
    case 'DaemonSet': return validateDaemonSet(obj as DaemonSet);
    case 'Namespace': return validateNamespace(obj as Namespace);
    case 'Node': return validateNode(obj as Node);
    case 'Endpoints': return validateEndpoints(obj as Endpoints);
    case 'EndpointSlice': return validateEndpointSlice(obj as EndpointSlice);
    case 'ConfigMap': return validateConfigMap(obj as ConfigMap);
    case 'Secret': return validateSecret(obj as Secret);
    case 'ServiceAccount': return validateServiceAccount(obj as ServiceAccount);
    case 'Event': return validateEvent(obj as Event);
    case 'NetworkPolicy': return validateNetworkPolicy(obj as NetworkPolicy);
    case 'Ingress': return validateIngress(obj as Ingress);
    case 'IngressClass': return validateIngressClass(obj as IngressClass);
    default: return validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain);
  }
}

/** Errors for replacing `old` with `obj`; both of the same `kind`. Immutable fields are checked here. */
export function validateUpdate(kind: string, obj: KubeObject, old: KubeObject): FieldError[] {
  switch (kind) {
    case 'Pod': return validatePodUpdate(obj as Pod, old as Pod);
    case 'Service': return validateServiceUpdate(obj as Service, old as Service);
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      return validateAppsUpdate(kind, obj as Deployment, old as Deployment);
    case 'Namespace': return validateNamespaceUpdate(obj as Namespace, old as Namespace);
    case 'Node': return validateNodeUpdate(obj as Node, old as Node);
    case 'Endpoints': return validateEndpointsUpdate(obj as Endpoints, old as Endpoints);
    case 'EndpointSlice': return validateEndpointSliceUpdate(obj as EndpointSlice, old as EndpointSlice);
    case 'ConfigMap': return validateConfigMapUpdate(obj as ConfigMap, old as ConfigMap);
    case 'Secret': return validateSecretUpdate(obj as Secret, old as Secret);
    case 'ServiceAccount': return validateServiceAccountUpdate(obj as ServiceAccount, old as ServiceAccount);
    case 'Event': return validateEventUpdate(obj as Event, old as Event);
    case 'NetworkPolicy': return validateNetworkPolicyUpdate(obj as NetworkPolicy, old as NetworkPolicy);
    case 'Ingress': return validateIngressUpdate(obj as Ingress, old as Ingress);
    case 'IngressClass': return validateIngressClassUpdate(obj as IngressClass, old as IngressClass);
    default: return validateObjectMetaUpdate(obj.metadata, old.metadata);
  }
}
