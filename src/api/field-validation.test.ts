import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.ts';
import {
  applyUnknownFields, applyUnknownFieldsError, fieldValidationDirective, goJson, goValueString, jsonDuplicateFields, jsonPatchStrictErrors,
  pruneUnknownFields, strictDecodingBadRequest, strictDecodingWarnings, strictErrorText, strictJsonErrors, strictPatchInvalid, unknownFields, unknownFieldsAddedBy,
  yamlDuplicatesText,
} from './field-validation.ts';

const SERVICE = { group: '', version: 'v1', kind: 'Service' };
const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const CONFIGMAP = { group: '', version: 'v1', kind: 'ConfigMap' };
const NETWORKPOLICY = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };

const service = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'web' }) => ({ apiVersion: 'v1', kind: 'Service', metadata, spec });

describe('fieldValidationDirective', () => {
  const cases: { value: string | null | undefined; want: string }[] = [
    { value: undefined, want: 'Warn' },
    { value: null, want: 'Warn' },
    { value: '', want: 'Warn' },
    { value: 'Strict', want: 'Strict' },
    { value: 'Warn', want: 'Warn' },
    { value: 'Ignore', want: 'Ignore' },
  ];
  for (const c of cases) {
    it(`reads ${JSON.stringify(c.value)} as ${c.want}`, () => {
      assert.equal(fieldValidationDirective(c.value, 'CreateOptions'), c.want);
    });
  }

  it('rejects another value as an unsupported value of the options kind', () => {
    assert.throws(() => fieldValidationDirective('strict', 'PatchOptions'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 422);
      assert.equal(e.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
      return true;
    });
  });
});

describe('unknownFields', () => {
  const cases: { name: string; gvk: typeof SERVICE; obj: unknown; want: string[] }[] = [
    { name: 'a known object has no unknown fields', gvk: SERVICE, obj: service({ type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }), want: [] },
    { name: 'an unknown top-level field is reported by its name', gvk: SERVICE, obj: { ...service({}), spex: {} }, want: ['spex'] },
    { name: 'an unknown field of a nested struct is dotted', gvk: SERVICE, obj: service({ portz: [] }), want: ['spec.portz'] },
    { name: 'an unknown field of a list item carries the index', gvk: SERVICE, obj: service({ ports: [{ port: 80 }, { port: 81, portz: 1 }] }), want: ['spec.ports[1].portz'] },
    { name: 'an unknown metadata field is checked against ObjectMeta', gvk: SERVICE, obj: service({}, { name: 'web', label: { a: 'b' } }), want: ['metadata.label'] },
    {
      name: 'labels, annotations and selector maps accept any key',
      gvk: SERVICE,
      obj: service({ selector: { 'app.kubernetes.io/name': 'web', anything: 'x' } }, { name: 'web', labels: { 'any/key': 'v' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }),
      want: [],
    },
    { name: 'configmap data and binaryData accept any key', gvk: CONFIGMAP, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'a.conf': 'x', B: 'y' }, binaryData: { z: 'AA==' } }, want: [] },
    {
      name: 'nodeSelector and resource quantities accept any key',
      gvk: POD,
      obj: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '100m', 'example.com/gpu': 1 } } }] } },
      want: [],
    },
    { name: 'int-or-string fields take a number or a string', gvk: SERVICE, obj: service({ ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http' }] }), want: [] },
    {
      name: 'an unknown field deep in a pod template names every step',
      gvk: DEPLOYMENT,
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPortz: 1 }] }] } } } },
      want: ['spec.template.spec.containers[0].ports[0].hostPortz'],
    },
    {
      name: 'the value of an unknown field is not looked into',
      gvk: SERVICE,
      obj: service({ extra: { nested: { deeper: 1 } } }),
      want: ['spec.extra'],
    },
    {
      name: 'selector structs check their fields',
      gvk: NETWORKPOLICY,
      obj: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: { podSelector: { matchLabels: { a: 'b' }, matchLabelz: {} } } },
      want: ['spec.podSelector.matchLabelz'],
    },
    {
      name: 'unknown fields are listed in Go map key order',
      gvk: SERVICE,
      obj: { ...service({ zeta: 1, alpha: 2, ports: [{ port: 1, x: 1 }] }), b: 1, a: 1 },
      want: ['a', 'b', 'spec.alpha', 'spec.ports[0].x', 'spec.zeta'],
    },
    { name: 'a kind without a schema has no unknown fields', gvk: { group: 'example.com', version: 'v1', kind: 'Widget' }, obj: { anything: 1 }, want: [] },
    { name: 'managedFields entries are opaque below fieldsV1', gvk: SERVICE, obj: service({}, { name: 'w', managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:x': {} } } }] }), want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(unknownFields(c.gvk, c.obj), c.want);
    });
  }

  it('keeps the object key order when asked for document order', () => {
    assert.deepEqual(unknownFields(SERVICE, service({ zeta: 1, alpha: 2 }), { order: 'document' }), ['spec.zeta', 'spec.alpha']);
  });

  it('does not blame a patch for unknown fields the live object already had', () => {
    const live = service({ portz: 1 });
    const patched = service({ portz: 1, typo: 2 });
    assert.deepEqual(unknownFieldsAddedBy(SERVICE, patched, live), ['spec.typo']);
  });
});

