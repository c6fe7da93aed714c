import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from '../errors.ts';
import { strategicMergePatch } from './strategic-merge-patch.ts';

type Obj = Record<string, unknown>;

/** A Deployment whose pod template holds `containers` (and optionally volumes). */
function deployment(containers: unknown[], extra: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
    spec: { replicas: 2, template: { spec: { containers, ...extra } } },
  };
}

/** The pod template's spec of a Deployment-shaped result. */
function templateSpec(obj: unknown): Obj {
  return (((obj as Obj).spec as Obj).template as Obj).spec as Obj;
}

const names = (list: unknown): unknown[] => (list as Obj[]).map((c) => c.name);

function apiErrorOf(fn: () => unknown): { code: number; reason: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    return { code: e.code, reason: e.reason, message: e.message };
  }
  assert.fail('expected an ApiError');
}

describe('strategicMergePatch: lists merged by key', () => {
  const original = deployment([
    { name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
    { name: 'sidecar', image: 'busybox' },
  ]);

  const cases: { name: string; patch: Obj; check: (result: Obj) => void }[] = [
    {
      name: 'containers merge by name and keep their places',
      patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:2' }] } } } },
      check: (r) => {
        const cs = templateSpec(r).containers as Obj[];
        assert.deepEqual(names(cs), ['nginx', 'sidecar']);
        assert.equal(cs[1]?.image, 'busybox:2');
        assert.equal(cs[0]?.image, 'nginx:1');
      },
    },
    {
      name: 'a new container without $setElementOrder goes before the server-only ones, as upstream orders it',
      patch: { spec: { template: { spec: { containers: [{ name: 'logger', image: 'fluentd' }] } } } },
      check: (r) => assert.deepEqual(names(templateSpec(r).containers), ['logger', 'nginx', 'sidecar']),
    },
    {
      name: 'ports merge by containerPort inside the named container',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, name: 'https' }] }] } } } },
      check: (r) => {
        const ports = ((templateSpec(r).containers as Obj[])[0]?.ports) as Obj[];
        assert.deepEqual(ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443, name: 'https' }]);
      },
    },
    {
      name: 'env merges by name and a null value removes the field of that entry',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'B', value: null, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] } } } },
      check: (r) => {
        const env = ((templateSpec(r).containers as Obj[])[0]?.env) as Obj[];
        assert.deepEqual(env, [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]);
      },
    },
    {
      name: '$patch: delete removes the container with that name',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'delete' }] } } } },
      check: (r) => assert.deepEqual(names(templateSpec(r).containers), ['sidecar']),
    },
    {
      name: '$patch: replace in a merge list replaces the whole list with the other items',
      patch: { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } },
      check: (r) => assert.deepEqual(templateSpec(r).containers, [{ name: 'only', image: 'x' }]),
    },
    {
      name: 'a list without a merge strategy is replaced whole',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', args: ['-g', 'daemon off;'] }] } } } },
      check: (r) => {
        const c = (templateSpec(r).containers as Obj[])[0];
        assert.deepEqual(c?.args, ['-g', 'daemon off;']);
        assert.equal(c?.image, 'nginx:1');
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => c.check(strategicMergePatch('Deployment', original, c.patch) as Obj));
  }

  it('the original and the patch are left untouched', () => {
    const before = JSON.stringify(original);
    const patch = { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'delete' }] } } } };
    const patchBefore = JSON.stringify(patch);
    strategicMergePatch('Deployment', original, patch);
    assert.equal(JSON.stringify(original), before);
    assert.equal(JSON.stringify(patch), patchBefore);
  });
});

