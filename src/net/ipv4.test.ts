import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains, cidrContainsCidr, cidrSize, cidrsOverlap, formatCidr, formatIPv4, Ipv4Error, lastAddress, nthAddress,
  parseAddressRange, parseCidr, parseIPv4, subnetAt, subnetCount, subnetIndex, tryParseIPv4,
} from './ipv4.ts';

describe('IPv4 parsing and formatting', () => {
  const valid: [string, number][] = [
    ['0.0.0.0', 0],
    ['10.96.0.1', 0x0a600001],
    ['255.255.255.255', 0xffffffff],
    ['192.168.1.10', 0xc0a8010a],
  ];
  for (const [text, value] of valid) {
    it(`parses ${text} and formats it back unchanged`, () => {
      assert.equal(parseIPv4(text), value);
      assert.equal(formatIPv4(value), text);
    });
  }
  const invalid = ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '1..2.3', ' 1.2.3.4'];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)} as an address`, () => {
      assert.equal(tryParseIPv4(text), undefined);
      assert.throws(() => parseIPv4(text), (err: unknown) => err instanceof Ipv4Error && err.code === 'InvalidAddress');
    });
  }
  it('refuses to format a value outside 32 bits', () => {
    assert.throws(() => formatIPv4(2 ** 32), Ipv4Error);
  });
});

describe('CIDR blocks', () => {
  it('masks host bits like Go does and rejects them in strict mode', () => {
    assert.equal(formatCidr(parseCidr('10.0.0.5/24')), '10.0.0.0/24');
    assert.throws(() => parseCidr('10.0.0.5/24', { strict: true }), Ipv4Error);
  });
  const invalid = ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0/8', '10.0.0.0/08', '10.0.0.0/-1'];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)} as a CIDR`, () => {
      assert.throws(() => parseCidr(text), (err: unknown) => err instanceof Ipv4Error && err.code === 'InvalidCidr');
    });
  }
  it('gives sizes, last address and containment', () => {
    const c = parseCidr('10.96.0.0/12');
    assert.equal(cidrSize(c), 2 ** 20);
    assert.equal(formatIPv4(lastAddress(c)), '10.111.255.255');
    assert.equal(cidrContains(c, parseIPv4('10.111.0.1')), true);
    assert.equal(cidrContains(c, parseIPv4('10.112.0.0')), false);
    assert.equal(cidrSize(parseCidr('0.0.0.0/0')), 2 ** 32);
  });
  it('finds the n-th address from the start and from the end', () => {
    const c = parseCidr('10.96.0.0/16');
    assert.equal(formatIPv4(nthAddress(c, 10)), '10.96.0.10');
    assert.equal(formatIPv4(nthAddress(c, -1)), '10.96.255.255');
    assert.throws(() => nthAddress(c, 65536), Ipv4Error);
  });
  it('splits a block into subnets and maps a subnet back to its index', () => {
    const c = parseCidr('10.244.0.0/16');
    assert.equal(subnetCount(c, 24), 256);
    assert.equal(formatCidr(subnetAt(c, 24, 3)), '10.244.3.0/24');
    assert.equal(formatCidr(subnetAt(c, 24, 255)), '10.244.255.0/24');
    assert.equal(subnetIndex(c, parseCidr('10.244.7.0/24')), 7);
    assert.equal(subnetIndex(c, parseCidr('10.245.7.0/24')), undefined);
    assert.throws(() => subnetAt(c, 24, 256), Ipv4Error);
    assert.throws(() => subnetAt(c, 8, 0), Ipv4Error);
  });
  const overlaps: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['192.168.0.0/16', '192.168.255.255/32', true],
  ];
  for (const [a, b, expected] of overlaps) {
    it(`${a} and ${b} ${expected ? 'overlap' : 'do not overlap'}`, () => {
      assert.equal(cidrsOverlap(parseCidr(a), parseCidr(b)), expected);
    });
  }
  it('knows when one block contains another', () => {
    assert.equal(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('10.9.0.0/16')), true);
    assert.equal(cidrContainsCidr(parseCidr('10.9.0.0/16'), parseCidr('10.0.0.0/8')), false);
  });
  it('parses address ranges written as CIDRs, dashes or single addresses', () => {
    assert.deepEqual(parseAddressRange('172.18.0.8/30'), { first: parseIPv4('172.18.0.8'), last: parseIPv4('172.18.0.11') });
    assert.deepEqual(parseAddressRange('172.18.0.10 - 172.18.0.12'), { first: parseIPv4('172.18.0.10'), last: parseIPv4('172.18.0.12') });
    assert.deepEqual(parseAddressRange('172.18.0.9'), { first: parseIPv4('172.18.0.9'), last: parseIPv4('172.18.0.9') });
    assert.throws(() => parseAddressRange('172.18.0.12-172.18.0.10'), Ipv4Error);
  });
});
