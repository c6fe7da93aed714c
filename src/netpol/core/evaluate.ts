// The explaining evaluator: decides one connection by networking.k8s.io/v1 rules, policy by policy, and says
// why. A connection is allowed iff the source pod's egress allows it AND the destination pod's ingress allows
// it; a direction is open when no policy selects the pod for it (not isolated), else some rule of some selecting
// policy must admit the peer (any of `from`/`to`, or all when empty) and the port (any of `ports`, or all when
// empty). Named ports resolve against the destination pod's container ports in both directions. Pure.
import type { Protocol } from '../../api/types.ts';
import { parseIP, type ParsedIP } from '../../api/validation/ip.ts';
import {
  describePeer, describePort, ipBlockHolds, NetpolError, peerHoldsPod, policiesSelecting, portAdmits,
  type Direction, type PeerView, type PodView, type PolicyModel, type PolicyView, type PortView, type RuleView,
} from './model.ts';

/** One end of a connection: a pod by `namespace/name`, or an IP (an IP that a pod holds counts as that pod). */
export type Endpoint = { pod: string } | { ip: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
}

/** A rule that admitted the connection. `peer`/`port` are null when the rule has no `from`/`to` or no `ports` (all). */
export interface RuleRef {
  /** `namespace/name`. */
  policy: string;
  policyName: string;
  rule: number;
  peer: number | null;
  port: number | null;
}

/** Why one policy (rule null: the policy has no rules for the direction) or one of its rules did not admit it. */
export interface RuleMiss {
  policy: string;
  policyName: string;
  rule: number | null;
  reason: string;
}

export interface DirectionVerdict {
  direction: Direction;
  /** The pod whose policies decide this direction; null when that end is not a pod (the direction does not apply). */
  subject: string | null;
  isolated: boolean;
  /** `namespace/name` of each policy selecting the subject for this direction. */
  isolatingPolicies: string[];
  allowed: boolean;
  allowedBy: RuleRef[];
  misses: RuleMiss[];
  explanation: string;
}

export interface ConnectionVerdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
  /** One line: which direction denied and why, or what allowed it. */
  explanation: string;
}

interface ResolvedEndpoint {
  pod: PodView | undefined;
  ip: ParsedIP | undefined;
  /** `x/a` or the IP text. */
  label: string;
}

function resolveEndpoint(model: PolicyModel, ep: Endpoint): ResolvedEndpoint {
  if ('pod' in ep) {
    const pod = model.podsByKey.get(ep.pod.includes('/') ? ep.pod : `default/${ep.pod}`);
    if (!pod) throw new NetpolError('UnknownPod', `no pod ${ep.pod}`);
    return { pod, ip: pod.primaryIP, label: pod.key };
  }
  const ip = parseIP(ep.ip);
  if (!ip) throw new NetpolError('InvalidAddress', `not an IP address: ${JSON.stringify(ep.ip)}`);
  const pod = model.pods.find((p) => p.ips.includes(ep.ip));
  return { pod, ip, label: pod ? pod.key : ep.ip };
}

function peerHolds(model: PolicyModel, peer: PeerView, ep: ResolvedEndpoint): boolean {
  if (peer.kind === 'ipBlock') return ep.ip !== undefined && ipBlockHolds(peer, ep.ip);
  return ep.pod !== undefined && peerHoldsPod(model, peer, ep.pod);
}

function listNames(policies: readonly PolicyView[]): string {
  return `[${policies.map((p) => p.name).join(', ')}]`;
}

function ruleRefText(r: RuleRef): string {
  return `policy ${r.policyName} rule ${r.rule}${r.peer === null ? ' (any peer)' : ` peer ${r.peer}`}${r.port === null ? ' (any port)' : ` port ${r.port}`}`;
}

/** A port entry as printed in a miss; a named port also says what it resolves to on the destination. */
function describePortOn(port: PortView, destination: PodView | undefined): string {
  const text = describePort(port);
  if (port.kind !== 'named') return text;
  if (!destination) return `${text} (destination is not a pod)`;
  const n = destination.namedPorts.get(`${port.protocol}/${port.name}`);
  return n === undefined ? `${text} (not declared by ${destination.key})` : `${text}=${n} on ${destination.key}`;
}

