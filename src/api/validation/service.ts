// Services, after ValidateService / ValidateServiceUpdate in pkg/apis/core/validation. Expects the object
// defaulted (type, sessionAffinity, protocols, targetPort, traffic policies, clusterIPs synced). Pure.
import { fieldErrors, type FieldError } from '../errors.ts';
import type { Service, ServicePort, ServiceSpec } from '../types.ts';
import { isValidCIDR, isValidIP, parseIP, validateNonSpecialIP } from './ip.ts';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isValidPortNum, nameIsDNS1035Label } from './names.ts';
import { validateDNS1123Label, validateDNS1123Subdomain, validatePortNumOrName, validateProtocol, validateQualifiedName } from './pod.ts';
import { child, index, isRecord, list, str } from './util.ts';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

function specOf(svc: Service): ServiceSpec {
  return isRecord(svc.spec) ? svc.spec : {};
}

function isHeadless(spec: ServiceSpec): boolean {
  const ips = list(spec.clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
}

export function externallyAccessible(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && list(spec.externalIPs).length > 0);
}

function needsHealthCheck(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(sp.name);
  if (requireName && name === '') errs.push(fieldErrors.required(child(path, 'name')));
  else if (name !== '') {
    errs.push(...validateDNS1123Label(name, child(path, 'name')));
    if (names.has(name)) errs.push(fieldErrors.duplicate(child(path, 'name'), name));
    else names.add(name);
  }
  for (const msg of isValidPortNum(sp.port)) errs.push(fieldErrors.invalid(child(path, 'port'), sp.port, msg));
  // flatnet addition: a nodePort must at least be a port number (its 30000-32767 range is the allocator's rule).
  if (sp.nodePort !== undefined && sp.nodePort !== null && sp.nodePort !== 0) {
    for (const msg of isValidPortNum(sp.nodePort)) errs.push(fieldErrors.invalid(child(path, 'nodePort'), sp.nodePort, msg));
  }
  errs.push(...validateProtocol(sp.protocol, child(path, 'protocol')));
  errs.push(...validatePortNumOrName(sp.targetPort, child(path, 'targetPort')));
  if (sp.appProtocol !== undefined && sp.appProtocol !== null) errs.push(...validateQualifiedName(str(sp.appProtocol), child(path, 'appProtocol')));
  return errs;
}