describe('pruneUnknownFields', () => {
  it('drops unknown fields at every depth and keeps free-form map keys', () => {
    const obj = service({ portz: 1, selector: { any: 'key' }, ports: [{ port: 80, x: 1 }, { port: 81 }] }, { name: 'w', labels: { l: 'v' }, bogus: true });
    assert.deepEqual(pruneUnknownFields(SERVICE, obj), service({ selector: { any: 'key' }, ports: [{ port: 80 }, { port: 81 }] }, { name: 'w', labels: { l: 'v' } }));
  });

  it('leaves the input untouched and returns it when nothing is unknown', () => {
    const clean = service({ ports: [{ port: 80 }] });
    assert.equal(pruneUnknownFields(SERVICE, clean), clean);
    const dirty = service({ ports: [{ port: 80, x: 1 }] });
    const copy = JSON.parse(JSON.stringify(dirty)) as unknown;
    assert.notEqual(pruneUnknownFields(SERVICE, dirty), dirty);
    assert.deepEqual(dirty, copy);
  });
});

describe('strictJsonErrors', () => {
  const texts = (text: string, gvk = SERVICE) => strictJsonErrors(gvk, text).map(strictErrorText);
  const cases: { name: string; text: string; want: string[] }[] = [
    { name: 'a clean body has no violations', text: JSON.stringify(service({ ports: [{ port: 80 }] })), want: [] },
    { name: 'a repeated top-level key is a duplicate field', text: '{"apiVersion":"v1","kind":"Service","kind":"Service","metadata":{"name":"a"}}', want: ['duplicate field "kind"'] },
    { name: 'a repeated key in a list item carries the index', text: '{"spec":{"ports":[{"port":80},{"port":81,"port":82}]}}', want: ['duplicate field "spec.ports[1].port"'] },
    { name: 'a repeated map key is a duplicate field under the map', text: '{"metadata":{"labels":{"a":"1","a":"2"}}}', want: ['duplicate field "metadata.labels.a"'] },
    { name: 'an unknown key that repeats is reported once, as unknown', text: '{"spec":{"portz":1,"portz":2}}', want: ['unknown field "spec.portz"'] },
    { name: 'keys with escapes are compared by their value', text: '{"spec":{"type":"A","typ\\u0065":"B"}}', want: ['duplicate field "spec.type"'] },
    {
      name: 'violations come in document order',
      text: '{"metadata":{"name":"a","name":"b","unknownMeta":1},"spec":{"unknown1":1,"type":"x","type":"y","ports":[{"port":1,"nested":2}]}}',
      want: ['duplicate field "metadata.name"', 'unknown field "metadata.unknownMeta"', 'unknown field "spec.unknown1"', 'duplicate field "spec.type"', 'unknown field "spec.ports[0].nested"'],
    },
    { name: 'a malformed document reports what came before the error', text: '{"spec":{"portz":1,', want: ['unknown field "spec.portz"'] },
    { name: 'values inside opaque fields are not checked', text: '{"metadata":{"managedFields":[{"fieldsV1":{"f:a":{},"f:a":{}}}]}}', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(texts(c.text), c.want);
    });
  }

  it('stops at a hundred violations', () => {
    const fields = Array.from({ length: 150 }, (_, i) => `"f${i}":1`).join(',');
    assert.equal(strictJsonErrors(SERVICE, `{"spec":{${fields}}}`).length, 100);
  });
});

describe('patch bodies', () => {
  it('reports repeated keys of a merge patch at every depth', () => {
    assert.deepEqual(jsonDuplicateFields('{"spec":{"paused":true,"paused":false,"template":{"spec":{"containers":[{"a":1,"a":2}]}}}}').map(strictErrorText), [
      'duplicate field "spec.paused"',
      'duplicate field "spec.template.spec.containers[0].a"',
    ]);
  });

  it('reports unknown and repeated fields of json patch operations', () => {
    assert.deepEqual(jsonPatchStrictErrors('[{"op":"add","path":"/spec/a","value":1,"foo":"bar"},{"op":"add","path":"/x","path":"/y","value":{"k":1,"k":2}}]'), [
      'json patch unknown field "[0].foo"',
      'json patch duplicate field "[1].path"',
      'json patch duplicate field "[1].value.k"',
    ]);
  });

  it('finds nothing in a json patch that is not a list', () => {
    assert.deepEqual(jsonPatchStrictErrors('{"op":"add"}'), []);
  });
});

