import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, IntOrString, ReplicaSet } from '../../api/types.ts';
import type { Action } from './actions.ts';
import {
  maxSurge, maxUnavailable, reconcileDeployment, resolveFenceposts, scaledValue, templatesEqualIgnoringHash,
} from './deployment.ts';
import { computeTemplateHash } from './hash.ts';
import { iso, T0 } from './testing.ts';

function makeDeployment(opts: { replicas?: number; image?: string; strategy?: 'RollingUpdate' | 'Recreate'; surge?: IntOrString; unavailable?: IntOrString; generation?: number; historyLimit?: number; paused?: boolean } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: opts.generation ?? 1, resourceVersion: '1', annotations: { team: 'a' } },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: opts.image ?? 'nginx:1' }] } },
      strategy: opts.strategy === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: opts.surge ?? '25%', maxUnavailable: opts.unavailable ?? '25%' } },
      ...(opts.historyLimit !== undefined ? { revisionHistoryLimit: opts.historyLimit } : {}),
      ...(opts.paused ? { paused: true } : {}),
    },
  };
}

describe('rolling update arithmetic', () => {
  const cases: [IntOrString, number, boolean, number][] = [
    ['25%', 3, true, 1], ['25%', 3, false, 0], ['25%', 10, true, 3], ['25%', 10, false, 2], [2, 10, true, 2], ['50%', 1, false, 0], ['bogus', 10, true, 0],
  ];
  for (const [value, total, up, expected] of cases) {
    it(`${JSON.stringify(value)} of ${total} rounded ${up ? 'up' : 'down'} is ${expected}`, () => assert.equal(scaledValue(value, total, up), expected));
  }
  it('surge 0 and unavailable 0 become unavailable 1, as upstream', () => {
    assert.deepEqual(resolveFenceposts(makeDeployment({ surge: 0, unavailable: '10%', replicas: 3 })), [0, 1]);
  });
  it('maxUnavailable is capped at replicas and is 0 for Recreate', () => {
    assert.equal(maxUnavailable(makeDeployment({ replicas: 2, unavailable: 5 })), 2);
    assert.equal(maxUnavailable(makeDeployment({ strategy: 'Recreate' })), 0);
    assert.equal(maxSurge(makeDeployment({ strategy: 'Recreate' })), 0);
  });
});

describe('new ReplicaSet creation', () => {
  const d = makeDeployment();
  const r = reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: T0 });
  const create = r.actions.find((a) => a.verb === 'create');
  const rs = create?.verb === 'create' ? (create.object as ReplicaSet) : undefined;
  const hash = computeTemplateHash(d.spec!.template);

  it('names it <deployment>-<hash> and puts the hash in labels, selector and template labels', () => {
    assert.equal(rs?.metadata.name, `web-${hash}`);
    assert.deepEqual(rs?.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs?.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.deepEqual(rs?.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(templatesEqualIgnoringHash(rs?.spec?.template, d.spec?.template), true);
  });
  it('owns it, copies annotations and sets revision 1 with the replicas annotations', () => {
    assert.deepEqual(rs?.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(rs?.metadata.annotations, {
      team: 'a', 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4',
    });
  });
  it('sizes it to the full replica count (nothing else is running) and records upstream\'s event', () => {
    assert.equal(rs?.spec?.replicas, 3);
    assert.equal(create?.onSuccess?.message, `Scaled up replica set web-${hash} to 3`);
    assert.equal(create?.onSuccess?.reason, 'ScalingReplicaSet');
  });
  it('marks the Deployment Progressing=True NewReplicaSetCreated and annotates its revision', () => {
    const progressing = r.status.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([progressing?.status, progressing?.reason, progressing?.message], ['True', 'NewReplicaSetCreated', `Created new replica set "web-${hash}"`]);
    const available = r.status.conditions?.find((c) => c.type === 'Available');
    assert.deepEqual([available?.status, available?.reason], ['False', 'MinimumReplicasUnavailable']);
    const patch = r.actions.find((a) => a.verb === 'patch');
    assert.deepEqual(patch?.verb === 'patch' ? patch.patch : undefined, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } } });
    const order = r.actions.map((a) => a.verb + (a.verb === 'update' ? `:${a.subresource ?? ''}` : ''));
    assert.deepEqual(order, ['create', 'update:status', 'patch'], 'the status update precedes the annotation patch that bumps resourceVersion');
  });
});