function validateClusterIPsRelated(spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIP = str(spec.clusterIP);
  const clusterIPs = list(spec.clusterIPs).map(str);
  if (clusterIP !== '') {
    if (clusterIPs.length === 0) errs.push(fieldErrors.required('spec.clusterIPs'));
    else if (clusterIPs[0] !== clusterIP) errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length !== 0) {
    errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  list(spec.ipFamilies).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(fieldErrors.notSupported(index('spec.ipFamilies', i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(fieldErrors.duplicate(index('spec.ipFamilies', i), f));
    seen.add(f);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && policy !== null && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.ipFamilyPolicy', policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  let invalid = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        invalid = true;
        errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const e = isValidIP(index('spec.clusterIPs', i), ip);
    if (e.length > 0) invalid = true;
    errs.push(...e);
  });
  if (clusterIPs.length > 2) errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values'));
  if (invalid) return errs;
  if (clusterIPs.length > 1) {
    const fams = clusterIPs.map((ip) => parseIP(ip)?.family);
    if (fams.length !== 2 || fams[0] === fams[1]) errs.push(fieldErrors.invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec)) {
    const families = list(spec.ipFamilies);
    clusterIPs.forEach((ip, i) => {
      if (i >= families.length) return;
      const v6 = parseIP(ip)?.family === 6;
      if (families[i] === 'IPv4' && v6) errs.push(fieldErrors.invalid(index('spec.clusterIPs', i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !v6) errs.push(fieldErrors.invalid(index('spec.clusterIPs', i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateLoadBalancerClass(spec: ServiceSpec, oldSpec: ServiceSpec | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (oldSpec && oldSpec.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (oldSpec.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
    errs.push(fieldErrors.invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (spec.type === 'LoadBalancer') errs.push(...validateQualifiedName(str(spec.loadBalancerClass), 'spec.loadBalancerClass'));
    else errs.push(fieldErrors.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const spec = specOf(svc);
  const ports = list(spec.ports);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));
  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${spec.type} services`));
      break;
    case 'ExternalName': {
      if (list(spec.clusterIPs).length > 0) errs.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (list(spec.ipFamilies).length > 0) errs.push(fieldErrors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(fieldErrors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = str(spec.externalName).replace(/\.$/, '');
      if (cname !== '') errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
      else errs.push(fieldErrors.required('spec.externalName'));
      break;
    }
    default:
      break;
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index('spec.ports', i))));
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = spec.sessionAffinity ?? '';
  if (affinity === '') errs.push(fieldErrors.required('spec.sessionAffinity'));
  else if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(fieldErrors.notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  if (affinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const why = 'when session affinity type is ClientIP';
    if (!isRecord(cfg)) errs.push(fieldErrors.required('spec.sessionAffinityConfig', why));
    else if (!isRecord(cfg.clientIP)) errs.push(fieldErrors.required('spec.sessionAffinityConfig.clientIP', why));
    else if (typeof cfg.clientIP.timeoutSeconds !== 'number') errs.push(fieldErrors.required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', why));
    else {
      const t = cfg.clientIP.timeoutSeconds;
      if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) {
        errs.push(fieldErrors.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
      }
    }
  } else if (affinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(fieldErrors.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelated(spec));
  list(spec.externalIPs).forEach((ip, i) => {
    const e = isValidIP(index('spec.externalIPs', i), str(ip));
    errs.push(...(e.length > 0 ? e : validateNonSpecialIP(index('spec.externalIPs', i), str(ip))));
  });
  const type = spec.type ?? '';
  if (type === '') errs.push(fieldErrors.required('spec.type'));
  else if (!(SERVICE_TYPES as readonly string[]).includes(type)) errs.push(fieldErrors.notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(fieldErrors.forbidden(child(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const k = `${p.protocol ?? ''}/${p.nodePort}`;
    if (nodePorts.has(k)) errs.push(fieldErrors.duplicate(child(index('spec.ports', i), 'nodePort'), p.nodePort));
    nodePorts.add(k);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p.protocol ?? ''}/${p.port}`;
    if (portKeys.has(k)) errs.push(fieldErrors.duplicate(index('spec.ports', i), { port: p.port, protocol: p.protocol }));
    portKeys.add(k);
  });
  const ranges = list(spec.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    if (type !== 'LoadBalancer') errs.push(fieldErrors.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(index('spec.LoadBalancerSourceRanges', i), str(r).trim())));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(fieldErrors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    // Upstream reports this one without the `spec.` prefix.
    errs.push(fieldErrors.required('allocateLoadBalancerNodePorts'));
  }
  errs.push(...validateLoadBalancerClass(spec, undefined));
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(fieldErrors.required('spec.externalTrafficPolicy'));
  } else if (spec.externalTrafficPolicy !== 'Cluster' && spec.externalTrafficPolicy !== 'Local') {
    errs.push(fieldErrors.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (!needsHealthCheck(spec)) {
    if (spec.healthCheckNodePort) errs.push(fieldErrors.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (!spec.healthCheckNodePort) {
    errs.push(fieldErrors.required('spec.healthCheckNodePort'));
  } else {
    for (const msg of isValidPortNum(spec.healthCheckNodePort)) errs.push(fieldErrors.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, msg));
  }
  if (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(fieldErrors.required('spec.internalTrafficPolicy'));
  } else if (spec.internalTrafficPolicy !== 'Cluster' && spec.internalTrafficPolicy !== 'Local') {
    errs.push(fieldErrors.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(fieldErrors.notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

function validateClusterIPsUpdate(spec: ServiceSpec, oldSpec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  if (isHeadless(spec) && isHeadless(oldSpec)) return [];
  const errs: FieldError[] = [];
  const now = list(spec.clusterIPs);
  const before = list(oldSpec.clusterIPs);
  if (before.length === now.length) {
    before.forEach((ip, i) => {
      if (ip !== now[i]) errs.push(fieldErrors.invalid(index('spec.clusterIPs', i), now, 'may not change once set'));
    });
  } else if (before.length > now.length) {
    if (now.length === 0) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', now, 'primary clusterIP can not be unset'));
    if (before.length > 0 && now.length > 0 && now[0] !== before[0]) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', now, 'may not change once set'));
    if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (before.length > 0 && now[0] !== before[0]) {
    errs.push(fieldErrors.invalid('spec.clusterIPs[0]', now, 'may not change once set'));
  }
  return errs;
}

function validateIPFamiliesUpdate(spec: ServiceSpec, oldSpec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  if (isHeadless(spec) !== isHeadless(oldSpec) || isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const now = list(spec.ipFamilies);
  const before = list(oldSpec.ipFamilies);
  if (before.length === now.length) {
    before.forEach((f, i) => {
      if (f !== now[i]) errs.push(fieldErrors.invalid('spec.ipFamilies[0]', now, 'may not change once set'));
    });
  } else if (before.length > now.length) {
    if (list(spec.clusterIPs).length === 0) errs.push(fieldErrors.invalid('spec.ipFamilies[0]', now, 'primary ipFamily can not be unset'));
    if (now.length > 0 && now[0] !== before[0]) errs.push(fieldErrors.invalid('spec.ipFamilies[0]', list(spec.clusterIPs), 'may not change once set'));
    if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (before.length > 0 && now.length > 0 && now[0] !== before[0]) {
    errs.push(fieldErrors.invalid('spec.ipFamilies[0]', list(spec.clusterIPs), 'may not change once set'));
  }
  return errs;
}

/**
 * Service update: clusterIP(s) and ipFamilies may not change (beyond dual-stack upgrade/downgrade),
 * loadBalancerClass may not change on a LoadBalancer, healthCheckNodePort may not change while needed.
 * A changed spec.clusterIP is reported as `spec.clusterIP: Invalid value: ...: field is immutable`.
 */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  const bothAllocated = spec.type !== 'ExternalName' && oldSpec.type !== 'ExternalName';
  const clusterIPChanged = bothAllocated && str(oldSpec.clusterIP) !== '' && str(spec.clusterIP) !== str(oldSpec.clusterIP);
  if (clusterIPChanged) {
    errs.push(fieldErrors.invalid('spec.clusterIP', str(spec.clusterIP), 'field is immutable'));
  } else {
    errs.push(...validateClusterIPsUpdate(spec, oldSpec));
  }
  errs.push(...validateIPFamiliesUpdate(spec, oldSpec));
  errs.push(...validateLoadBalancerClass(spec, oldSpec).filter((e) => e.detail === 'may not change once set'));
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && spec.healthCheckNodePort !== oldSpec.healthCheckNodePort) {
    errs.push(fieldErrors.forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  // Metadata was checked as an update above; a changed clusterIP is already reported once.
  const created = validateService(svc).filter((e) => !e.field.startsWith('metadata.') && !(clusterIPChanged && e.field.startsWith('spec.clusterIPs')));
  return [...errs, ...created];
}
