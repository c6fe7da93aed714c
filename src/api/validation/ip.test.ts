import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP, isStrictSubnet, isValidCIDR, isValidIP, parseCIDR, parseIP, validateNonSpecialIP } from './ip.ts';

describe('IP parsing', () => {
  const canonical: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [input, want] of canonical) {
    it(`${input} formats canonically as ${want}`, () => assert.equal(formatIP(parseIP(input) ?? assert.fail('unparsed')), want));
  }

  for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0']) {
    it(`${JSON.stringify(bad)} is not an IP address`, () => assert.equal(parseIP(bad), undefined));
  }
});

describe('isValidIP', () => {
  it('accepts canonical addresses', () => {
    assert.deepEqual(isValidIP('f', '192.168.1.1'), []);
    assert.deepEqual(isValidIP('f', 'fd00::10'), []);
  });
  it('rejects garbage with the upstream example message', () => {
    assert.equal(isValidIP('f', 'x')[0]?.detail, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  });
  it('rejects leading zeros', () => assert.equal(isValidIP('f', '010.0.0.1')[0]?.detail, 'must not have leading 0s'));
  it('rejects non-canonical IPv6 and names the canonical form', () => {
    assert.equal(isValidIP('f', 'FD00::10')[0]?.detail, 'must be in canonical form ("fd00::10")');
  });
});

describe('CIDRs', () => {
  it('accepts a network address with its prefix', () => assert.deepEqual(isValidCIDR('f', '10.0.0.0/8'), []));
  it('rejects bits beyond the prefix', () => assert.equal(isValidCIDR('f', '10.0.0.1/8')[0]?.detail, 'must not have bits set beyond the prefix length'));
  it('rejects a prefix longer than the address', () => assert.equal(isValidCIDR('f', '10.0.0.0/33').length, 1));
  it('a /16 inside a /8 is a strict subnet, the /8 itself is not', () => {
    const outer = parseCIDR('10.0.0.0/8') ?? assert.fail();
    assert.equal(isStrictSubnet(parseCIDR('10.1.0.0/16') ?? assert.fail(), outer), true);
    assert.equal(isStrictSubnet(parseCIDR('10.0.0.0/8') ?? assert.fail(), outer), false);
    assert.equal(isStrictSubnet(parseCIDR('11.0.0.0/16') ?? assert.fail(), outer), false);
  });
});

describe('validateNonSpecialIP', () => {
  const special: [string, string][] = [
    ['0.0.0.0', 'may not be unspecified (0.0.0.0)'],
    ['127.0.0.1', 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ['::1', 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ['169.254.1.1', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    ['224.0.0.5', 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
  ];
  for (const [ip, msg] of special) it(`${ip} is refused: ${msg}`, () => assert.equal(validateNonSpecialIP('f', ip)[0]?.detail, msg));
  it('an ordinary pod address is fine', () => assert.deepEqual(validateNonSpecialIP('f', '10.244.1.5'), []));
});
