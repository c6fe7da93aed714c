import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, groupVersion } from '../resources.ts';
import { listSemanticsAt } from '../list-semantics.ts';
import {
  openApiV2Document, openApiV2Protobuf, openApiV3Document, openApiV3Hash, openApiV3Index,
} from './openapi.ts';
import type { Json, JsonObject } from './openapi.ts';
import { DEFINITIONS, definitionName, semanticsConflicts } from './definitions.ts';
import { fnv1a64 } from './hash.ts';
import { encodeOpenApiV2 } from './protobuf-v2.ts';

// ---------------------------------------------------------------------------------------- helpers

const isObj = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
function at(v: Json | undefined, ...path: string[]): Json | undefined {
  let cur = v;
  for (const key of path) cur = isObj(cur) ? cur[key] : undefined;
  return cur;
}
function objAt(v: Json | undefined, ...path: string[]): JsonObject {
  const found = at(v, ...path);
  assert.ok(isObj(found), `expected an object at ${path.join('.')}`);
  return found;
}
const gvPath = (group: string, version: string): string => (group === '' ? `api/${version}` : `apis/${group}/${version}`);
function v3(group: string, version: string): JsonObject {
  const doc = openApiV3Document(gvPath(group, version));
  assert.ok(doc !== undefined, `no v3 document for ${group}/${version}`);
  return doc;
}

/** Every `$ref` string anywhere in a JSON value (bounded by the value's finite size). */
function refs(v: Json, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refs(x, out);
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

/** The property schema at a dotted path from a kind's definition, following refs (v3 allOf-wrapped or plain) and array items. */
function propertyAt(doc: JsonObject, definition: string, path: readonly string[]): JsonObject {
  const schemas = objAt(doc, 'components', 'schemas');
  const resolve = (s: JsonObject): JsonObject => {
    const wrapped = at(s, 'allOf');
    const target = Array.isArray(wrapped) && isObj(wrapped[0]) ? wrapped[0] : s;
    const ref = at(target, '$ref');
    if (typeof ref === 'string') return objAt(schemas, ref.slice('#/components/schemas/'.length));
    const items = at(s, 'items');
    return isObj(items) ? resolve(items) : s;
  };
  let current = objAt(schemas, definition);
  let property: JsonObject = current;
  for (const name of path) {
    property = objAt(current, 'properties', name);
    current = resolve(property);
  }
  return property;
}

// ------------------------------------------------------------------------------------------ kinds

describe('schemas of the served kinds', () => {
  it('every kind and list kind in RESOURCES has a schema tagged with its group-version-kind in its v3 document and in v2', () => {
    const v2 = objAt(openApiV2Document(), 'definitions');
    for (const r of RESOURCES) {
      const schemas = objAt(v3(r.group, r.version), 'components', 'schemas');
      for (const k of [r.kind, r.listKind]) {
        const name = definitionName(r.group, r.version, k);
        for (const source of [schemas, v2]) {
          const tags = at(source, name, 'x-kubernetes-group-version-kind');
          assert.deepEqual(tags, [{ group: r.group, kind: k, version: r.version }], `${name}`);
        }
      }
    }
  });

  it('uses upstream definition names for kinds and shared meta types', () => {
    const schemas = objAt(v3('', 'v1'), 'components', 'schemas');
    for (const name of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.ServicePort', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString']) {
      assert.ok(isObj(schemas[name]), name);
    }
    assert.ok(isObj(objAt(v3('apps', 'v1'), 'components', 'schemas')['io.k8s.api.apps.v1.Deployment']));
  });

  it('gives every field of every definition a non-empty one-line description', () => {
    for (const [name, def] of Object.entries(DEFINITIONS)) {
      assert.ok(def.description.trim().length > 0, name);
      if (def.t !== 'object') continue;
      for (const [field, spec] of Object.entries(def.fields)) {
        assert.ok(spec.description.trim().length > 0, `${name}.${field}`);
        assert.ok(!spec.description.includes('\n'), `${name}.${field} is one line`);
      }
    }
  });

  it('describes each field of spec.ports, which explain prints', () => {
    const ports = propertyAt(v3('', 'v1'), 'io.k8s.api.core.v1.Service', ['spec', 'ports']);
    const item = objAt(objAt(v3('', 'v1'), 'components', 'schemas'), 'io.k8s.api.core.v1.ServicePort');
    assert.equal(typeof ports['description'], 'string');
    for (const field of ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort']) {
      const description = at(item, 'properties', field, 'description');
      assert.ok(typeof description === 'string' && description.length > 10, field);
    }
    assert.deepEqual(at(item, 'required'), ['port']);
  });

  const formats: readonly [string, readonly string[], string][] = [
    ['io.k8s.api.core.v1.Service', ['spec', 'ports', 'port'], 'int32'],
    ['io.k8s.api.core.v1.Pod', ['metadata', 'generation'], 'int64'],
    ['io.k8s.api.core.v1.Pod', ['spec', 'terminationGracePeriodSeconds'], 'int64'],
    ['io.k8s.api.core.v1.Pod', ['spec', 'containers', 'ports', 'containerPort'], 'int32'],
  ];
  for (const [definition, path, format] of formats) {
    it(`marks ${definition.split('.').pop()}.${path.join('.')} as an integer of format ${format}`, () => {
      const p = propertyAt(v3('', 'v1'), definition, path);
      assert.equal(p['type'], 'integer');
      assert.equal(p['format'], format);
    });
  }

  it('marks IntOrString with x-kubernetes-int-or-string in v3 and the int-or-string format in v2', () => {
    const name = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
    assert.equal(at(openApiV3Document('api/v1'), 'components', 'schemas', name, 'x-kubernetes-int-or-string'), true);
    assert.equal(at(openApiV2Document(), 'definitions', name, 'format'), 'int-or-string');
    const targetPort = propertyAt(v3('', 'v1'), 'io.k8s.api.core.v1.Service', ['spec', 'ports', 'targetPort']);
    assert.deepEqual(targetPort['allOf'], [{ $ref: `#/components/schemas/${name}` }]);
  });
});