describe('strategicMergePatch: $setElementOrder', () => {
  // Upstream's "add an item in a list and preserve order", with containers.
  it('orders the merged list as $setElementOrder says, keeping server-side fields', () => {
    const current = deployment([{ name: 'c1', other: 'a' }, { name: 'c2', value: '2', other: 'b' }]);
    const patch = { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'c3' }, { name: 'c1' }, { name: 'c2' }],
      containers: [{ name: 'c3', value: '3' }],
    } } } };
    assert.deepEqual(templateSpec(strategicMergePatch('Deployment', current, patch)).containers, [
      { name: 'c3', value: '3' }, { name: 'c1', other: 'a' }, { name: 'c2', value: '2', other: 'b' },
    ]);
  });

  // Upstream's "set elements order in a list with server-only items 2".
  it('interleaves server-only items where the live list has them', () => {
    const current = deployment([{ name: '1', other: 'a' }, { name: '2' }, { name: '9' }, { name: '3' }, { name: '4' }]);
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: '2' }, { name: '1' }, { name: '4' }, { name: '3' }] } } } };
    assert.deepEqual(names(templateSpec(strategicMergePatch('Deployment', current, patch)).containers), ['2', '1', '9', '4', '3']);
  });

  // Upstream's "delete and reorder in one list, reorder in another".
  it('deletes from one list and reorders another in the same patch', () => {
    const current = deployment([{ name: 'a' }, { name: 'b' }], { volumes: [{ name: 'c', emptyDir: {} }, { name: 'd', emptyDir: {} }] });
    const patch = { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'b' }],
      '$setElementOrder/volumes': [{ name: 'd' }, { name: 'c' }],
      containers: [{ $patch: 'delete', name: 'a' }],
    } } } };
    const spec = templateSpec(strategicMergePatch('Deployment', current, patch));
    assert.deepEqual(names(spec.containers), ['b']);
    assert.deepEqual(names(spec.volumes), ['d', 'c']);
  });

  it('orders a set-merged scalar list', () => {
    const obj = { metadata: { name: 'x', finalizers: ['a', 'b', 'c'] } };
    const patch = { metadata: { '$setElementOrder/finalizers': ['c', 'a', 'b'] } };
    assert.deepEqual((strategicMergePatch('Pod', obj, patch) as { metadata: Obj }).metadata.finalizers, ['c', 'a', 'b']);
  });

  it('a patch list out of the $setElementOrder order is rejected as upstream does (500)', () => {
    const current = deployment([{ name: 'a' }, { name: 'b' }]);
    const patch = { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }],
      containers: [{ name: 'b', image: 'x' }, { name: 'a', image: 'y' }],
    } } } };
    const err = apiErrorOf(() => strategicMergePatch('Deployment', current, patch));
    assert.equal(err.code, 500);
    assert.match(err.message, /^The order in patch list:\n/);
  });
});

describe('strategicMergePatch: maps, scalars and directives', () => {
  const pod = {
    metadata: { name: 'p', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
    spec: { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'x', operator: 'Exists' }] },
  };

  const cases: { name: string; patch: Obj; path: string[]; want: unknown }[] = [
    { name: 'a null deletes a label', patch: { metadata: { labels: { tier: null } } }, path: ['metadata', 'labels'], want: { app: 'web' } },
    { name: 'a label is added beside the others', patch: { metadata: { labels: { env: 'prod' } } }, path: ['metadata', 'labels'], want: { app: 'web', tier: 'front', env: 'prod' } },
    { name: 'finalizers merge as a set without duplicates', patch: { metadata: { finalizers: ['b', 'c'] } }, path: ['metadata', 'finalizers'], want: ['a', 'b', 'c'] },
    { name: '$deleteFromPrimitiveList removes finalizers', patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, path: ['metadata', 'finalizers'], want: ['b'] },
    { name: '$patch: replace replaces a map', patch: { metadata: { labels: { $patch: 'replace', only: 'this' } } }, path: ['metadata', 'labels'], want: { only: 'this' } },
    { name: '$patch: delete empties a map', patch: { spec: { nodeSelector: { $patch: 'delete' } } }, path: ['spec', 'nodeSelector'], want: {} },
    { name: 'an atomic list of maps is replaced', patch: { spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } }, path: ['spec', 'tolerations'], want: [{ key: 'y', operator: 'Exists' }] },
    { name: 'nulls inside a new map are dropped', patch: { spec: { securityContext: { runAsUser: 1000, fsGroup: null } } }, path: ['spec', 'securityContext'], want: { runAsUser: 1000 } },
    { name: 'a value of another type replaces the original', patch: { spec: { nodeSelector: 'oops' } }, path: ['spec', 'nodeSelector'], want: 'oops' },
    { name: '$deleteFromPrimitiveList on an absent list does not create it', patch: { spec: { '$deleteFromPrimitiveList/podCIDRs': ['10.0.0.0/24'] } }, path: ['spec', 'podCIDRs'], want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let cur: unknown = strategicMergePatch('Pod', pod, c.patch);
      for (const p of c.path) cur = (cur as Obj | undefined)?.[p];
      assert.deepEqual(cur, c.want);
    });
  }

  it('ownerReferences merge by uid', () => {
    const obj = { metadata: { name: 'x', ownerReferences: [{ uid: '1', name: 'a', kind: 'ReplicaSet', apiVersion: 'apps/v1' }] } };
    const patch = { metadata: { ownerReferences: [{ uid: '1', controller: true }, { uid: '2', name: 'b', kind: 'ReplicaSet', apiVersion: 'apps/v1' }] } };
    const refs = (strategicMergePatch('Pod', obj, patch) as { metadata: { ownerReferences: Obj[] } }).metadata.ownerReferences;
    assert.deepEqual(refs.map((r) => [r.uid, r.name, r.controller]), [['1', 'a', true], ['2', 'b', undefined]]);
  });

  it('Service ports merge by port', () => {
    const svc = { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443, name: 'https' }] } };
    const patch = { spec: { ports: [{ port: 80, targetPort: 'web' }] } };
    const ports = ((strategicMergePatch('Service', svc, patch) as Obj).spec as { ports: Obj[] }).ports;
    assert.deepEqual(ports, [{ port: 80, targetPort: 'web', name: 'http' }, { port: 443, name: 'https' }]);
  });

  it('a null patch changes nothing', () => {
    assert.deepEqual(strategicMergePatch('Pod', pod, null), pod);
  });
});

