// Which identity and capabilities a container process gets. Pure.
//
// Default: uid/gid 65534 (nobody) — flatnet containers share the host filesystem, so the image's
// implicit root is not honoured. runAsUser/runAsGroup (container over pod) choose another identity;
// a uid without a gid gets gid 0 only when the uid is 0, else 65534. privileged keeps every
// capability; otherwise the bounding set is the container runtime default set, plus capabilities.add,
// minus capabilities.drop (ALL drops everything). allowPrivilegeEscalation: false sets no_new_privs.
import type { Container, PodSpec } from '../../api/types.ts';

export const DEFAULT_UID = 65534;
export const DEFAULT_GID = 65534;

/** containerd/Docker default capability set. */
export const DEFAULT_CAPABILITIES = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap', 'setpcap',
  'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
];

export interface ProcessIdentity {
  uid: number;
  gid: number;
  supplementaryGroups: number[];
  privileged: boolean;
  /** Lower-case capability names without CAP_; undefined when privileged (all kept). */
  boundingSet?: string[];
  noNewPrivs: boolean;
}

export type IdentityResult = { ok: true; identity: ProcessIdentity } | { ok: false; reason: 'CreateContainerConfigError'; message: string };

function capName(c: string): string {
  return c.toLowerCase().replace(/^cap_/, '');
}

export function containerIdentity(spec: PodSpec, container: Container, podName: string, defaults = { uid: DEFAULT_UID, gid: DEFAULT_GID }): IdentityResult {
  const sc = container.securityContext ?? {};
  const psc = spec.securityContext ?? {};
  const privileged = sc.privileged === true;
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const uid = runAsUser ?? (privileged ? 0 : defaults.uid);
  const gid = runAsGroup ?? (uid === 0 ? 0 : runAsUser !== undefined ? defaults.gid : defaults.gid);
  const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (runAsNonRoot === true && uid === 0) {
    return { ok: false, reason: 'CreateContainerConfigError', message: `container's runAsUser breaks non-root policy (pod: "${podName}", container: ${container.name})` };
  }
  const supplementaryGroups = psc.fsGroup !== undefined ? [psc.fsGroup] : [];
  if (privileged) return { ok: true, identity: { uid, gid, supplementaryGroups, privileged, noNewPrivs: false } };
  const drop = (sc.capabilities?.drop ?? []).map(capName);
  let caps = drop.includes('all') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  for (const add of (sc.capabilities?.add ?? []).map(capName)) if (add !== 'all' && !caps.includes(add)) caps = [...caps, add];
  if ((sc.capabilities?.add ?? []).map(capName).includes('all')) {
    return { ok: true, identity: { uid, gid, supplementaryGroups, privileged: false, noNewPrivs: sc.allowPrivilegeEscalation === false } };
  }
  return { ok: true, identity: { uid, gid, supplementaryGroups, privileged: false, boundingSet: caps, noNewPrivs: sc.allowPrivilegeEscalation === false } };
}

/** setpriv(1) arguments that switch to the identity (empty for a privileged root container). */
export function setprivArgs(id: ProcessIdentity): string[] {
  if (id.privileged && id.uid === 0 && id.gid === 0) return [];
  const args = [`--reuid=${id.uid}`, `--regid=${id.gid}`];
  args.push(id.supplementaryGroups.length > 0 ? `--groups=${id.supplementaryGroups.join(',')}` : '--clear-groups');
  if (id.boundingSet !== undefined) args.push(`--bounding-set=-all${id.boundingSet.map((c) => `,+${c}`).join('')}`);
  if (id.uid !== 0) args.push('--inh-caps=-all');
  if (id.noNewPrivs) args.push('--no-new-privs');
  return args;
}