function evaluateRule(
  model: PolicyModel,
  policy: PolicyView,
  rule: RuleView,
  direction: Direction,
  peer: ResolvedEndpoint,
  destination: PodView | undefined,
  protocol: Protocol,
  port: number,
): { ref: RuleRef } | { miss: RuleMiss } {
  const base = { policy: policy.key, policyName: policy.name, rule: rule.index };
  let peerIndex: number | null = null;
  if (rule.peers !== undefined) {
    const hit = rule.peers.find((p) => peerHolds(model, p, peer));
    if (!hit) {
      const needs = rule.peers.map((p) => `peer ${p.index} requires ${describePeer(p)}`).join(', ');
      return { miss: { ...base, reason: `policy ${policy.name} rule ${rule.index} ${needs}` } };
    }
    peerIndex = hit.index;
  }
  let portIndex: number | null = null;
  if (rule.ports !== undefined) {
    const hit = rule.ports.find((p) => portAdmits(p, protocol, port, destination));
    if (!hit) {
      const offered = rule.ports.map((p) => describePortOn(p, destination)).join(', ');
      const who = peerIndex === null ? `admits any ${direction === 'ingress' ? 'source' : 'destination'}` : `peer ${peerIndex} matches`;
      return { miss: { ...base, reason: `policy ${policy.name} rule ${rule.index} ${who} but only on ports [${offered}]` } };
    }
    portIndex = hit.index;
  }
  return { ref: { ...base, peer: peerIndex, port: portIndex } };
}

function evaluateDirection(
  model: PolicyModel,
  direction: Direction,
  subject: ResolvedEndpoint,
  other: ResolvedEndpoint,
  destination: PodView | undefined,
  protocol: Protocol,
  port: number,
): DirectionVerdict {
  const what = `${protocol}/${port}`;
  if (!subject.pod) {
    return {
      direction, subject: null, isolated: false, isolatingPolicies: [], allowed: true, allowedBy: [], misses: [],
      explanation: `${direction} not applicable: ${subject.label} is not a pod`,
    };
  }
  const pod = subject.pod;
  const policies = policiesSelecting(model, pod, direction);
  if (policies.length === 0) {
    return {
      direction, subject: pod.key, isolated: false, isolatingPolicies: [], allowed: true, allowedBy: [], misses: [],
      explanation: `pod ${pod.key} is not isolated for ${direction}`,
    };
  }
  const allowedBy: RuleRef[] = [];
  const misses: RuleMiss[] = [];
  for (const policy of policies) {
    const rules = direction === 'ingress' ? policy.ingress : policy.egress;
    if (rules.length === 0) {
      misses.push({ policy: policy.key, policyName: policy.name, rule: null, reason: `policy ${policy.name} has no ${direction} rules` });
      continue;
    }
    for (const rule of rules) {
      const r = evaluateRule(model, policy, rule, direction, other, destination, protocol, port);
      if ('ref' in r) allowedBy.push(r.ref);
      else misses.push(r.miss);
    }
  }
  const isolatingPolicies = policies.map((p) => p.key);
  const isolation = `pod ${pod.key} is isolated for ${direction} by policies ${listNames(policies)}`;
  const fromTo = direction === 'ingress' ? `from ${other.label}` : `to ${other.label}`;
  const first = allowedBy[0];
  if (first) {
    return {
      direction, subject: pod.key, isolated: true, isolatingPolicies, allowed: true, allowedBy, misses,
      explanation: `${isolation}; ${ruleRefText(first)} allows ${what} ${fromTo}`,
    };
  }
  return {
    direction, subject: pod.key, isolated: true, isolatingPolicies, allowed: false, allowedBy, misses,
    explanation: `${isolation}; no ${direction} rule allows ${what} ${fromTo}: ${misses.map((m) => m.reason).join('; ')}`,
  };
}

/** Decides a connection and explains it. Throws NetpolError('UnknownPod'|'InvalidAddress') for a bad endpoint. */
export function evaluateConnection(model: PolicyModel, conn: Connection): ConnectionVerdict {
  const from = resolveEndpoint(model, conn.from);
  const to = resolveEndpoint(model, conn.to);
  const egress = evaluateDirection(model, 'egress', from, to, to.pod, conn.protocol, conn.port);
  const ingress = evaluateDirection(model, 'ingress', to, from, to.pod, conn.protocol, conn.port);
  const allowed = egress.allowed && ingress.allowed;
  const denied = [egress, ingress].filter((d) => !d.allowed).map((d) => d.explanation);
  const explanation = allowed ? `allowed: egress: ${egress.explanation}; ingress: ${ingress.explanation}` : `denied: ${denied.join(' AND ')}`;
  return { allowed, egress, ingress, explanation };
}
