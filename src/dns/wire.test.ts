import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceRecord } from './core/dns-types.ts';
import { RRType } from './core/dns-types.ts';
import { WireError, decodeQuery, decodeRecords, encodeQuery, encodeResponse, readName, rewriteForClient, scanMessage } from './wire.ts';

function header(qd: number, an = 0, ns = 0, ar = 0, flags = 0x0100): number[] {
  return [0x12, 0x34, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, ns, 0, ar];
}

const label = (s: string) => [s.length, ...Buffer.from(s)];

describe('wire: names', () => {
  const bad: [string, number[], string][] = [
    ['a pointer to itself is rejected', [...header(1), 0xc0, 12, 0, 1, 0, 1], 'BadPointer'],
    ['a forward pointer is rejected', [...header(1), ...label('a'), 0xc0, 20, 0, 0, 1, 0, 1], 'BadPointer'],
    ['two pointers forming a loop are rejected', [...header(0, 1), 0xc0, 14, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], 'BadPointer'],
    ['a label past the end is rejected', [...header(1), 10, 0x61], 'Short'],
    ['an extended label type is rejected', [...header(1), 0x41, 0, 0, 1, 0, 1], 'BadLabel'],
    ['a name over 255 octets is rejected', [...header(1), ...Array.from({ length: 5 }, () => label('x'.repeat(63))).flat(), 0, 0, 1, 0, 1], 'NameTooLong'],
    ['a compressed question name is rejected', [...header(1), ...label('a'), 0xc0, 2, 0, 1, 0, 1], 'BadPointer'],
  ];
  for (const [what, bytes, code] of bad) {
    it(what, () => {
      assert.throws(() => decodeQuery(Uint8Array.from(bytes)), (e: unknown) => e instanceof WireError && e.code === code);
    });
  }

  it('reads a name through a backward pointer', () => {
    const bytes = Uint8Array.from([...label('www'), ...label('example'), 0, ...label('api'), 0xc0, 4]);
    assert.deepEqual(readName(bytes, 13), { name: 'api.example', end: 19, compressed: true });
  });

  it('escapes dots, backslashes and unprintable bytes inside labels', () => {
    const bytes = Uint8Array.from([3, 0x61, 0x2e, 0x07, 2, 0x5c, 0x62, 0]);
    assert.equal(readName(bytes, 0).name, 'a\\.\\007.\\\\b');
  });
});

