// NetworkPolicy, Ingress and IngressClass (networking.k8s.io/v1) and EndpointSlice (discovery.k8s.io/v1),
// after pkg/apis/networking/validation and pkg/apis/discovery/validation. Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { EndpointSlice, Ingress, IngressBackend, IngressClass, IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../types.ts';
import { isStrictSubnet, isValidCIDR, isValidIPv4Address, isValidIPv6Address, parseCIDR, parseIP, validateNonSpecialIP } from './ip.ts';
import { validateImmutable, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import {
  isDNS1123Subdomain,
  isHTTPPathSegment,
  isPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from './names.ts';
import { validateDNS1123Label, validateQualifiedName } from './pod.ts';
import { child, index, isRecord, list, str } from './util.ts';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

// ------------------------------------------------------------------------------------- NetworkPolicy

function validateNetworkPolicyPort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && port.protocol !== null && !PROTOCOLS.includes(port.protocol)) {
    errs.push(fieldErrors.notSupported(child(path, 'protocol'), port.protocol, PROTOCOLS));
  }
  const endPort = port.endPort;
  const hasEnd = endPort !== undefined && endPort !== null;
  if (port.port !== undefined && port.port !== null) {
    if (typeof port.port === 'number') {
      for (const msg of isValidPortNum(port.port)) errs.push(fieldErrors.invalid(child(path, 'port'), port.port, msg));
      if (hasEnd) {
        if (endPort < port.port) errs.push(fieldErrors.invalid(child(path, 'endPort'), endPort, 'must be greater than or equal to `port`'));
        for (const msg of isValidPortNum(endPort)) errs.push(fieldErrors.invalid(child(path, 'endPort'), endPort, msg));
      }
    } else {
      if (hasEnd) errs.push(fieldErrors.invalid(child(path, 'endPort'), endPort, 'may not be specified when `port` is non-numeric'));
      for (const msg of isValidPortName(str(port.port))) errs.push(fieldErrors.invalid(child(path, 'port'), port.port, msg));
    }
  } else if (hasEnd) {
    errs.push(fieldErrors.invalid(child(path, 'endPort'), endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

function validateIPBlock(ipb: IPBlock, path: string): FieldError[] {
  const cidr = str(ipb.cidr);
  if (cidr === '') return [fieldErrors.required(child(path, 'cidr'))];
  const errs = isValidCIDR(child(path, 'cidr'), cidr);
  const outer = parseCIDR(cidr);
  if (!outer) return errs;
  list(ipb.except).forEach((ex, i) => {
    const p = index(child(path, 'except'), i);
    const e = isValidCIDR(p, str(ex));
    errs.push(...e);
    const inner = parseCIDR(str(ex));
    if (!inner) return;
    if (!isStrictSubnet(inner, outer)) errs.push(fieldErrors.invalid(p, ex, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (isRecord(peer.podSelector)) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, child(path, 'podSelector')));
  }
  if (isRecord(peer.namespaceSelector)) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, child(path, 'namespaceSelector')));
  }
  if (isRecord(peer.ipBlock)) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, child(path, 'ipBlock')));
  }
  if (peers === 0) errs.push(fieldErrors.required(path, 'must specify a peer'));
  else if (peers > 1 && isRecord(peer.ipBlock)) errs.push(fieldErrors.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateNetworkPolicySpec(np: NetworkPolicy): FieldError[] {
  const spec = isRecord(np.spec) ? np.spec : { podSelector: {} };
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  list(spec.ingress).forEach((rule, i) => {
    const rp = index('spec.ingress', i);
    list(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(rp, 'ports'), j))));
    list(rule.from).forEach((peer, j) => errs.push(...validatePeer(peer, index(child(rp, 'from'), j))));
  });
  list(spec.egress).forEach((rule, i) => {
    const rp = index('spec.egress', i);
    list(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(rp, 'ports'), j))));
    list(rule.to).forEach((peer, j) => errs.push(...validatePeer(peer, index(child(rp, 'to'), j))));
  });
  const types = list(spec.policyTypes);
  if (types.length > 2) {
    errs.push(fieldErrors.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(fieldErrors.notSupported(index('spec.policyTypes', i), t, ['Ingress', 'Egress']));
  });
  return errs;
}

