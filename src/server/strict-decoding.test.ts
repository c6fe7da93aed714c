import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../api/errors.ts';
import { checkApplyDuplicates, checkBodyFields, checkPatchFields, requestFieldValidation, warningHeaderValues, yamlDuplicateKeys } from './strict-decoding.ts';
import type { FieldValidationDirective } from './strict-decoding.ts';

const SERVICE = { group: '', version: 'v1', kind: 'Service' };

const DEPLOYMENT_YAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: a
  name: b
spec:
  paused: true
  paused: false
  template:
    spec:
      containers:
      - name: c
        imagePullPolicy: Always
        imagePullPolicy: Never
`;

describe('yamlDuplicateKeys', () => {
  it('finds repeated keys with the line of the repetition, in document order', () => {
    assert.deepEqual(yamlDuplicateKeys(DEPLOYMENT_YAML), [
      { line: 5, key: 'name' },
      { line: 8, key: 'paused' },
      { line: 14, key: 'imagePullPolicy' },
    ]);
  });

  it('reads JSON as YAML, as apply bodies are read', () => {
    assert.deepEqual(yamlDuplicateKeys('{\n "a": 1,\n "a": 2\n}'), [{ line: 3, key: 'a' }]);
  });

  it('finds nothing in a document without repeats', () => {
    assert.deepEqual(yamlDuplicateKeys('a: 1\nb:\n  a: 2\n'), []);
  });
});

describe('requestFieldValidation', () => {
  const url = (q: string) => new URL(`https://x/api/v1/namespaces/default/services${q}`);
  it('defaults writes to Warn and leaves reads without a directive', () => {
    assert.equal(requestFieldValidation('create', url('')), 'Warn');
    assert.equal(requestFieldValidation('patch', url('?fieldValidation=Strict')), 'Strict');
    assert.equal(requestFieldValidation('get', url('?fieldValidation=bogus')), undefined);
  });

  it('rejects an unknown directive on the options kind of the verb', () => {
    assert.throws(() => requestFieldValidation('update', url('?fieldValidation=bogus')), (e: unknown) => e instanceof ApiError && e.code === 422 && e.message.startsWith('UpdateOptions.meta.k8s.io'));
  });
});

describe('checkBodyFields', () => {
  const run = (directive: FieldValidationDirective, text: string, yaml = false) => {
    const warnings: string[] = [];
    const body: unknown = yaml ? { apiVersion: 'v1', kind: 'Service' } : JSON.parse(text);
    checkBodyFields({ gvk: SERVICE, text, yaml, body: yaml ? { ...(body as object), spec: { portz: 1 } } : body, directive, warnings });
    return warnings;
  };
  const text = '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"portz":1,"type":"A","type":"B"}}';

  it('Strict fails the body with every violation', () => {
    assert.throws(() => run('Strict', text), (e: unknown) => e instanceof ApiError && e.code === 400
      && e.message === 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.portz", duplicate field "spec.type"');
  });

  it('Warn returns one warning per violation', () => {
    assert.deepEqual(run('Warn', text), ['unknown field "spec.portz"', 'duplicate field "spec.type"']);
  });

  it('Ignore accepts the body silently', () => {
    assert.deepEqual(run('Ignore', text), []);
  });

  it('a YAML body reports repeated keys first, then unknown fields', () => {
    assert.deepEqual(run('Warn', 'apiVersion: v1\nkind: Service\nkind: Service\n', true), ['line 3: key "kind" already set in map', 'unknown field "spec.portz"']);
  });
});

describe('checkPatchFields', () => {
  const live = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { type: 'ClusterIP' } };
  const patched = { ...live, spec: { type: 'ClusterIP', portz: 1 } };

  it('a strategic merge patch fails with the patch printed as a Go map', () => {
    assert.throws(() => checkPatchFields({ gvk: SERVICE, contentType: 'application/strategic-merge-patch+json', patchBody: '{"spec":{"portz":1}}', live, patched, directive: 'Strict', warnings: [] }),
      (e: unknown) => e instanceof ApiError && e.code === 422 && e.message === ' "" is invalid: patch: Invalid value: "map[spec:map[portz:1]]": strict decoding error: unknown field "spec.portz"');
  });

  it('a merge patch fails with the patched object as JSON', () => {
    assert.throws(() => checkPatchFields({ gvk: SERVICE, contentType: 'application/merge-patch+json', patchBody: '{"spec":{"portz":1}}', live, patched, directive: 'Strict', warnings: [] }),
      (e: unknown) => e instanceof ApiError && e.message.includes('Invalid value: "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"Service\\",'));
  });

  it('a json patch warns about its operations and the fields it adds', () => {
    const warnings: string[] = [];
    checkPatchFields({ gvk: SERVICE, contentType: 'application/json-patch+json', patchBody: '[{"op":"add","path":"/spec/portz","value":1,"x":1}]', live, patched, directive: 'Warn', warnings });
    assert.deepEqual(warnings, ['json patch unknown field "[0].x"', 'unknown field "spec.portz"']);
  });
});

describe('checkApplyDuplicates', () => {
  const body = '{\n"apiVersion": "v1",\n"kind": "Service",\n"kind": "Service"\n}';
  it('Strict fails with the YAML error text', () => {
    assert.throws(() => checkApplyDuplicates(body, 'Strict', []), (e: unknown) => e instanceof ApiError && e.code === 400
      && e.message === 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key "kind" already set in map');
  });
  it('Warn warns once per repeated key', () => {
    const warnings: string[] = [];
    checkApplyDuplicates(body, 'Warn', warnings);
    assert.deepEqual(warnings, ['line 4: key "kind" already set in map']);
  });
});

describe('warningHeaderValues', () => {
  it('writes each warning once as a 299 warning with quotes escaped', () => {
    assert.deepEqual(warningHeaderValues(['unknown field "spec.x"', 'unknown field "spec.x"', 'a\\b']), ['299 - "unknown field \\"spec.x\\""', '299 - "a\\\\b"']);
  });

  it('passes UTF-8 through as bytes and turns line breaks into spaces', () => {
    const [v] = warningHeaderValues(['é\nx']);
    assert.equal(Buffer.from(v ?? '', 'latin1').toString('utf8'), '299 - "é x"');
  });
});
