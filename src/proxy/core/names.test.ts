import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { base32, sha256, toHex } from './hash.ts';
import { nftEndpointBase, nftServiceBase, portProtoHash } from './names.ts';

describe('sha256 and base32', () => {
  const inputs = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(1000), 'ümlaut/ns:port'];
  for (const s of inputs) {
    it(`hashes a ${s.length}-character input like node:crypto`, () => {
      assert.equal(toHex(sha256(s)), createHash('sha256').update(s).digest('hex'));
    });
  }
  it('encodes base32 with the standard alphabet and padding (RFC 4648 vectors)', () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    assert.deepEqual(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map(enc), ['', 'MY======', 'MZXQ====', 'MZXW6===', 'MZXW6YQ=', 'MZXW6YTB', 'MZXW6YTBOI======']);
  });
});

describe('upstream chain names', () => {
  it('matches the well-known iptables hashes of kube-dns and kubernetes', () => {
    assert.equal(portProtoHash('kube-system/kube-dns:dns', 'udp'), 'TCOU7JCQXEZGVUNU');
    assert.equal(portProtoHash('default/kubernetes:https', 'tcp'), 'NPX46M4PTMTKRN6Y');
  });
  it('builds nftables bases as HASH-ns/name/proto/port and ...__ip/port', () => {
    const sp = { namespace: 'ns1', name: 'svc1', protocol: 'tcp' as const, portName: 'p80' };
    assert.match(nftServiceBase(sp), /^[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80$/);
    assert.equal(nftServiceBase(sp).slice(0, 8), base32(sha256('ns1/svc1/tcp/p80')).slice(0, 8));
    assert.match(nftEndpointBase(sp, { ip: '10.180.0.1', port: 80 }), /^[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80$/);
  });
  it('truncates very long nftables names to fit 240 characters, keeping the hash', () => {
    const long = { namespace: 'n'.repeat(63), name: 's'.repeat(63), protocol: 'sctp' as const, portName: 'p'.repeat(63) };
    const b = nftEndpointBase(long, { ip: '10.0.0.1', port: 65535 });
    assert.ok(b.length <= 240);
    assert.ok(nftServiceBase(long).length <= 240);
  });
});
