import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from '../../api/types.ts';
import { containerEnv, expandCommand, expandVars } from './env.ts';

describe('$(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'alpha', EMPTY: '' };
  const table: [string, string][] = [
    ['$(A)', 'alpha'],
    ['x-$(A)-y', 'x-alpha-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['cost $5', 'cost $5'],
    ['$(EMPTY)z', 'z'],
    ['$(A', '$(A'],
    ['trailing $', 'trailing $'],
  ];
  for (const [input, expected] of table) {
    it(`expands ${JSON.stringify(input)} to ${JSON.stringify(expected)}`, () => {
      assert.equal(expandVars(input, (n) => vars[n]), expected);
    });
  }
});

describe('container environment', () => {
  const pod: Pod = { metadata: { name: 'web', namespace: 'shop', uid: 'u1', labels: { app: 'w' } }, spec: { containers: [], nodeName: 'n1' } };

  it('resolves env in order, so later entries see earlier ones, and fieldRefs from the pod', () => {
    const c: Container = { name: 'c', env: [
      { name: 'B', value: '$(A)-b' },
      { name: 'A', value: 'a' },
      { name: 'C', value: '$(A)-c' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ] };
    const r = containerEnv(pod, c, { podIP: '10.0.0.7' });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual(Object.fromEntries(r.env), { B: '$(A)-b', A: 'a', C: 'a-c', POD: 'web', IP: '10.0.0.7', APP: 'w' });
    assert.deepEqual(expandCommand(['echo', '$(C)', '$(POD)'], r.env), ['echo', 'a-c', 'web']);
  });

  it('reads configMap keys and envFrom with a prefix, and fails on a missing non-optional key', () => {
    const c: Container = { name: 'c', envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cfg' } }], env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] };
    const ok = containerEnv(pod, c, { configMaps: { cfg: { k: 'v' } } });
    assert.ok(ok.ok && ok.env.some(([k, v]) => k === 'CM_k' && v === 'v') && ok.env.some(([k, v]) => k === 'K' && v === 'v'));
    const bad = containerEnv(pod, { name: 'c', env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'zz' } } }] }, { configMaps: { cfg: { k: 'v' } } });
    assert.deepEqual(bad, { ok: false, reason: 'CreateContainerConfigError', message: "couldn't find key zz in ConfigMap shop/cfg" });
  });

  it('adds service variables without overriding explicit env, and only KUBERNETES_* when service links are off', () => {
    const c: Container = { name: 'c', env: [{ name: 'DB_SERVICE_HOST', value: 'mine' }] };
    const svc = { DB_SERVICE_HOST: '10.96.0.5', KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    const r = containerEnv(pod, c, { serviceEnv: svc });
    assert.ok(r.ok && Object.fromEntries(r.env).DB_SERVICE_HOST === 'mine' && Object.fromEntries(r.env).KUBERNETES_SERVICE_HOST === '10.96.0.1');
    const off = containerEnv({ ...pod, spec: { containers: [], enableServiceLinks: false } }, { name: 'c' }, { serviceEnv: svc });
    assert.ok(off.ok);
    if (off.ok) assert.deepEqual(Object.fromEntries(off.env), { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  });
});