export function validateNetworkPolicy(np: NetworkPolicy): FieldError[] {
  return [...validateObjectMeta(np.metadata, true, nameIsDNSSubdomain), ...validateNetworkPolicySpec(np)];
}

export function validateNetworkPolicyUpdate(np: NetworkPolicy, old: NetworkPolicy): FieldError[] {
  return [...validateObjectMetaUpdate(np.metadata, old.metadata), ...validateNetworkPolicySpec(np)];
}

// -------------------------------------------------------------------------------------------- Ingress

const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateHost(host: string, path: string, allowWildcard: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (allowWildcard && parseIP(host)) errs.push(fieldErrors.invalid(path, host, 'must be a DNS name, not an IP address'));
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  for (const msg of msgs) errs.push(fieldErrors.invalid(path, host, msg));
  return errs;
}

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const hasResource = isRecord(b.resource);
  const hasService = isRecord(b.service);
  if (hasResource && hasService) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource && b.resource) {
    const r = b.resource;
    const rp = child(path, 'resource');
    if (r.apiGroup !== undefined && r.apiGroup !== null) for (const msg of isDNS1123Subdomain(str(r.apiGroup))) errs.push(fieldErrors.invalid(child(rp, 'apiGroup'), r.apiGroup, msg));
    if (str(r.kind) === '') errs.push(fieldErrors.required(child(rp, 'kind')));
    else for (const msg of isPathSegmentName(r.kind)) errs.push(fieldErrors.invalid(child(rp, 'kind'), r.kind, msg));
    if (str(r.name) === '') errs.push(fieldErrors.required(child(rp, 'name')));
    else for (const msg of isPathSegmentName(r.name)) errs.push(fieldErrors.invalid(child(rp, 'name'), r.name, msg));
    return errs;
  }
  if (hasService && b.service) {
    const svc = b.service;
    const name = str(svc.name);
    if (name === '') errs.push(fieldErrors.required(child(path, 'service', 'name')));
    else for (const msg of nameIsDNS1035Label(name, false)) errs.push(fieldErrors.invalid(child(path, 'service', 'name'), name, msg));
    const port = isRecord(svc.port) ? svc.port : {};
    const portName = str(port.name);
    const portNumber = typeof port.number === 'number' ? port.number : 0;
    if (portName !== '' && portNumber !== 0) errs.push(fieldErrors.invalid(path, '', 'cannot set both port name & port number'));
    else if (portName !== '') for (const msg of isValidPortName(portName)) errs.push(fieldErrors.invalid(child(path, 'service', 'port', 'name'), portName, msg));
    else if (portNumber !== 0) for (const msg of isValidPortNum(portNumber)) errs.push(fieldErrors.invalid(child(path, 'service', 'port', 'number'), portNumber, msg));
    else errs.push(fieldErrors.required(path, 'port name or number is required'));
    return errs;
  }
  return [fieldErrors.invalid(path, '', 'resource or service backend is required')];
}