describe('server-side apply', () => {
  it('names keyed list items by their keys, with defaulted protocol', () => {
    const applied = service({ clusterIPz: 'x', ports: [{ port: 80, portz: 1 }, { port: 53, protocol: 'UDP', foo: 1 }] });
    assert.deepEqual(applyUnknownFields(SERVICE, applied), ['.spec.clusterIPz', '.spec.ports[port=80,protocol="TCP"].portz', '.spec.ports[port=53,protocol="UDP"].foo']);
  });

  it('names atomic list items by index', () => {
    const applied = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: { podSelector: {}, ingress: [{ fromz: [] }] } };
    assert.deepEqual(applyUnknownFields(NETWORKPOLICY, applied), ['.spec.ingress[0].fromz']);
  });

  it('fails one unknown field inline and several as a list', () => {
    const one = applyUnknownFieldsError(SERVICE, 'v1', service({ portz: 1 }), 'default', 'web');
    assert.ok(one);
    assert.equal(one.code, 500);
    assert.equal(one.message, 'failed to create typed patch object (default/web; /v1, Kind=Service): .spec.portz: field not declared in schema');
    const two = applyUnknownFieldsError(DEPLOYMENT, 'apps/v1', { spec: { a: 1, b: 2 } }, 'ns', 'd');
    assert.equal(two?.message, 'failed to create typed patch object (ns/d; apps/v1, Kind=Deployment): errors:\n  .spec.a: field not declared in schema\n  .spec.b: field not declared in schema');
    assert.equal(applyUnknownFieldsError(SERVICE, 'v1', service({ type: 'ClusterIP' }), 'default', 'web'), undefined);
  });
});

describe('upstream messages', () => {
  it('a create or update fails as a body that cannot be handled', () => {
    const e = strictDecodingBadRequest(SERVICE, service({}), ['unknown field "spec.portz"', 'duplicate field "spec.type"']);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.equal(e.message, 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.portz", duplicate field "spec.type"');
  });

  it('the version in the message comes from the body when it names one', () => {
    const e = strictDecodingBadRequest(DEPLOYMENT, { apiVersion: 'apps/v1beta9', kind: 'Deployment' }, ['unknown field "x"']);
    assert.match(e.message, /^Deployment in version "v1beta9" cannot be handled as a Deployment: /);
  });

  it('a patch fails as an invalid patch field', () => {
    const e = strictPatchInvalid('map[spec:map[portz:1]]', ['unknown field "spec.portz"']);
    assert.equal(e.code, 422);
    assert.equal(e.message, ' "" is invalid: patch: Invalid value: "map[spec:map[portz:1]]": strict decoding error: unknown field "spec.portz"');
    assert.deepEqual(e.details?.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "map[spec:map[portz:1]]": strict decoding error: unknown field "spec.portz"', field: 'patch' }]);
  });

  it('yaml duplicates read as go-yaml writes them and warn one line each', () => {
    const text = yamlDuplicatesText([{ line: 5, key: 'name' }, { line: 9, key: 1 }]);
    assert.equal(text, 'yaml: unmarshal errors:\n  line 5: key "name" already set in map\n  line 9: key 1 already set in map');
    assert.equal(yamlDuplicatesText([]), undefined);
    assert.deepEqual(strictDecodingWarnings([text ?? '', 'unknown field "spec.x"']), ['line 5: key "name" already set in map', 'line 9: key 1 already set in map', 'unknown field "spec.x"']);
    assert.deepEqual(strictDecodingWarnings([`error converting YAML to JSON: ${text ?? ''}`]), ['line 5: key "name" already set in map', 'line 9: key 1 already set in map']);
  });
});

describe('Go value printing', () => {
  const cases: { value: unknown; want: string }[] = [
    { value: { spec: { ports: [{ port: 80, portz: 1 }] } }, want: 'map[spec:map[ports:[map[port:80 portz:1]]]]' },
    { value: { b: null, a: 'x y', t: true }, want: 'map[a:x y b:<nil> t:true]' },
    { value: { f: 1.5, big: 1234567.5, small: 0.00001, e: [] , m: {} }, want: 'map[big:1.2345675e+06 e:[] f:1.5 m:map[] small:1e-05]' },
  ];
  for (const c of cases) {
    it(`prints ${c.want} as Go's %+v does`, () => {
      assert.equal(goValueString(c.value), c.want);
    });
  }

  it('writes JSON with sorted keys and HTML characters escaped, as Go encodes maps', () => {
    assert.equal(goJson({ b: '<a>&', a: { d: 1, c: [2] } }), '{"a":{"c":[2],"d":1},"b":"\\u003ca\\u003e\\u0026"}');
  });
});
