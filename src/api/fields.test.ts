import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from './errors.ts';
import { convertFieldLabel, fieldSelectorMatcher, fieldSetOf, formatFieldSelector, parseFieldSelector } from './fields.ts';
import type { KubeObject } from './types.ts';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    assert.equal(e.code, 400);
    return e.message;
  }
  assert.fail('expected a 400 ApiError');
}

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true },
  status: { phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }, { ip: 'fd00::9' }] },
};

describe('parseFieldSelector', () => {
  const cases: { name: string; input: string; want: { field: string; operator: string; value: string }[] }[] = [
    { name: 'an empty selector has no requirements', input: '', want: [] },
    { name: 'single and double equals are both equality', input: 'a=1,b==2', want: [{ field: 'a', operator: '=', value: '1' }, { field: 'b', operator: '==', value: '2' }] },
    { name: 'terms are ordered as sorted strings, as upstream', input: 'z!=1,a=2', want: [{ field: 'a', operator: '=', value: '2' }, { field: 'z', operator: '!=', value: '1' }] },
    { name: 'escaped commas and equals stay in the value', input: 'a=x\\,y\\=z\\\\', want: [{ field: 'a', operator: '=', value: 'x,y=z\\' }] },
    { name: 'an empty value is allowed', input: 'spec.nodeName=', want: [{ field: 'spec.nodeName', operator: '=', value: '' }] },
    { name: 'empty terms are skipped', input: 'a=1,,', want: [{ field: 'a', operator: '=', value: '1' }] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseFieldSelector(c.input), c.want));
  }

  const invalid: { name: string; input: string; message: string }[] = [
    { name: 'a term without an operator is not understood', input: 'a=1,b', message: "invalid selector: 'a=1,b'; can't understand 'b'" },
    { name: 'an unknown escape is rejected', input: 'a=x\\y', message: 'invalid field selector: invalid escape sequence: \\y' },
    { name: 'an unescaped = in a value is rejected with its code point', input: 'a=b=c', message: 'invalid field selector: unescaped character in value: 61' },
    { name: 'a trailing backslash is rejected', input: 'a=b\\', message: 'invalid field selector: invalid escape sequence: \\' },
  ];
  for (const c of invalid) {
    it(c.name, () => assert.equal(badRequestMessage(() => parseFieldSelector(c.input)), c.message));
  }

  it('printing escapes values so that they parse back', () => {
    const reqs = parseFieldSelector('a=x\\,y');
    assert.equal(formatFieldSelector(reqs), 'a=x\\,y');
    assert.deepEqual(parseFieldSelector(formatFieldSelector(reqs)), reqs);
  });
});

describe('fieldSetOf', () => {
  it('a Pod exposes its spec and status fields rendered as strings', () => {
    assert.deepEqual(fieldSetOf('Pod', pod), {
      'metadata.name': 'web-1',
      'metadata.namespace': 'shop',
      'spec.nodeName': 'node-a',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default',
      'spec.hostNetwork': 'true',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.9',
      'status.nominatedNodeName': '',
    });
  });

  it('missing values read as empty strings and hostNetwork defaults to false', () => {
    const set = fieldSetOf('Pod', { metadata: { name: 'p' } });
    assert.equal(set['spec.nodeName'], '');
    assert.equal(set['metadata.namespace'], '');
    assert.equal(set['spec.hostNetwork'], 'false');
  });

  it('an Event exposes its involved object, and source falls back to the reporting controller', () => {
    const set = fieldSetOf('Event', {
      metadata: { name: 'e', namespace: 'n' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'n', uid: 'u1' },
      reason: 'Scheduled', type: 'Normal', reportingComponent: 'default-scheduler',
    });
    assert.equal(set['involvedObject.kind'], 'Pod');
    assert.equal(set['involvedObject.uid'], 'u1');
    assert.equal(set['involvedObject.fieldPath'], '');
    assert.equal(set.source, 'default-scheduler');
    assert.equal(set.reason, 'Scheduled');
  });

  const kinds: { name: string; kind: string; obj: KubeObject; field: string; want: string }[] = [
    { name: 'a Secret exposes its type', kind: 'Secret', obj: { metadata: { name: 's' }, type: 'Opaque' }, field: 'type', want: 'Opaque' },
    { name: 'a Node exposes unschedulable as a boolean string', kind: 'Node', obj: { metadata: { name: 'n' }, spec: { unschedulable: true } }, field: 'spec.unschedulable', want: 'true' },
    { name: 'a Namespace exposes its phase', kind: 'Namespace', obj: { metadata: { name: 'x' }, status: { phase: 'Terminating' } }, field: 'status.phase', want: 'Terminating' },
    { name: 'a ReplicaSet exposes its replica count in decimal', kind: 'ReplicaSet', obj: { metadata: { name: 'r' }, status: { replicas: 3 } }, field: 'status.replicas', want: '3' },
    { name: 'a ReplicaSet without status has zero replicas', kind: 'ReplicaSet', obj: { metadata: { name: 'r' } }, field: 'status.replicas', want: '0' },
    { name: 'a Service exposes its type and cluster IP', kind: 'Service', obj: { metadata: { name: 's' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.1' } }, field: 'spec.clusterIP', want: '10.96.0.1' },
  ];
  for (const c of kinds) {
    it(c.name, () => assert.equal(fieldSetOf(c.kind, c.obj)[c.field], c.want));
  }

  it('a cluster-scoped kind has no namespace field', () => {
    assert.equal(Object.hasOwn(fieldSetOf('Node', { metadata: { name: 'n' } }), 'metadata.namespace'), false);
  });
});

describe('fieldSelectorMatcher', () => {
  const cases: { name: string; selector: string; want: boolean }[] = [
    { name: 'an empty selector matches', selector: '', want: true },
    { name: 'equality on the node name matches', selector: 'spec.nodeName=node-a', want: true },
    { name: 'inequality on the phase excludes running pods', selector: 'status.phase!=Running', want: false },
    { name: 'all terms must hold', selector: 'metadata.namespace=shop,status.phase=Pending', want: false },
    { name: 'the legacy spec.host means spec.nodeName', selector: 'spec.host=node-a', want: true },
    { name: 'status.podIPs is accepted but never populated, as upstream', selector: 'status.podIPs=', want: true },
    { name: 'the pod IP is the first of podIPs', selector: 'status.podIP=10.0.0.9', want: true },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(fieldSelectorMatcher('Pod', c.selector)(pod), c.want));
  }

  const rejected: { name: string; kind: string; selector: string; message: string }[] = [
    { name: 'a Pod rejects an unknown field with the registered wording', kind: 'Pod', selector: 'spec.foo=bar', message: 'field label not supported: spec.foo' },
    { name: 'a Node rejects metadata.namespace, as upstream', kind: 'Node', selector: 'metadata.namespace=x', message: 'field label not supported: metadata.namespace' },
    { name: 'a kind without its own conversion lists the two generic fields', kind: 'ConfigMap', selector: 'data.x=1',
      message: '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"' },
    { name: 'an Ingress rejects foo.bar as the documentation shows', kind: 'Ingress', selector: 'foo.bar=baz',
      message: '"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"' },
  ];
  for (const c of rejected) {
    it(c.name, () => assert.equal(badRequestMessage(() => fieldSelectorMatcher(c.kind, c.selector)), c.message));
  }

  it('convertFieldLabel accepts every field fieldSetOf renders for a Pod', () => {
    for (const field of Object.keys(fieldSetOf('Pod', pod))) assert.equal(convertFieldLabel('Pod', field), field);
  });
});