/** A tiny cluster: applies the controller's actions and plays the ReplicaSet controller and kubelet. */
function simulate(deployment: Deployment, replicaSets: ReplicaSet[], opts: { steps?: number; check?: (rss: ReplicaSet[], d: Deployment) => void } = {}) {
  let d = structuredClone(deployment);
  const rss = new Map(replicaSets.map((rs) => [rs.metadata.name ?? '', structuredClone(rs)]));
  const events: string[] = [];
  let now = T0;
  let uid = 0;
  const pendingUp = new Map<string, number>();
  for (let step = 0; step < (opts.steps ?? 60); step++) {
    const r = reconcileDeployment({ deployment: d, replicaSets: [...rss.values()], pods: [], now });
    for (const a of r.actions) apply(a);
    opts.check?.([...rss.values()], d);
    // kubelet + RS controller: scale-down is immediate, scaled-up pods become available one tick later
    for (const rs of rss.values()) {
      const spec = rs.spec?.replicas ?? 0;
      const st = rs.status ?? { replicas: 0 };
      const avail = Math.min(st.availableReplicas ?? 0, spec) + (pendingUp.get(rs.metadata.name ?? '') ?? 0);
      const nowAvailable = Math.min(avail, spec);
      pendingUp.set(rs.metadata.name ?? '', spec - nowAvailable);
      rs.status = { replicas: spec, readyReplicas: nowAvailable, availableReplicas: nowAvailable, observedGeneration: rs.metadata.generation ?? 1 };
    }
    opts.check?.([...rss.values()], d);
    now += 1000;
    const s = d.status;
    if (r.actions.length === 0 && s?.updatedReplicas === d.spec?.replicas && s?.replicas === d.spec?.replicas && s?.availableReplicas === d.spec?.replicas) break;
  }
  return { d, rss, events };

  function apply(a: Action): void {
    if (a.onSuccess) events.push(a.onSuccess.message);
    if (a.verb === 'create') {
      const rs = structuredClone(a.object) as ReplicaSet;
      rs.metadata.uid = `rs-${++uid}`;
      rs.metadata.creationTimestamp = iso(now);
      rs.metadata.generation = 1;
      rs.status = { replicas: 0 };
      rss.set(rs.metadata.name ?? '', rs);
    } else if (a.verb === 'update' && a.object.kind === 'ReplicaSet') {
      rss.set(a.object.metadata.name ?? '', structuredClone(a.object) as ReplicaSet);
    } else if (a.verb === 'update' && a.object.kind === 'Deployment') {
      d = { ...d, status: structuredClone((a.object as Deployment).status) };
    } else if (a.verb === 'patch' && a.target.kind === 'Deployment') {
      const ann = ((a.patch['metadata'] as Record<string, unknown>)['annotations'] ?? {}) as Record<string, string>;
      d = { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), ...ann } } };
    } else if (a.verb === 'delete') {
      rss.delete(a.target.name);
    }
  }
}

describe('rollouts end to end', () => {
  it('a fresh Deployment ends complete with the statuses kubectl rollout status waits for', () => {
    const { d, events } = simulate(makeDeployment(), []);
    assert.equal(d.status?.observedGeneration, 1);
    assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.readyReplicas, d.status?.availableReplicas, d.status?.unavailableReplicas], [3, 3, 3, 3, 0]);
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.match(progressing?.message ?? '', /^ReplicaSet "web-[a-z0-9]+" has successfully progressed\.$/);
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(events.length, 1);
  });

  const strategies: [string, IntOrString, IntOrString, number][] = [
    ['25%/25% with 4 replicas', '25%', '25%', 4],
    ['maxSurge 0, maxUnavailable 1', 0, 1, 3],
    ['maxSurge 2, maxUnavailable 0', 2, 0, 5],
    ['50%/50% with 10 replicas', '50%', '50%', 10],
  ];
  for (const [name, surge, unavailable, replicas] of strategies) {
    it(`a template change rolls out within ${name}, never exceeding surge or unavailability`, () => {
      const base = makeDeployment({ replicas, surge, unavailable });
      const first = simulate(base, []);
      const changed = makeDeployment({ replicas, surge, unavailable, image: 'nginx:2', generation: 2 });
      changed.status = first.d.status;
      changed.metadata.annotations = first.d.metadata.annotations;
      const [s, u] = resolveFenceposts(changed);
      const { d, rss, events } = simulate(changed, [...first.rss.values()], {
        check: (list) => {
          const total = list.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
          const available = list.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
          assert.ok(total <= replicas + s, `at most ${replicas + s} replicas requested, saw ${total}`);
          assert.ok(available >= replicas - u, `at least ${replicas - u} available, saw ${available}`);
        },
      });
      assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.availableReplicas], [replicas, replicas, replicas]);
      assert.equal(d.status?.observedGeneration, 2);
      assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
      const byRevision = [...rss.values()].map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas]);
      assert.deepEqual(byRevision.sort(), [['1', 0], ['2', replicas]]);
      assert.ok(events.some((e) => /^Scaled down replica set web-\w+ to 0 from \d+$/.test(e)), 'the old RS was scaled down with upstream wording');
      assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
    });
  }

  it('Recreate scales the old ReplicaSet to zero before creating the new one', () => {
    const first = simulate(makeDeployment({ strategy: 'Recreate' }), []);
    const changed = makeDeployment({ strategy: 'Recreate', image: 'nginx:2', generation: 2 });
    changed.status = first.d.status;
    const r1 = reconcileDeployment({ deployment: changed, replicaSets: [...first.rss.values()], pods: [], now: T0 });
    assert.deepEqual(r1.actions.filter((a) => a.verb !== 'update' || a.object.kind === 'ReplicaSet').map((a) => [a.verb, a.verb === 'update' ? (a.object as ReplicaSet).spec?.replicas : undefined]), [['update', 0]]);
    const { d } = simulate(changed, [...first.rss.values()], {
      check: (list) => {
        const withPods = list.filter((rs) => (rs.spec?.replicas ?? 0) > 0 || (rs.status?.replicas ?? 0) > 0);
        assert.ok(withPods.length <= 1, 'old and new never run at the same time');
      },
    });
    assert.deepEqual([d.status?.updatedReplicas, d.status?.availableReplicas], [3, 3]);
  });
});

