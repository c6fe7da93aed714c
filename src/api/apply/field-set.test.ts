import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldElement, pathOf, pathString, sortedJson } from './field-set.ts';
import type { FieldPath } from './field-set.ts';
import { KindSchema, TypedError, fieldSetOf } from './typed.ts';

const key = (...fields: [string, unknown][]): FieldPath[number] => ({ kind: 'key', fields });
const set = (...paths: FieldPath[]): FieldSet => FieldSet.of(paths);
const v1 = (s: FieldSet): string => sortedJson(s.toFieldsV1());

describe('fieldsV1 encoding', () => {
  const documents: { name: string; fields: Record<string, unknown> }[] = [
    { name: 'plain fields', fields: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {} } } },
    { name: 'a keyed item that is itself a member', fields: { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } } },
    { name: 'set items', fields: { 'f:metadata': { 'f:finalizers': { 'v:"a/b"': {}, 'v:"c"': {} } } } },
    { name: 'index items', fields: { 'f:x': { 'i:0': {}, 'i:3': { 'f:y': {} } } } },
    { name: 'a map that is a member and has children', fields: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } } } },
  ];
  for (const d of documents) {
    it(`round-trips ${d.name} unchanged`, () => {
      assert.equal(v1(FieldSet.fromFieldsV1(d.fields)), sortedJson(d.fields));
    });
  }

  it('decodes members and paths so that has() sees exactly the owned fields', () => {
    const s = FieldSet.fromFieldsV1({ 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } });
    const item = [...pathOf('spec', 'ports'), key(['port', 80], ['protocol', 'TCP'])];
    assert.equal(s.has(item), true);
    assert.equal(s.has([...item, fieldElement('port')]), true);
    assert.equal(s.has(pathOf('spec', 'ports')), false);
    assert.equal(s.has(pathOf('spec')), false);
  });

  it('ignores keys with an unknown prefix and rejects a malformed key', () => {
    assert.equal(v1(FieldSet.fromFieldsV1({ 'f:a': {}, 'z:b': {} })), sortedJson({ 'f:a': {} }));
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:{not json': {} }));
  });
});

describe('field set operations', () => {
  const a = pathOf('spec', 'a');
  const b = pathOf('spec', 'b');
  const c = pathOf('spec', 'c');
  const cases: { name: string; got: () => FieldSet; want: FieldSet }[] = [
    { name: 'union keeps members of both', got: () => set(a, b).union(set(b, c)), want: set(a, b, c) },
    { name: 'intersection keeps common members', got: () => set(a, b).intersection(set(b, c)), want: set(b) },
    { name: 'difference removes members of the other', got: () => set(a, b).difference(set(b, c)), want: set(a) },
    { name: 'difference by a parent member keeps the children', got: () => set(a).difference(set(pathOf('spec'))), want: set(a) },
    { name: 'recursive difference by a parent member drops the subtree', got: () => set(a, pathOf('metadata', 'x')).recursiveDifference(set(pathOf('spec'))), want: set(pathOf('metadata', 'x')) },
    { name: 'named fields with children become members', got: () => set(pathOf('spec', 'template', 'x')).ensureNamedFieldsAreMembers(), want: set(pathOf('spec'), pathOf('spec', 'template'), pathOf('spec', 'template', 'x')) },
  ];
  for (const t of cases) {
    it(t.name, () => assert.equal(v1(t.got()), v1(t.want)));
  }

  it('reports an empty set after removing every member', () => {
    assert.equal(set(a).difference(set(a)).isEmpty(), true);
    assert.equal(set(a).isEmpty(), false);
  });
});

describe('path strings', () => {
  const cases: { path: FieldPath; want: string }[] = [
    { path: pathOf('spec', 'replicas'), want: '.spec.replicas' },
    { path: [...pathOf('spec', 'template', 'spec', 'containers'), key(['name', 'nginx']), fieldElement('image')], want: '.spec.template.spec.containers[name="nginx"].image' },
    { path: [...pathOf('spec', 'ports'), key(['port', 80], ['protocol', 'TCP'])], want: '.spec.ports[port=80,protocol="TCP"]' },
    { path: [...pathOf('metadata', 'finalizers'), { kind: 'value', value: 'x' }], want: '.metadata.finalizers[="x"]' },
    { path: [fieldElement('x'), { kind: 'index', index: 2 }], want: '.x[2]' },
  ];
  for (const t of cases) {
    it(`prints ${t.want} as upstream does`, () => assert.equal(pathString(t.path), t.want));
  }
});

describe('field set of an object', () => {
  it('yields the brief example for a Service with a labelled port (protocol defaulted into the key)', () => {
    const svc = { metadata: { labels: { app: 'web' } }, spec: { ports: [{ port: 80 }] } };
    assert.equal(
      v1(fieldSetOf(new KindSchema('Service'), svc)),
      sortedJson({ 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } }),
    );
  });

  const cases: { name: string; kind: string; obj: Record<string, unknown>; want: Record<string, unknown> }[] = [
    {
      name: 'an atomic list is one leaf',
      kind: 'Pod',
      obj: { spec: { containers: [{ name: 'a', command: ['sh', '-c'] }] } },
      want: { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:command': {}, 'f:name': {} } } } },
    },
    {
      name: "a Deployment's label selector is one atomic leaf",
      kind: 'Deployment',
      obj: { spec: { selector: { matchLabels: { app: 'x' } } } },
      want: { 'f:spec': { 'f:selector': {} } },
    },
    {
      name: "a Service's selector map is granular",
      kind: 'Service',
      obj: { spec: { selector: { app: 'x', tier: 'y' } } },
      want: { 'f:spec': { 'f:selector': { 'f:app': {}, 'f:tier': {} } } },
    },
    {
      name: 'ConfigMap data keys are owned one by one and an empty map is a leaf',
      kind: 'ConfigMap',
      obj: { data: { a: '1', b: '2' }, binaryData: {} },
      want: { 'f:binaryData': {}, 'f:data': { 'f:a': {}, 'f:b': {} } },
    },
    {
      name: 'set items are owned by value',
      kind: 'Pod',
      obj: { metadata: { finalizers: ['a', 'b'] } },
      want: { 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } } },
    },
  ];
  for (const t of cases) {
    it(t.name, () => assert.equal(v1(fieldSetOf(new KindSchema(t.kind), t.obj)), sortedJson(t.want)));
  }

  it('rejects a keyed list item that has none of its keys', () => {
    assert.throws(() => fieldSetOf(new KindSchema('Pod'), { spec: { containers: [{ image: 'x' }] } }), (e: unknown) => e instanceof TypedError && /omits all key fields "name"/.test(e.message));
  });
});