describe('wire: queries and responses', () => {
  it('decodes a query with EDNS', () => {
    const q = decodeQuery(encodeQuery({ name: 'Web.Example', type: RRType.SRV, class: 1 }, { id: 7, edns: { udpPayloadSize: 4096, dnssecOk: true } }));
    assert.deepEqual({ id: q.id, rd: q.rd, question: q.question, edns: q.edns }, { id: 7, rd: true, question: { name: 'Web.Example', type: RRType.SRV, class: 1 }, edns: { udpPayloadSize: 4096, version: 0, dnssecOk: true } });
  });

  it('rejects two OPT records', () => {
    const q = [...encodeQuery({ name: 'a', type: 1, class: 1 }, { id: 1, edns: { udpPayloadSize: 512 } })];
    q[11] = 2;
    q.push(0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0);
    assert.throws(() => decodeQuery(Uint8Array.from(q)), (e: unknown) => e instanceof WireError && e.code === 'BadEdns');
  });

  const records: ResourceRecord[] = [
    { name: 'a.example', ttl: 5, data: { type: 'A', address: '10.0.0.1' } },
    { name: 'a.example', ttl: 5, data: { type: 'AAAA', address: 'fd00::1:0:0:2' } },
    { name: 'a.example', ttl: 5, data: { type: 'CNAME', target: 'b.example' } },
    { name: '_http._tcp.a.example', ttl: 5, data: { type: 'SRV', priority: 0, weight: 50, port: 80, target: 'x.a.example' } },
    { name: 'a.example', ttl: 5, data: { type: 'TXT', texts: ['1.1.0', 'two'] } },
    { name: '1.0.0.10.in-addr.arpa', ttl: 5, data: { type: 'PTR', target: 'a.example' } },
  ];

  it('encodes every record kind so that it decodes to the same records', () => {
    const out = encodeResponse({ id: 9, rcode: 0, aa: true, question: { name: 'a.example', type: 255, class: 1 }, answer: records, authority: [{ name: 'example', ttl: 30, data: { type: 'SOA', mname: 'ns.example', rname: 'h.example', serial: 3, refresh: 4, retry: 5, expire: 6, minimum: 7 } }] });
    const scan = scanMessage(out);
    assert.equal(scan.flags & 0x8400, 0x8400);
    assert.deepEqual(decodeRecords(out, scan, 0), records);
    assert.equal(decodeRecords(out, scan, 1)[0]?.data.type, 'SOA');
  });

  it('compresses repeated names', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: 'long-service-name.namespace.svc.cluster.local', ttl: 5, data: { type: 'A' as const, address: `10.0.0.${i}` } }));
    const out = encodeResponse({ id: 1, rcode: 0, question: { name: 'long-service-name.namespace.svc.cluster.local', type: 1, class: 1 }, answer: many });
    assert.ok(out.length < 12 + 52 + 20 * 16 + 1, `${out.length} bytes`);
  });

  it('leaves out records past the size limit and sets TC only when an answer was cut', () => {
    const answers = Array.from({ length: 60 }, (_, i) => ({ name: 'x.example', ttl: 5, data: { type: 'A' as const, address: `10.0.1.${i}` } }));
    const cut = encodeResponse({ id: 1, rcode: 0, question: { name: 'x.example', type: 1, class: 1 }, answer: answers, maxSize: 512, edns: { udpPayloadSize: 1232 } });
    const scan = scanMessage(cut);
    assert.ok(cut.length <= 512);
    assert.ok(scan.tc);
    assert.ok(scan.records.length < 61 && scan.records.at(-1)?.type === RRType.OPT);
    const onlyAdditional = encodeResponse({ id: 1, rcode: 0, question: { name: 'x.example', type: 1, class: 1 }, answer: answers.slice(0, 5), additional: answers, maxSize: 512 });
    const s2 = scanMessage(onlyAdditional);
    assert.equal(s2.tc, false);
    assert.equal(s2.records.filter((r) => r.section === 0).length, 5);
  });

  it('skips a record whose name cannot be encoded instead of failing the response', () => {
    const out = encodeResponse({ id: 1, rcode: 0, answer: [{ name: `${'a'.repeat(64)}.example`, ttl: 1, data: { type: 'A', address: '1.2.3.4' } }, records[0] as ResourceRecord] });
    assert.equal(scanMessage(out).records.length, 1);
  });

  it('rewrites a raw message for a client: id, question spelling, aged TTLs, our OPT', () => {
    const upstream = encodeResponse({ id: 500, rcode: 0, question: { name: 'www.example', type: 1, class: 1 }, answer: [{ name: 'www.example', ttl: 300, data: { type: 'A', address: '192.0.2.1' } }], edns: { udpPayloadSize: 4096 } });
    const scan = scanMessage(upstream);
    const clientQ = decodeQuery(encodeQuery({ name: 'WWW.Example', type: 1, class: 1 }, { id: 77 }));
    const out = rewriteForClient(upstream, scan, { id: 77, age: 100, rd: true, ...(clientQ.questionBytes ? { questionBytes: clientQ.questionBytes } : {}), edns: { udpPayloadSize: 1232 } });
    const s = scanMessage(out);
    assert.equal(s.id, 77);
    assert.equal(s.question?.name, 'WWW.Example');
    const [a] = decodeRecords(out, s, 0);
    assert.equal(a?.ttl, 200);
    assert.equal(s.records.filter((r) => r.type === RRType.OPT).length, 1);
    assert.equal(out.readUInt16BE(s.records.at(-1)?.start === undefined ? 0 : (s.records.at(-1)?.start ?? 0) + 3), 1232);
  });
});
