import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../api/errors.ts';
import { KubeTransportError, apiErrorFromStatus, isRetriable, transportCodeOf } from './client-errors.ts';

describe('apiErrorFromStatus', () => {
  it('keeps a known reason, the Status code and details', () => {
    const e = apiErrorFromStatus(422, { kind: 'Status', reason: 'Invalid', code: 422, message: 'bad', details: { name: 'x', causes: [{ field: 'spec' }] } });
    assert.equal(e.reason, 'Invalid');
    assert.equal(e.code, 422);
    assert.equal(e.message, 'bad');
    assert.deepEqual(e.details, { name: 'x', causes: [{ field: 'spec' }] });
  });

  const cases: { name: string; http: number; body: unknown; reason: string; code: number }[] = [
    { name: 'an unknown reason falls back to the one of its code', http: 500, body: { kind: 'Status', reason: 'SomethingNew', code: 429 }, reason: 'TooManyRequests', code: 429 },
    { name: 'a Status without a code takes the HTTP code', http: 404, body: { kind: 'Status', reason: 'NotFound' }, reason: 'NotFound', code: 404 },
    { name: 'a JSON body that is not a Status maps the HTTP code', http: 410, body: { hello: 1 }, reason: 'Gone', code: 410 },
    { name: 'an unlisted 4xx is a BadRequest that keeps its code', http: 418, body: 'teapot', reason: 'BadRequest', code: 418 },
    { name: 'an unlisted 5xx is an InternalError that keeps its code', http: 599, body: '', reason: 'InternalError', code: 599 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = apiErrorFromStatus(c.http, c.body);
      assert.ok(e instanceof ApiError);
      assert.equal(e.reason, c.reason);
      assert.equal(e.code, c.code);
    });
  }
});

describe('transportCodeOf', () => {
  const cases: { errno: string; want: string }[] = [
    { errno: 'ECONNREFUSED', want: 'ConnectionFailed' },
    { errno: 'ENOTFOUND', want: 'ConnectionFailed' },
    { errno: 'ECONNRESET', want: 'ConnectionReset' },
    { errno: 'EPIPE', want: 'ConnectionReset' },
    { errno: 'SELF_SIGNED_CERT_IN_CHAIN', want: 'TLS' },
    { errno: 'ERR_TLS_CERT_ALTNAME_INVALID', want: 'TLS' },
    { errno: 'ETIMEDOUT', want: 'Timeout' },
  ];
  for (const c of cases) it(`classifies ${c.errno} as ${c.want}`, () => assert.equal(transportCodeOf(Object.assign(new Error('x'), { code: c.errno })), c.want));
});

describe('isRetriable', () => {
  const cases: { name: string; error: unknown; want: boolean }[] = [
    { name: 'a reset connection', error: new KubeTransportError('ConnectionReset', 'x'), want: true },
    { name: 'a refused connection', error: new KubeTransportError('ConnectionFailed', 'x'), want: true },
    { name: 'a TLS failure', error: new KubeTransportError('TLS', 'x'), want: false },
    { name: 'a cancelled call', error: new KubeTransportError('Aborted', 'x'), want: false },
    { name: 'a 409 conflict', error: new ApiError('Conflict', 'x'), want: false },
    { name: 'a 429', error: new ApiError('TooManyRequests', 'x'), want: true },
    { name: 'a 503', error: new ApiError('ServiceUnavailable', 'x'), want: true },
    { name: 'a plain Error', error: new Error('x'), want: false },
  ];
  for (const c of cases) it(`says ${c.want ? 'retry' : 'do not retry'} for ${c.name}`, () => assert.equal(isRetriable(c.error), c.want));
});
