import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ManagedFieldsEntry } from '../types.ts';
import { ApiError } from '../errors.ts';
import { LAST_APPLIED_ANNOTATION, conflictError, managerFromUserAgent, serverSideApply, updateManagedFields } from './server-side-apply.ts';
import type { Conflict, ServerSideApplyInput } from './server-side-apply.ts';

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const T2 = '2024-05-01T12:00:00Z';

type Obj = Record<string, unknown>;

function deployment(spec: Obj, labels: Record<string, string> = { app: 'web' }): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels }, spec };
}
const podSpec = (containers: Obj[], extra: Obj = {}): Obj => ({ selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers, ...extra } } });

/** Stores an object as the API server would: with a uid and resourceVersion. */
const stored = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, uid: 'uid-1', resourceVersion: '1' } });

function apply(live: KubeObject | undefined, applied: KubeObject, manager: string, opts: Partial<ServerSideApplyInput> = {}): KubeObject {
  const r = serverSideApply({ kind: applied.kind ?? '', apiVersion: applied.apiVersion ?? '', live, applied, manager, force: false, now: T0, ...opts });
  if (r.conflicts !== undefined) assert.fail(`unexpected conflicts: ${JSON.stringify(r.conflicts)}`);
  return stored(r.object);
}

function conflicts(live: KubeObject | undefined, applied: KubeObject, manager: string, opts: Partial<ServerSideApplyInput> = {}): Conflict[] {
  const r = serverSideApply({ kind: applied.kind ?? '', apiVersion: applied.apiVersion ?? '', live, applied, manager, force: false, now: T1, ...opts });
  if (r.conflicts === undefined) return assert.fail('expected conflicts');
  return r.conflicts;
}

function update(live: KubeObject | undefined, updated: KubeObject, manager: string, now = T1, subresource?: string): KubeObject {
  const out = updateManagedFields({ kind: updated.kind ?? '', apiVersion: updated.apiVersion ?? '', live, updated, manager, operation: 'Update', now, ...(subresource ? { subresource } : {}) });
  return stored(out);
}

const entry = (o: KubeObject, manager: string, operation?: 'Apply' | 'Update'): ManagedFieldsEntry | undefined =>
  o.metadata.managedFields?.find((e) => e.manager === manager && (operation === undefined || e.operation === operation));