describe('scaling and history', () => {
  function twoRevisions(): { d: Deployment; rss: ReplicaSet[] } {
    const mk = (name: string, rev: string, replicas: number, image: string, created: number): ReplicaSet => ({
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name, namespace: 'default', uid: `u-${name}`, creationTimestamp: iso(created), generation: 1, labels: { app: 'web', 'pod-template-hash': name },
        annotations: { 'deployment.kubernetes.io/revision': rev, 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }] },
      spec: { replicas, selector: { matchLabels: { app: 'web', 'pod-template-hash': name } },
        template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image }] } } },
      status: { replicas, availableReplicas: replicas, readyReplicas: replicas, observedGeneration: 1 },
    });
    const d = makeDeployment({ replicas: 20, image: 'nginx:2', generation: 3 });
    return { d, rss: [mk('old', '1', 8, 'nginx:1', T0), mk('new', '2', 5, 'nginx:2', T0 + 1000)] };
  }

  it('a scaling event mid-rollout scales active ReplicaSets proportionally', () => {
    const { d, rss } = twoRevisions();
    const r = reconcileDeployment({ deployment: d, replicaSets: rss, pods: [], now: T0 + 5000 });
    const sizes = Object.fromEntries(r.actions.filter((a) => a.verb === 'update' && a.object.kind === 'ReplicaSet')
      .map((a) => [a.verb === 'update' ? a.object.metadata.name : '', a.verb === 'update' ? (a.object as ReplicaSet).spec?.replicas : 0]));
    // allowed = 20 + 5 (25% surge) = 25; 13 running -> add 12: old 8*25/13=15 (+7), new 5*25/13=10 (+5)
    assert.deepEqual(sizes, { old: 15, new: 10 });
    const ev = r.actions.map((a) => a.onSuccess?.message).filter((m) => m !== undefined);
    assert.ok(ev.includes('Scaled up replica set old to 15 from 8'));
  });

  it('keeps only revisionHistoryLimit fully scaled-down old ReplicaSets', () => {
    const rss: ReplicaSet[] = [];
    for (let i = 1; i <= 4; i++) {
      rss.push({
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: { name: `r${i}`, namespace: 'default', uid: `u${i}`, creationTimestamp: iso(T0 + i * 1000), generation: 1, labels: { app: 'web' },
          annotations: { 'deployment.kubernetes.io/revision': String(i) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }] },
        spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: `old:${i}` }] } } },
        status: { replicas: 0, observedGeneration: 1 },
      });
    }
    const d = makeDeployment({ historyLimit: 1, replicas: 0 });
    d.status = { observedGeneration: 1, replicas: 0, updatedReplicas: 0, availableReplicas: 0 };
    const first = simulate(d, rss);
    assert.deepEqual([...first.rss.keys()].filter((n) => n.startsWith('r')), ['r4']);
  });

  it('a paused Deployment does not start a rollout and says so in Progressing', () => {
    const r = reconcileDeployment({ deployment: makeDeployment({ paused: true }), replicaSets: [], pods: [], now: T0 });
    assert.equal(r.actions.some((a) => a.verb === 'create'), false);
    const p = r.status.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([p?.status, p?.reason, p?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  });

  it('a rollout that stops progressing past its deadline is marked ProgressDeadlineExceeded', () => {
    const d = makeDeployment();
    const r1 = reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: T0 });
    const rs = (r1.actions.find((a) => a.verb === 'create') as Extract<Action, { verb: 'create' }>).object as ReplicaSet;
    rs.metadata.uid = 'x';
    rs.status = { replicas: 3, availableReplicas: 0 };
    const stuck = { ...d, status: { ...r1.status, replicas: 3, updatedReplicas: 3 } };
    const r2 = reconcileDeployment({ deployment: stuck, replicaSets: [rs], pods: [], now: T0 + 601_000 });
    const p = r2.status.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([p?.status, p?.reason, p?.message], ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${rs.metadata.name}" has timed out progressing.`]);
    const r3 = reconcileDeployment({ deployment: stuck, replicaSets: [rs], pods: [], now: T0 + 100_000 });
    assert.equal(r3.requeueAfterSeconds, 500, 'before the deadline it asks to be called back when it expires');
  });
});