function validateIngressSpec(ing: Ingress): FieldError[] {
  const spec = isRecord(ing.spec) ? ing.spec : {};
  const errs: FieldError[] = [];
  const rules = list(spec.rules);
  if (rules.length === 0 && !isRecord(spec.defaultBackend)) {
    errs.push(fieldErrors.invalid('spec', rules, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (isRecord(spec.defaultBackend)) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const rp = index('spec.rules', i);
    const host = str(rule.host);
    if (host !== '') errs.push(...validateHost(host, child(rp, 'host'), true));
    if (!isRecord(rule.http)) return;
    const hp = child(rp, 'http');
    const paths = list(rule.http.paths);
    if (paths.length === 0) errs.push(fieldErrors.required(child(hp, 'paths')));
    paths.forEach((p, j) => {
      const pp = index(child(hp, 'paths'), j);
      if (!p.pathType) {
        errs.push(fieldErrors.required(child(pp, 'pathType'), 'pathType must be specified'));
        return;
      }
      const value = str(p.path);
      switch (p.pathType) {
        case 'Exact':
        case 'Prefix':
          if (!value.startsWith('/')) errs.push(fieldErrors.invalid(child(pp, 'path'), value, 'must be an absolute path'));
          if (value !== '') {
            for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(fieldErrors.invalid(child(pp, 'path'), value, `must not contain '${seq}'`));
            for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(fieldErrors.invalid(child(pp, 'path'), value, `cannot end with '${suf}'`));
          }
          break;
        case 'ImplementationSpecific':
          if (value !== '' && !value.startsWith('/')) errs.push(fieldErrors.invalid(child(pp, 'path'), value, 'must be an absolute path'));
          break;
        default:
          errs.push(fieldErrors.notSupported(child(pp, 'pathType'), p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
      }
      errs.push(...validateBackend(isRecord(p.backend) ? p.backend : {}, child(pp, 'backend')));
    });
  });
  list(spec.tls).forEach((tls, i) => {
    const tp = index('spec.tls', i);
    list(tls.hosts).forEach((h, j) => errs.push(...validateHost(str(h), index(child(tp, 'hosts'), j), false)));
    const secret = str(tls.secretName);
    if (secret !== '') for (const msg of nameIsDNSSubdomain(secret, false)) errs.push(fieldErrors.invalid(child(tp, 'secretName'), secret, msg));
  });
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) {
    for (const msg of nameIsDNSSubdomain(str(spec.ingressClassName), false)) errs.push(fieldErrors.invalid('spec.ingressClassName', spec.ingressClassName, msg));
  }
  return errs;
}

export function validateIngress(ing: Ingress): FieldError[] {
  const errs = [...validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain), ...validateIngressSpec(ing)];
  const annotation = ing.metadata?.annotations?.['kubernetes.io/ingress.class'];
  const className = isRecord(ing.spec) ? ing.spec.ingressClassName : undefined;
  if (annotation !== undefined && typeof className === 'string' && annotation !== className) {
    errs.push(fieldErrors.invalid('annotations.kubernetes.io/ingress.class', annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

export function validateIngressUpdate(ing: Ingress, old: Ingress): FieldError[] {
  return [...validateObjectMetaUpdate(ing.metadata, old.metadata), ...validateIngressSpec(ing)];
}

// --------------------------------------------------------------------------------------- IngressClass

/** A domain-prefixed path such as `acme.io/ingress-controller`. */
function validateDomainPrefixedPath(value: string, path: string): FieldError[] {
  if (value === '') return [fieldErrors.required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host === '' || rest === '') return [fieldErrors.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((msg) => fieldErrors.invalid(path, host, msg));
  for (const msg of isHTTPPathSegment(rest)) errs.push(fieldErrors.invalid(path, rest, msg));
  return errs;
}

function validateIngressClassSpec(ic: IngressClass): FieldError[] {
  const spec = isRecord(ic.spec) ? ic.spec : {};
  const errs: FieldError[] = [];
  const controller = str(spec.controller);
  if (controller === '') errs.push(fieldErrors.required('spec.controller'));
  else {
    if (controller.length > 250) errs.push(fieldErrors.tooLong('spec.controller', '', 250));
    errs.push(...validateDomainPrefixedPath(controller, 'spec.controller'));
  }
  const params = spec.parameters;
  if (isRecord(params)) {
    const pp = 'spec.parameters';
    if (params.apiGroup !== undefined && params.apiGroup !== null) for (const msg of isDNS1123Subdomain(str(params.apiGroup))) errs.push(fieldErrors.invalid(child(pp, 'apiGroup'), params.apiGroup, msg));
    if (str(params.kind) === '') errs.push(fieldErrors.required(child(pp, 'kind')));
    else for (const msg of isPathSegmentName(params.kind)) errs.push(fieldErrors.invalid(child(pp, 'kind'), params.kind, msg));
    if (str(params.name) === '') errs.push(fieldErrors.required(child(pp, 'name')));
    else for (const msg of isPathSegmentName(params.name)) errs.push(fieldErrors.invalid(child(pp, 'name'), params.name, msg));
    if (params.scope === undefined || params.scope === null) errs.push(fieldErrors.required(child(pp, 'scope')));
    else if (params.scope !== 'Cluster' && params.scope !== 'Namespace') errs.push(fieldErrors.notSupported(child(pp, 'scope'), params.scope, ['Cluster', 'Namespace']));
    else if (params.scope === 'Namespace') {
      if (params.namespace === undefined || params.namespace === null) errs.push(fieldErrors.required(child(pp, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
      else for (const msg of nameIsDNSLabel(str(params.namespace), false)) errs.push(fieldErrors.invalid(child(pp, 'namespace'), params.namespace, msg));
    } else if (params.namespace !== undefined && params.namespace !== null) {
      errs.push(fieldErrors.forbidden(child(pp, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

export function validateIngressClass(ic: IngressClass): FieldError[] {
  return [...validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain), ...validateIngressClassSpec(ic)];
}

export function validateIngressClassUpdate(ic: IngressClass, old: IngressClass): FieldError[] {
  const errs = validateObjectMetaUpdate(ic.metadata, old.metadata);
  errs.push(...validateImmutable(ic.spec?.controller, old.spec?.controller, 'spec.controller'));
  errs.push(...validateIngressClassSpec(ic));
  return errs;
}

// -------------------------------------------------------------------------------------- EndpointSlice

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

function validateFQDN(path: string, value: string): FieldError[] {
  if (value === '') return [fieldErrors.required(path)];
  const name = value.replace(/\.$/, '');
  const msgs = isDNS1123Subdomain(name);
  if (msgs.length > 0) return [fieldErrors.invalid(path, name, msgs.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [fieldErrors.invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  return [];
}

function validateEndpointSliceBody(es: EndpointSlice, addressTypes: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const at = str(es.addressType);
  if (at === '') errs.push(fieldErrors.required('addressType'));
  else if (!addressTypes.includes(at)) errs.push(fieldErrors.notSupported('addressType', at, addressTypes));
  const endpoints = list(es.endpoints);
  if (endpoints.length > 1000) errs.push(fieldErrors.tooMany('endpoints', endpoints.length, 1000));
  else {
    endpoints.forEach((ep, i) => {
      const p = index('endpoints', i);
      const ap = child(p, 'addresses');
      const addrs = list(ep.addresses);
      if (addrs.length === 0) errs.push(fieldErrors.required(ap, 'must contain at least 1 address'));
      else if (addrs.length > 100) errs.push(fieldErrors.tooMany(ap, addrs.length, 100));
      addrs.forEach((a, j) => {
        const path = index(ap, j);
        const value = str(a);
        if (at === 'IPv4') {
          const e = isValidIPv4Address(path, value);
          errs.push(...e, ...(e.length === 0 ? validateNonSpecialIP(path, value) : []));
        } else if (at === 'IPv6') {
          const e = isValidIPv6Address(path, value);
          errs.push(...e, ...(e.length === 0 ? validateNonSpecialIP(path, value) : []));
        } else if (at === 'FQDN') errs.push(...validateFQDN(path, value));
      });
      if (ep.hostname !== undefined && ep.hostname !== null) errs.push(...validateDNS1123Label(str(ep.hostname), child(p, 'hostname')));
      if (ep.nodeName !== undefined && ep.nodeName !== null) {
        for (const msg of nameIsDNSSubdomain(str(ep.nodeName), false)) errs.push(fieldErrors.invalid(child(p, 'nodeName'), ep.nodeName, msg));
      }
    });
  }
  const ports = list(es.ports);
  if (ports.length > 100) errs.push(fieldErrors.tooMany('ports', ports.length, 100));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = index('ports', i);
      const name = str(port.name);
      if (name !== '') errs.push(...validateDNS1123Label(name, child(p, 'name')));
      if (names.has(name)) errs.push(fieldErrors.duplicate(child(p, 'name'), name));
      else names.add(name);
      if (!port.protocol) errs.push(fieldErrors.required(child(p, 'protocol')));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(fieldErrors.notSupported(child(p, 'protocol'), port.protocol, ['SCTP', 'TCP', 'UDP']));
      if (typeof port.port === 'number') for (const msg of isValidPortNum(port.port)) errs.push(fieldErrors.invalid(child(p, 'port'), port.port, msg));
      if (port.appProtocol !== undefined && port.appProtocol !== null) errs.push(...validateQualifiedName(str(port.appProtocol), child(p, 'appProtocol')));
    });
  }
  return errs;
}

export function validateEndpointSlice(es: EndpointSlice): FieldError[] {
  return [...validateObjectMeta(es.metadata, true, nameIsDNSSubdomain), ...validateEndpointSliceBody(es, ADDRESS_TYPES)];
}

export function validateEndpointSliceUpdate(es: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = validateObjectMetaUpdate(es.metadata, old.metadata);
  errs.push(...validateEndpointSliceBody(es, [...ADDRESS_TYPES, 'IP'].sort()));
  errs.push(...validateImmutable(es.addressType, old.addressType, 'addressType'));
  return errs;
}