// ----------------------------------------------------------------------------- merge extensions

describe('merge extensions taken from list-semantics', () => {
  it('gives Service spec.ports merge key port, strategy merge and list-map-keys [port, protocol]', () => {
    for (const p of [propertyAt(v3('', 'v1'), 'io.k8s.api.core.v1.Service', ['spec', 'ports']),
      objAt(openApiV2Document(), 'definitions', 'io.k8s.api.core.v1.ServiceSpec', 'properties', 'ports')]) {
      assert.equal(p['x-kubernetes-patch-merge-key'], 'port');
      assert.equal(p['x-kubernetes-patch-strategy'], 'merge');
      assert.equal(p['x-kubernetes-list-type'], 'map');
      assert.deepEqual(p['x-kubernetes-list-map-keys'], ['port', 'protocol']);
    }
  });

  const cases: readonly [string, string, readonly string[]][] = [
    ['Pod', 'io.k8s.api.core.v1.Pod', ['spec', 'containers']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['spec', 'containers', 'ports']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['spec', 'containers', 'env']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['spec', 'volumes']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['spec', 'tolerations']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['status', 'conditions']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['metadata', 'finalizers']],
    ['Pod', 'io.k8s.api.core.v1.Pod', ['metadata', 'ownerReferences']],
    ['Node', 'io.k8s.api.core.v1.Node', ['status', 'addresses']],
    ['Deployment', 'io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'containers', 'volumeMounts']],
    ['Deployment', 'io.k8s.api.apps.v1.Deployment', ['status', 'conditions']],
    ['NetworkPolicy', 'io.k8s.api.networking.v1.NetworkPolicy', ['spec', 'ingress']],
    ['EndpointSlice', 'io.k8s.api.discovery.v1.EndpointSlice', ['endpoints', 'addresses']],
  ];
  for (const [kind, definition, path] of cases) {
    it(`publishes for ${kind} ${path.join('.')} exactly what listSemanticsAt says`, () => {
      const r = RESOURCES.find((x) => x.kind === kind);
      assert.ok(r !== undefined);
      const p = propertyAt(v3(r.group, r.version), definition, path);
      const s = listSemanticsAt(kind, path);
      assert.equal(p['x-kubernetes-list-type'], s.listType);
      assert.deepEqual(p['x-kubernetes-list-map-keys'], s.listType === 'map' ? s.keys : undefined);
      assert.equal(p['x-kubernetes-patch-merge-key'], s.patchMergeKey);
      assert.equal(p['x-kubernetes-patch-strategy'], s.patchStrategy);
    });
  }

  it('marks label selectors of workloads atomic and leaves the Service selector map granular', () => {
    assert.equal(propertyAt(v3('apps', 'v1'), 'io.k8s.api.apps.v1.Deployment', ['spec', 'selector'])['x-kubernetes-map-type'], 'atomic');
    assert.equal(propertyAt(v3('networking.k8s.io', 'v1'), 'io.k8s.api.networking.v1.NetworkPolicy', ['spec', 'podSelector'])['x-kubernetes-map-type'], 'atomic');
    assert.equal(propertyAt(v3('', 'v1'), 'io.k8s.api.core.v1.Service', ['spec', 'selector'])['x-kubernetes-map-type'], undefined);
  });

  it('finds list-semantics disagreeing with itself only for ObjectMeta lists nested in pod templates', () => {
    for (const c of semanticsConflicts()) {
      assert.equal(c.definition, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', JSON.stringify(c));
      assert.match(c.other.path, /^spec\.template\.metadata\./, JSON.stringify(c));
      assert.match(c.kept.path, /^metadata\./, JSON.stringify(c));
    }
  });
});

// ------------------------------------------------------------------------------------ documents

describe('the v3 index and documents', () => {
  it('lists a document per served group version plus api, apis and the group documents, each URL carrying its content hash', () => {
    const paths = objAt(openApiV3Index(), 'paths');
    const expected = new Set(['api', 'apis', 'version']);
    for (const r of RESOURCES) {
      expected.add(gvPath(r.group, r.version));
      if (r.group !== '') expected.add(`apis/${r.group}`);
    }
    assert.deepEqual(new Set(Object.keys(paths)), expected);
    for (const p of Object.keys(paths)) {
      const doc = openApiV3Document(p);
      assert.ok(doc !== undefined, p);
      const hash = fnv1a64(JSON.stringify(doc));
      assert.equal(at(paths, p, 'serverRelativeURL'), `/openapi/v3/${p}?hash=${hash}`);
      assert.equal(openApiV3Hash(p), hash);
    }
  });

  it('gives different documents different hashes', () => {
    const hashes = Object.keys(objAt(openApiV3Index(), 'paths')).map((p) => openApiV3Hash(p));
    assert.equal(new Set(hashes).size, hashes.length);
  });

  const lookups: readonly [string, string | undefined][] = [
    ['api/v1', 'api/v1'], ['/openapi/v3/apis/apps/v1?hash=abc', 'apis/apps/v1'], ['apis/apps/v1/', 'apis/apps/v1'],
    ['apis/batch/v1', undefined], ['', undefined],
  ];
  for (const [input, served] of lookups) {
    it(`resolves the document path ${JSON.stringify(input)} to ${served ?? 'nothing'}`, () => {
      const doc = openApiV3Document(input);
      if (served === undefined) assert.equal(doc, undefined);
      else assert.equal(doc, openApiV3Document(served));
    });
  }

  it('resolves every $ref of every v3 document within that document, and of v2 within v2', () => {
    for (const p of Object.keys(objAt(openApiV3Index(), 'paths'))) {
      const doc = openApiV3Document(p);
      assert.ok(doc !== undefined);
      assert.equal(doc['openapi'], '3.0.0');
      const schemas = objAt(doc, 'components', 'schemas');
      for (const ref of refs(doc)) {
        assert.ok(ref.startsWith('#/components/schemas/'), `${p}: ${ref}`);
        assert.ok(isObj(schemas[ref.slice('#/components/schemas/'.length)]), `${p}: ${ref}`);
      }
    }
    const v2 = openApiV2Document();
    assert.equal(v2['swagger'], '2.0');
    const definitions = objAt(v2, 'definitions');
    for (const ref of refs(v2)) {
      assert.ok(ref.startsWith('#/definitions/'), ref);
      assert.ok(isObj(definitions[ref.slice('#/definitions/'.length)]), ref);
    }
  });

  it('wraps described references in allOf in v3 and keeps plain $ref siblings in v2', () => {
    const spec = objAt(v3('', 'v1'), 'components', 'schemas', 'io.k8s.api.core.v1.Service', 'properties', 'spec');
    assert.deepEqual(spec['allOf'], [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ServiceSpec' }]);
    assert.equal(spec['$ref'], undefined);
    const specV2 = objAt(openApiV2Document(), 'definitions', 'io.k8s.api.core.v1.Service', 'properties', 'spec');
    assert.equal(specV2['$ref'], '#/definitions/io.k8s.api.core.v1.ServiceSpec');
  });
});

// ----------------------------------------------------------------------------------- operations

describe('operations', () => {
  it('gives the PATCH of deployments the fieldValidation, fieldManager, dryRun and force query parameters in v3 and v2', () => {
    const path = '/apis/apps/v1/namespaces/{namespace}/deployments/{name}';
    for (const op of [objAt(v3('apps', 'v1'), 'paths', path, 'patch'), objAt(openApiV2Document(), 'paths', path, 'patch')]) {
      const params = at(op, 'parameters');
      assert.ok(Array.isArray(params));
      const query = params.filter(isObj).filter((p) => p['in'] === 'query').map((p) => p['name']);
      for (const name of ['fieldValidation', 'fieldManager', 'dryRun', 'force']) assert.ok(query.includes(name), name);
      assert.deepEqual(op['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
      assert.equal(op['x-kubernetes-action'], 'patch');
    }
  });

  it('gives every PATCH operation tagged with a served kind fieldValidation and a strategic-merge-patch body', () => {
    let seen = 0;
    for (const r of RESOURCES) {
      const paths = objAt(v3(r.group, r.version), 'paths');
      for (const item of Object.values(paths)) {
        const op = at(item, 'patch');
        if (!isObj(op) || at(op, 'x-kubernetes-group-version-kind', 'kind') !== r.kind) continue;
        seen++;
        const params = at(op, 'parameters');
        assert.ok(Array.isArray(params) && params.some((p) => isObj(p) && p['name'] === 'fieldValidation' && p['in'] === 'query'));
        assert.ok(isObj(at(op, 'requestBody', 'content', 'application/strategic-merge-patch+json')));
        assert.ok(isObj(at(op, 'requestBody', 'content', 'application/apply-patch+yaml')));
      }
    }
    assert.ok(seen >= RESOURCES.filter((r) => r.verbs.includes('patch')).length);
  });

  it('serves the verbs of each resource, and only those, on its collection and item paths', () => {
    for (const r of RESOURCES) {
      const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${groupVersion(r)}`;
      const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
      const paths = objAt(v3(r.group, r.version), 'paths');
      const actions = [
        ...['get', 'post', 'delete'].map((m) => at(paths, collection, m, 'x-kubernetes-action')),
        ...['get', 'put', 'patch', 'delete'].map((m) => at(paths, `${collection}/{name}`, m, 'x-kubernetes-action')),
      ].filter((a): a is string => typeof a === 'string');
      const verbs = actions.map((a) => ({ post: 'create', put: 'update' } as Record<string, string>)[a] ?? a).sort();
      assert.deepEqual(verbs, [...r.verbs].filter((v) => v !== 'watch').sort(), r.kind);
    }
  });

  it('tags the scale subresource of deployments with autoscaling/v1 Scale', () => {
    const op = objAt(v3('apps', 'v1'), 'paths', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', 'patch');
    assert.deepEqual(op['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.ok(isObj(objAt(v3('apps', 'v1'), 'components', 'schemas')['io.k8s.api.autoscaling.v1.Scale']));
  });
});

// ------------------------------------------------------------------------------------- encodings

/** Reads the fields of one protobuf message: number → raw values (varints as numbers, others as bytes). */
function readMessage(bytes: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let n = 0; n < 10; n++) {
      const b = bytes[i++];
      assert.ok(b !== undefined, 'truncated varint');
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  };
  while (i < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) { const len = varint(); value = bytes.subarray(i, i + len); i += len; assert.ok(i <= bytes.length, 'truncated field'); }
    else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
const asText = (v: number | Uint8Array | undefined): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

describe('encodings', () => {
  const vectors: readonly [string, string][] = [['', 'CBF29CE484222325'], ['a', 'AF63DC4C8601EC8C'], ['foobar', '85944171F73967E8']];
  for (const [input, hash] of vectors) {
    it(`hashes ${JSON.stringify(input)} to the published FNV-1a 64 value`, () => assert.equal(fnv1a64(input), hash));
  }

  it('hashes non-ASCII text by its UTF-8 bytes', () => {
    assert.notEqual(fnv1a64('é'), fnv1a64('\u00e9x'));
    assert.equal(fnv1a64('é'), fnv1a64('\u00e9'));
    assert.notEqual(fnv1a64('\u0101'), fnv1a64('\u0001'));
  });

  it('encodes the v2 document as an openapi.v2.Document whose paths and definitions match the JSON', () => {
    const doc = readMessage(openApiV2Protobuf());
    assert.equal(asText(doc.get(1)?.[0]), '2.0');
    const paths = doc.get(8)?.[0];
    const definitions = doc.get(9)?.[0];
    assert.ok(paths instanceof Uint8Array && definitions instanceof Uint8Array);
    const json = openApiV2Document();
    assert.equal(readMessage(paths).get(2)?.length, Object.keys(objAt(json, 'paths')).length);
    const named = readMessage(definitions).get(1) ?? [];
    assert.equal(named.length, Object.keys(objAt(json, 'definitions')).length);
    const names = named.map((n) => asText(n instanceof Uint8Array ? readMessage(n).get(1)?.[0] : undefined));
    assert.ok(names.includes('io.k8s.api.core.v1.Service'));
  });

  it('encodes long and non-ASCII strings with correct length prefixes', () => {
    const description = `Größe ${'x'.repeat(300)} 🚀`;
    const bytes = encodeOpenApiV2({ swagger: '2.0', info: { title: 't', version: 'v' }, paths: {}, definitions: { D: { type: 'object', description } } });
    const definitions = readMessage(bytes).get(9)?.[0];
    assert.ok(definitions instanceof Uint8Array);
    const named = readMessage(definitions).get(1)?.[0];
    assert.ok(named instanceof Uint8Array);
    const schema = readMessage(named).get(2)?.[0];
    assert.ok(schema instanceof Uint8Array);
    assert.equal(asText(readMessage(schema).get(4)?.[0]), description);
  });
});