const managers = (o: KubeObject): string[] => (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`);
const at = (o: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);
const withReplicas = (o: KubeObject, n: number): KubeObject => {
  const c = structuredClone(o);
  (c['spec'] as Obj)['replicas'] = n;
  return c;
};

describe('serverSideApply', () => {
  it('creates an object with exactly one Apply entry that owns what the configuration sets, not name or namespace', () => {
    const o = apply(undefined, deployment({ replicas: 2, ...podSpec([{ name: 'nginx', image: 'nginx:1' }]) }), 'kubectl', { now: '2024-05-01T10:00:00.987Z' });
    assert.deepEqual(o.metadata.managedFields, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2024-05-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
    assert.equal(at(o, 'spec', 'replicas'), 2);
  });

  const removals: { name: string; first: KubeObject; second: KubeObject; gone: (string | number)[]; kept: (string | number)[] }[] = [
    {
      name: 'a label',
      first: deployment({ replicas: 1 }, { app: 'web', tier: 'front' }),
      second: deployment({ replicas: 1 }, { app: 'web' }),
      gone: ['metadata', 'labels', 'tier'],
      kept: ['metadata', 'labels', 'app'],
    },
    {
      name: 'a scalar field',
      first: deployment({ replicas: 3, paused: true }),
      second: deployment({ paused: true }),
      gone: ['spec', 'replicas'],
      kept: ['spec', 'paused'],
    },
    {
      name: 'a container (map-list item)',
      first: deployment(podSpec([{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }])),
      second: deployment(podSpec([{ name: 'b', image: 'b' }])),
      gone: ['spec', 'template', 'spec', 'containers', 1],
      kept: ['spec', 'template', 'spec', 'containers', 0, 'name'],
    },
  ];
  for (const t of removals) {
    it(`re-applying without ${t.name} removes it from the object and the entry`, () => {
      const first = apply(undefined, t.first, 'mgr');
      const second = apply(first, t.second, 'mgr', { now: T1 });
      assert.equal(at(second, ...t.gone), undefined);
      assert.notEqual(at(second, ...t.kept), undefined);
      assert.equal(managers(second).length, 1);
    });
  }

  it('re-applying without a field another manager also owns keeps the field', () => {
    const first = apply(undefined, deployment({ replicas: 3 }, { app: 'web', tier: 'front' }), 'mgr');
    const labelled = update(first, { ...first, metadata: { ...first.metadata, labels: { app: 'web', tier: 'front', team: 'x' } } }, 'kubectl-label');
    // kubectl-label owns only the label it added; another applier sets tier to the same value and so co-owns it.
    const shared = apply(labelled, deployment({}, { tier: 'front' }), 'other', { now: T1 });
    const second = apply(shared, deployment({ replicas: 3 }, { app: 'web' }), 'mgr', { now: T2 });
    assert.equal(at(second, 'metadata', 'labels', 'tier'), 'front');
    assert.equal(at(second, 'metadata', 'labels', 'team'), 'x');
    // Without the co-owner the same re-apply removes tier.
    const alone = apply(labelled, deployment({ replicas: 3 }, { app: 'web' }), 'mgr', { now: T2 });
    assert.equal(at(alone, 'metadata', 'labels', 'tier'), undefined);
    assert.equal(at(alone, 'metadata', 'labels', 'team'), 'x');
  });

  it('lets two appliers own different fields side by side', () => {
    const a = apply(undefined, deployment({ replicas: 2 }), 'team-a');
    const b = apply(a, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: { owner: 'b' } }, spec: { paused: false } }, 'team-b', { now: T1 });
    assert.deepEqual(managers(b), ['team-a/Apply', 'team-b/Apply']);
    assert.equal(at(b, 'spec', 'replicas'), 2);
    assert.equal(at(b, 'spec', 'paused'), false);
    assert.deepEqual(at(entry(b, 'team-b'), 'fieldsV1'), { 'f:metadata': { 'f:annotations': { 'f:owner': {} } }, 'f:spec': { 'f:paused': {} } });
  });

  it('reports a conflict with an Update manager on spec.replicas with the exact upstream message and cause', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-client-side-apply', T0);
    const cs = conflicts(created, deployment({ replicas: 3 }), 'my-applier');
    assert.deepEqual(cs, [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', path: '.spec.replicas' }]);
    const err = conflictError('Deployment', 'apps', 'web', cs);
    assert.ok(err instanceof ApiError);
    assert.deepEqual(err.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      code: 409,
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
    });
  });

  it('does not conflict when the applied value equals the live one, and then both managers own the field', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
    const o = apply(created, deployment({ replicas: 1 }), 'applier', { now: T1 });
    assert.deepEqual(at(entry(o, 'kubectl-create'), 'fieldsV1', 'f:spec'), { 'f:replicas': {} });
    assert.deepEqual(at(entry(o, 'applier'), 'fieldsV1', 'f:spec'), { 'f:replicas': {} });
  });

  it('prints an Apply owner without an apiVersion and groups several conflicts by manager', () => {
    const a = apply(undefined, deployment({ replicas: 1, paused: false }, { app: 'web' }), 'first');
    const cs = conflicts(a, deployment({ replicas: 2, paused: true }, { app: 'other' }), 'second');
    assert.equal(cs.length, 3);
    const err = conflictError('Deployment', 'apps', 'web', cs);
    assert.equal(err.message, 'Apply failed with 3 conflicts: conflicts with "first":\n- .metadata.labels.app\n- .spec.paused\n- .spec.replicas');
    assert.deepEqual(err.details?.causes?.map((c) => c.message), ['conflict with "first"', 'conflict with "first"', 'conflict with "first"']);
  });

  it('with force takes ownership: the value changes and the previous owner loses the field (and its entry when empty)', () => {
    const unlabelled = (spec: Obj): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec });
    const created = update(undefined, unlabelled({ replicas: 1 }), 'kubectl-create', T0);
    const scaled = update(created, withReplicas(created, 4), 'kubectl-scale', T1);
    assert.deepEqual(managers(scaled), ['kubectl-scale/Update']);
    const partial = update(scaled, { ...scaled, spec: { replicas: 4, paused: true } }, 'kubectl-create', T1);
    const r = serverSideApply({ kind: 'Deployment', apiVersion: 'apps/v1', live: partial, applied: unlabelled({ replicas: 3 }), manager: 'applier', force: true, now: T2 });
    assert.equal(r.conflicts, undefined);
    const o = r.object!;
    assert.equal(at(o, 'spec', 'replicas'), 3);
    assert.equal(entry(o, 'kubectl-scale'), undefined);
    assert.deepEqual(managers(o), ['applier/Apply', 'kubectl-create/Update']);
    assert.deepEqual(at(entry(o, 'kubectl-create'), 'fieldsV1'), { 'f:spec': { 'f:paused': {} } });
  });

  it('merges containers by name: live-only containers stay, applied ones follow the applied order, fields merge', () => {
    const live = update(undefined, deployment(podSpec([{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] }, { name: 'sidecar', image: 's' }])), 'creator', T0);
    const o = apply(live, deployment(podSpec([{ name: 'a', image: 'a:1' }, { name: 'c', image: 'c:1' }])), 'applier', { now: T1 });
    const containers = at(o, 'spec', 'template', 'spec', 'containers') as Obj[];
    assert.deepEqual(containers.map((c) => c['name']), ['a', 'sidecar', 'c']);
    assert.deepEqual(containers[0], { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] });
  });

  it('keys Service ports by port and protocol, so UDP 53 and TCP 53 are separate items', () => {
    const svc = (ports: Obj[]): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns' }, spec: { ports } });
    const first = apply(undefined, svc([{ port: 53, protocol: 'UDP', name: 'dns' }]), 'a');
    const second = apply(first, svc([{ port: 53, protocol: 'TCP', name: 'dns-tcp' }]), 'b', { now: T1 });
    assert.deepEqual(at(second, 'spec', 'ports'), [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }]);
    assert.deepEqual(Object.keys(at(entry(second, 'b'), 'fieldsV1', 'f:spec', 'f:ports') as Obj), ['k:{"port":53,"protocol":"TCP"}']);
  });

  const atomics: { name: string; live: KubeObject; applied: KubeObject; path: (string | number)[]; want: unknown }[] = [
    {
      name: 'a container command',
      live: deployment(podSpec([{ name: 'a', command: ['sh', '-c', 'old'] }])),
      applied: deployment(podSpec([{ name: 'a', command: ['run'] }])),
      path: ['spec', 'template', 'spec', 'containers', 0, 'command'],
      want: ['run'],
    },
    {
      name: 'tolerations',
      live: deployment(podSpec([{ name: 'a' }], { tolerations: [{ key: 'x', operator: 'Exists' }, { key: 'y', operator: 'Exists' }] })),
      applied: deployment(podSpec([{ name: 'a' }], { tolerations: [{ key: 'z', operator: 'Exists' }] })),
      path: ['spec', 'template', 'spec', 'tolerations'],
      want: [{ key: 'z', operator: 'Exists' }],
    },
    {
      name: 'a label selector (atomic struct)',
      live: deployment({ selector: { matchLabels: { app: 'web', old: 'x' } } }),
      applied: deployment({ selector: { matchLabels: { app: 'web' } } }),
      path: ['spec', 'selector'],
      want: { matchLabels: { app: 'web' } },
    },
  ];
  for (const t of atomics) {
    it(`replaces ${t.name} whole rather than merging items`, () => {
      const first = apply(undefined, t.live, 'mgr');
      const o = apply(first, t.applied, 'mgr', { now: T1 });
      assert.deepEqual(at(o, ...t.path), t.want);
    });
  }

  it('owns labels one by one: an applier dropping its label leaves the label of another applier', () => {
    const a = apply(undefined, deployment({}, { app: 'web' }), 'a');
    const b = apply(a, deployment({}, { team: 'net' }), 'b', { now: T1 });
    assert.deepEqual(at(b, 'metadata', 'labels'), { app: 'web', team: 'net' });
    const c = apply(b, deployment({}, {}), 'b', { now: T2 });
    assert.deepEqual(at(c, 'metadata', 'labels'), { app: 'web' });
    assert.deepEqual(at(entry(c, 'a'), 'fieldsV1', 'f:metadata'), { 'f:labels': { 'f:app': {} } });
  });

  it('attributes the fields of an untracked object to before-first-apply and conflicts with it', () => {
    const untracked = stored(deployment({ replicas: 1 }));
    const cs = conflicts(untracked, deployment({ replicas: 2 }), 'applier');
    assert.deepEqual(cs, [{ manager: 'before-first-apply', operation: 'Update', apiVersion: 'apps/v1', path: '.spec.replicas' }]);
    const o = apply(untracked, deployment({ replicas: 1 }), 'applier', { now: T1 });
    assert.deepEqual(managers(o), ['applier/Apply', 'before-first-apply/Update']);
  });

  it('lets kubectl --server-side take over fields client-side apply recorded in last-applied, and updates the annotation', () => {
    const csa = deployment({ replicas: 1 });
    const annotated = { ...csa, metadata: { ...csa.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(csa) } } };
    const live = update(undefined, annotated, 'kubectl-client-side-apply', T0);
    assert.equal(conflicts(live, deployment({ replicas: 5 }), 'other-tool').length, 1);
    const o = apply(live, deployment({ replicas: 5 }), 'kubectl', { now: T1 });
    assert.equal(at(o, 'spec', 'replicas'), 5);
    const last = JSON.parse(String(at(o, 'metadata', 'annotations', LAST_APPLIED_ANNOTATION))) as Obj;
    assert.equal(at(last, 'spec', 'replicas'), 5);
  });

  it('does not let a main-resource apply own status', () => {
    const o = apply(undefined, { ...deployment({ replicas: 1 }), status: { replicas: 9 } }, 'mgr');
    assert.equal(at(entry(o, 'mgr'), 'fieldsV1', 'f:status'), undefined);
  });

  it('keeps the entry timestamps when a re-apply changes nothing', () => {
    const first = apply(undefined, deployment({ replicas: 2 }), 'mgr', { now: T0 });
    const again = apply(first, deployment({ replicas: 2 }), 'mgr', { now: T2 });
    assert.equal(entry(again, 'mgr')?.time, T0);
    const changed = apply(first, deployment({ replicas: 3 }), 'mgr', { now: T2 });
    assert.equal(entry(changed, 'mgr')?.time, T2);
  });

  const rejects: { name: string; applied: KubeObject; code: number; message: RegExp }[] = [
    { name: 'carries managedFields', applied: { ...deployment({}), metadata: { name: 'web', managedFields: [] } }, code: 400, message: /^metadata\.managedFields must be nil$/ },
    { name: 'has another apiVersion', applied: { ...deployment({}), apiVersion: 'apps/v1beta1' }, code: 400, message: /Specified patch version: apps\/v1beta1, expected: apps\/v1/ },
    { name: 'has a container without a name', applied: deployment(podSpec([{ image: 'x' }])), code: 500, message: /failed to create typed patch object \(default\/web; apps\/v1, Kind=Deployment\): \.spec\.template\.spec\.containers: element 0: .*omits all key fields "name"/ },
  ];
  for (const t of rejects) {
    it(`rejects a configuration that ${t.name}`, () => {
      assert.throws(
        () => serverSideApply({ kind: 'Deployment', apiVersion: 'apps/v1', live: undefined, applied: t.applied, manager: 'm', force: false, now: T0 }),
        (e: unknown) => e instanceof ApiError && e.code === t.code && t.message.test(e.message),
      );
    });
  }
});

describe('updateManagedFields', () => {
  it('records a create as one Update entry, with "." on maps and list items the write added', () => {
    const o = update(undefined, deployment({ replicas: 1, ...podSpec([{ name: 'nginx', image: 'nginx' }]) }), 'kubectl-create', T0);
    assert.deepEqual(o.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('gives changed fields to the writer and takes them from the previous owner', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
    const scaled = update(created, withReplicas(created, 5), 'kubectl-scale', T1);
    assert.deepEqual(managers(scaled), ['kubectl-create/Update', 'kubectl-scale/Update']);
    assert.equal(at(entry(scaled, 'kubectl-create'), 'fieldsV1', 'f:spec'), undefined);
    assert.deepEqual(at(entry(scaled, 'kubectl-scale'), 'fieldsV1'), { 'f:spec': { 'f:replicas': {} } });
  });

  it('merges repeated writes of one manager into one entry stamped with the latest time', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
    const a = update(created, withReplicas(created, 2), 'kubectl-edit', T1);
    const b = update(a, { ...a, metadata: { ...a.metadata, labels: { app: 'web', x: 'y' } } }, 'kubectl-edit', T2);
    const edits = (b.metadata.managedFields ?? []).filter((e) => e.manager === 'kubectl-edit');
    assert.equal(edits.length, 1);
    assert.equal(edits[0]?.time, T2);
    assert.deepEqual(edits[0]?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:x': {} } }, 'f:spec': { 'f:replicas': {} } });
  });

  it('leaves an existing object without managedFields untracked', () => {
    const untracked = stored(deployment({ replicas: 1 }));
    const o = update(untracked, withReplicas(untracked, 2), 'kubectl-scale');
    assert.equal(o.metadata.managedFields, undefined);
  });

  for (const reset of [[], [{}]] as ManagedFieldsEntry[][]) {
    it(`resets managedFields when the request sends ${JSON.stringify(reset)}`, () => {
      const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
      const o = update(created, { ...created, metadata: { ...created.metadata, managedFields: reset } }, 'kubectl-edit');
      assert.equal(o.metadata.managedFields, undefined);
    });
  }

  it('on the status subresource owns only status (a struct Go always serialises, so no ".") and records the subresource', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
    const withStatus = { ...withReplicas(created, 7), status: { readyReplicas: 1 } };
    const o = update(created, withStatus, 'deployment-controller', T1, 'status');
    const e = entry(o, 'deployment-controller');
    assert.equal(e?.subresource, 'status');
    assert.deepEqual(e?.fieldsV1, { 'f:status': { 'f:readyReplicas': {} } });
  });

  it('keeps entries and timestamps when the write changes nothing', () => {
    const created = update(undefined, deployment({ replicas: 1 }), 'kubectl-create', T0);
    const o = update(created, structuredClone(created), 'kubectl-edit', T2);
    assert.deepEqual(o.metadata.managedFields, created.metadata.managedFields);
  });

  it('caps Update managers at ten by merging the oldest into ancient-changes', () => {
    let o = update(undefined, deployment({ replicas: 0 }), 'm0', '2024-01-01T00:00:00Z');
    for (let i = 1; i <= 11; i++) o = update(o, { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [`l${i}`]: 'x' } } }, `m${i}`, `2024-01-01T00:00:${String(i).padStart(2, '0')}Z`);
    const names = (o.metadata.managedFields ?? []).map((e) => e.manager);
    assert.equal(names.length, 10);
    assert.ok(names.includes('ancient-changes'));
    assert.ok(!names.includes('m0') && !names.includes('m1') && !names.includes('m2'));
  });
});

describe('managerFromUserAgent', () => {
  const cases: [string, string][] = [
    ['kubectl/v1.31.0 (linux/amd64) kubernetes/9a75e7b', 'kubectl'],
    ['kube-controller-manager/v1.30.1 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:deployment-controller', 'kube-controller-manager'],
    ['node-fetch', 'node-fetch'],
    ['bad\u0007agent/1', 'badagent'],
    ['', ''],
    ['x'.repeat(200), 'x'.repeat(128)],
  ];
  for (const [ua, want] of cases) {
    it(`derives ${JSON.stringify(want.length > 20 ? `${want.slice(0, 5)}…(${want.length})` : want)} from ${JSON.stringify(ua.slice(0, 40))}`, () => assert.equal(managerFromUserAgent(ua), want));
  }
});
