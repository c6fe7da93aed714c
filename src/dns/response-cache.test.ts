import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceRecord } from './core/dns-types.ts';
import { ResponseCache, cacheKey } from './response-cache.ts';
import { encodeResponse, scanMessage } from './wire.ts';

function response(rcode: number, answer: ResourceRecord[], soa?: { ttl: number; minimum: number }, tc = false) {
  const authority: ResourceRecord[] = soa ? [{ name: 'example', ttl: soa.ttl, data: { type: 'SOA', mname: 'ns.example', rname: 'h.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: soa.minimum } }] : [];
  let raw = encodeResponse({ id: 1, rcode, question: { name: 'q.example', type: 1, class: 1 }, answer, authority });
  if (tc) {
    raw = Buffer.from(raw);
    raw[2] = (raw[2] ?? 0) | 0x02;
  }
  return { raw, scan: scanMessage(raw) };
}

const a = (ttl: number, ip = '192.0.2.1'): ResourceRecord => ({ name: 'q.example', ttl, data: { type: 'A', address: ip } });

describe('ResponseCache', () => {
  it('keeps a positive answer for its smallest TTL', () => {
    let now = 0;
    const c = new ResponseCache({ now: () => now });
    const r = response(0, [a(60), a(30, '192.0.2.2')]);
    assert.equal(c.put('k', r.raw, r.scan)?.kind, 'success');
    now = 29_000;
    assert.ok(c.get('k'));
    now = 30_000;
    assert.equal(c.get('k'), undefined);
  });

  const negatives: [string, number, { ttl: number; minimum: number } | undefined, number | undefined][] = [
    ['an NXDOMAIN is kept for min(SOA TTL, SOA MINIMUM)', 3, { ttl: 60, minimum: 10 }, 10],
    ['a NODATA answer is kept for the SOA TTL when it is the smaller', 0, { ttl: 4, minimum: 10 }, 4],
    ['a negative answer without SOA is not kept', 3, undefined, undefined],
    ['a negative TTL is capped', 3, { ttl: 99_999, minimum: 99_999 }, 1800],
  ];
  for (const [what, rcode, soa, seconds] of negatives) {
    it(what, () => {
      const c = new ResponseCache({ now: () => 0 });
      const r = response(rcode, [], soa);
      const e = c.put('k', r.raw, r.scan);
      assert.equal(e === undefined ? undefined : e.expiresAt / 1000, seconds);
      if (e) assert.equal(e.kind, 'denial');
    });
  }

  const uncacheable: [string, ReturnType<typeof response>][] = [
    ['SERVFAIL is not kept', response(2, [])],
    ['a truncated answer is not kept', response(0, [a(60)], undefined, true)],
    ['a TTL of zero is not kept', response(0, [a(0)])],
  ];
  for (const [what, r] of uncacheable) it(what, () => assert.equal(new ResponseCache().put('k', r.raw, r.scan), undefined));

  it('caps positive TTLs', () => {
    const c = new ResponseCache({ now: () => 0, maxTtl: 100 });
    const r = response(0, [a(86_400)]);
    assert.equal(c.put('k', r.raw, r.scan)?.expiresAt, 100_000);
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const c = new ResponseCache({ capacity: 2, now: () => 0 });
    const r = response(0, [a(60)]);
    c.put('a', r.raw, r.scan);
    c.put('b', r.raw, r.scan);
    c.get('a');
    c.put('c', r.raw, r.scan);
    assert.deepEqual([c.get('a') !== undefined, c.get('b') !== undefined, c.get('c') !== undefined], [true, false, true]);
    assert.equal(c.size, 2);
  });

  it('keys are case-insensitive in the name and distinguish type, class and DO', () => {
    assert.equal(cacheKey('WWW.Example', 1, 1, false), cacheKey('www.example', 1, 1, false));
    assert.notEqual(cacheKey('a', 1, 1, false), cacheKey('a', 28, 1, false));
    assert.notEqual(cacheKey('a', 1, 1, false), cacheKey('a', 1, 1, true));
  });
});
