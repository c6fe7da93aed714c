import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, PodSpec } from '../../api/types.ts';
import { containerIdentity, setprivArgs } from './security.ts';

const spec: PodSpec = { containers: [] };

describe('container identity', () => {
  it('runs as nobody with the default capability bounding set by default', () => {
    const r = containerIdentity(spec, { name: 'c' }, 'p');
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.identity.uid, 65534);
    const args = setprivArgs(r.identity);
    assert.deepEqual(args.slice(0, 3), ['--reuid=65534', '--regid=65534', '--clear-groups']);
    assert.ok(args.some((a) => a.startsWith('--bounding-set=-all,+chown')));
  });

  const rows: { name: string; c: Container; pod?: PodSpec; uid: number; gid: number; argsEmpty?: boolean }[] = [
    { name: 'container runAsUser overrides the pod one', c: { name: 'c', securityContext: { runAsUser: 1000 } }, pod: { containers: [], securityContext: { runAsUser: 2000, runAsGroup: 3000 } }, uid: 1000, gid: 3000 },
    { name: 'runAsUser 0 runs as root with gid 0', c: { name: 'c', securityContext: { runAsUser: 0 } }, uid: 0, gid: 0 },
    { name: 'privileged runs as root with every capability', c: { name: 'c', securityContext: { privileged: true } }, uid: 0, gid: 0, argsEmpty: true },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = containerIdentity(row.pod ?? spec, row.c, 'p');
      assert.ok(r.ok);
      if (!r.ok) return;
      assert.equal(r.identity.uid, row.uid);
      assert.equal(r.identity.gid, row.gid);
      assert.equal(setprivArgs(r.identity).length === 0, row.argsEmpty === true);
    });
  }

  it('drops and adds capabilities, honours no_new_privs and rejects root under runAsNonRoot', () => {
    const r = containerIdentity(spec, { name: 'c', securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] }, allowPrivilegeEscalation: false } }, 'p');
    assert.ok(r.ok);
    if (r.ok) {
      assert.deepEqual(r.identity.boundingSet, ['net_admin']);
      assert.ok(setprivArgs(r.identity).includes('--no-new-privs'));
    }
    const bad = containerIdentity(spec, { name: 'c', securityContext: { runAsUser: 0, runAsNonRoot: true } }, 'p');
    assert.equal(bad.ok, false);
  });
});