describe('strategicMergePatch: retainKeys on volumes', () => {
  const original = deployment([{ name: 'c' }], { volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }, { name: 'cfg', configMap: { name: 'cm' } }] });

  it('$retainKeys clears the volume source the patch does not keep', () => {
    const patch = { spec: { template: { spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' }, $retainKeys: ['hostPath', 'name'] }] } } } };
    const vols = templateSpec(strategicMergePatch('Deployment', original, patch)).volumes as Obj[];
    assert.deepEqual(vols, [{ name: 'data', hostPath: { path: '/srv' } }, { name: 'cfg', configMap: { name: 'cm' } }]);
  });

  it('without $retainKeys both volume sources remain', () => {
    const patch = { spec: { template: { spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' } }] } } } };
    const vols = templateSpec(strategicMergePatch('Deployment', original, patch)).volumes as Obj[];
    assert.deepEqual(vols[0], { name: 'data', emptyDir: { medium: 'Memory' }, hostPath: { path: '/srv' } });
  });

  it('a patch field missing from $retainKeys is a 400', () => {
    const patch = { spec: { template: { spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' }, $retainKeys: ['name'] }] } } } };
    const err = apiErrorOf(() => strategicMergePatch('Deployment', original, patch));
    assert.deepEqual([err.code, err.message], [400, 'invalid patch format of retainKeys']);
  });
});

describe('strategicMergePatch: errors', () => {
  const original = deployment([{ name: 'nginx', image: 'nginx' }]);
  const cases: { name: string; patch: unknown; code: number; message: string | RegExp; original?: Obj }[] = [
    { name: 'a container without its merge key is upstream\'s unclassified 500', patch: { spec: { template: { spec: { containers: [{ image: 'nginx:2' }] } } } },
      code: 500, message: 'map: map[image:nginx:2] does not contain declared merge key: name' },
    { name: '$patch: merge inside a list is refused', patch: { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } },
      code: 500, message: 'merging lists cannot yet be specified in the patch' },
    { name: 'an unknown $patch directive in a map is refused', patch: { metadata: { labels: { $patch: 'explode' } } },
      code: 500, message: /^unknown patch type: explode in map: / },
    { name: 'a malformed $deleteFromPrimitiveList key is a 400', patch: { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } },
      code: 400, message: 'invalid patch format of primitive list' },
    { name: 'a list of lists is a 422', patch: { metadata: { finalizers: [['a']] } }, code: 422, message: 'the server rejected our request due to an error in our request',
      original: { metadata: { name: 'x', finalizers: [] } } },
    { name: 'items of different types in one list are refused', patch: { metadata: { finalizers: [1] } }, code: 500, message: /^list element types are not identical: /,
      original: { metadata: { name: 'x', finalizers: ['a'] } } },
    { name: 'a patch that is not an object is a 400', patch: ['x'], code: 400, message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = apiErrorOf(() => strategicMergePatch('Deployment', c.original ?? original, c.patch));
      assert.equal(err.code, c.code);
      if (typeof c.message === 'string') assert.equal(err.message, c.message);
      else assert.match(err.message, c.message);
    });
  }
});
