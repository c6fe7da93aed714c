import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashedIP, ipFromReverseLabels, normalizeIP, parseDashedIP, reverseName, splitLabels } from './names.ts';

describe('dns names', () => {
  const splits: [string, string, string[]][] = [
    ['a name is split and lower-cased', 'Web.NS1.svc.cluster.local', ['web', 'ns1', 'svc', 'cluster', 'local']],
    ['a trailing dot is ignored', 'a.b.', ['a', 'b']],
    ['the root has no labels', '', []],
    ['an escaped dot stays inside its label with its backslash', 'a\\.b.c', ['a\\.b', 'c']],
  ];
  for (const [what, input, want] of splits) it(what, () => assert.deepEqual(splitLabels(input), want));

  const ips: [string, string, { ip: string; family: 4 | 6 } | undefined][] = [
    ['IPv4 text is accepted as is', '10.0.0.1', { ip: '10.0.0.1', family: 4 }],
    ['IPv4 with a leading zero is rejected', '10.0.0.01', undefined],
    ['IPv6 is canonicalised', 'FD00:0:0:0:0:0:0:20', { ip: 'fd00::20', family: 6 }],
    ['an IPv4-mapped IPv6 address is parsed', '::ffff:10.0.0.1', { ip: '::ffff:a00:1', family: 6 }],
    ['two :: are rejected', '1::2::3', undefined],
    ['garbage is rejected', 'nope', undefined],
  ];
  for (const [what, input, want] of ips) it(what, () => assert.deepEqual(normalizeIP(input), want));

  it('dashed IPs round-trip for both families', () => {
    for (const ip of ['10.244.1.5', 'fd00::20']) assert.equal(parseDashedIP(dashedIP(ip))?.ip, ip);
    assert.equal(parseDashedIP('1-2-3'), undefined);
  });

  it('reverse names round-trip for both families', () => {
    for (const ip of ['10.96.0.1', 'fd00::20', '2001:db8::1:0:0:1']) assert.equal(ipFromReverseLabels(splitLabels(reverseName(ip))), ip);
    assert.equal(ipFromReverseLabels(splitLabels('1.2.3.in-addr.arpa')), undefined);
  });
});
