import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterDNSServiceIP, kubernetesServiceIP, NodePortAllocator, nodePortBandOffset, parsePortRange, PoolAllocator,
  serviceIPBandOffset, ServiceIPAllocator, SubnetAllocator,
} from './allocators.ts';
import { parseCidr } from './ipv4.ts';

describe('band offsets (KEP-3070, KEP-3668)', () => {
  const serviceCases: [string, number][] = [['10.96.0.0/24', 16], ['10.96.0.0/20', 256], ['10.96.0.0/16', 256], ['10.96.0.0/28', 16]];
  for (const [cidr, offset] of serviceCases) {
    it(`the static band of ${cidr} has ${offset} addresses`, () => assert.equal(serviceIPBandOffset(parseCidr(cidr)), offset));
  }
  it('the default NodePort range 30000-32767 has a static band of 86 ports', () => {
    assert.equal(nodePortBandOffset(parsePortRange('30000-32767').size), 86);
    assert.equal(nodePortBandOffset(100), 16);
    assert.equal(nodePortBandOffset(60000), 128);
  });
});

describe('ServiceIPAllocator', () => {
  it('hands out the first dynamic address just above the static band', () => {
    const a = new ServiceIPAllocator('10.96.0.0/16');
    assert.equal(a.allocateNext(), '10.96.1.1');
    assert.equal(a.size(), 65534);
  });
  it('keeps the conventional kubernetes and DNS addresses in the static band', () => {
    assert.equal(kubernetesServiceIP('10.96.0.0/16'), '10.96.0.1');
    assert.equal(clusterDNSServiceIP('10.96.0.0/16'), '10.96.0.10');
    const a = new ServiceIPAllocator('10.96.0.0/16', { reserved: ['10.96.0.1', '10.96.0.10'] });
    assert.equal(a.has('10.96.0.10'), true);
    assert.equal(a.allocate('10.96.0.10'), 'already-allocated');
  });
  it('never hands out the network or broadcast address, even when full', () => {
    const a = new ServiceIPAllocator('10.0.0.0/28');
    const got = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const ip = a.allocateNext();
      if (ip !== undefined) got.add(ip);
    }
    assert.equal(got.size, 14);
    assert.equal(got.has('10.0.0.0'), false);
    assert.equal(got.has('10.0.0.15'), false);
    assert.equal(a.allocate('10.0.0.15'), 'out-of-range');
    assert.equal(a.allocate('10.0.1.1'), 'out-of-range');
  });
  it('falls back to the static band once the dynamic band is exhausted', () => {
    const a = new ServiceIPAllocator('10.0.0.0/27'); // 30 usable, static band 16 -> dynamic .17-.30
    const first = [];
    for (let i = 0; i < 14; i++) first.push(a.allocateNext());
    assert.equal(first[0], '10.0.0.17');
    assert.equal(first[13], '10.0.0.30');
    assert.equal(a.allocateNext(), '10.0.0.1');
  });
  it('survives a restart through its snapshot', () => {
    const a = new ServiceIPAllocator('10.96.0.0/24');
    a.allocateNext();
    a.allocate('10.96.0.10');
    const b = new ServiceIPAllocator('10.96.0.0/24', { snapshot: a.snapshot() });
    assert.equal(b.has('10.96.0.10'), true);
    assert.equal(b.allocateNext(), a.allocateNext());
  });
  it('rejects a CIDR with host bits and a /31', () => {
    assert.throws(() => new ServiceIPAllocator('10.96.0.1/16'));
    assert.throws(() => new ServiceIPAllocator('10.96.0.0/31'));
  });
});

describe('NodePortAllocator', () => {
  it('allocates 30086 first from the default range and accepts static ports below it', () => {
    const a = new NodePortAllocator();
    assert.equal(a.allocateNext(), 30086);
    assert.equal(a.allocate(30000), 'allocated');
    assert.equal(a.allocate(30000), 'already-allocated');
    assert.equal(a.allocate(32768), 'out-of-range');
    assert.equal(a.release(30000), true);
    assert.equal(a.used(), 1);
  });
  for (const bad of ['0-10', '10-5', '30000-70000', 'x']) {
    it(`rejects the port range ${JSON.stringify(bad)}`, () => assert.throws(() => parsePortRange(bad), RangeError));
  }
});

describe('PoolAllocator', () => {
  it('allocates across entries in order and maps addresses back', () => {
    const a = new PoolAllocator(['172.18.255.200/31', '172.18.255.210-172.18.255.211']);
    assert.deepEqual([a.allocateNext(), a.allocateNext(), a.allocateNext(), a.allocateNext(), a.allocateNext()],
      ['172.18.255.200', '172.18.255.201', '172.18.255.210', '172.18.255.211', undefined]);
    assert.equal(a.release('172.18.255.210'), true);
    assert.equal(a.has('172.18.255.210'), false);
    assert.equal(a.allocate('172.18.255.205'), 'out-of-range');
  });
  it('rejects overlapping entries', () => {
    assert.throws(() => new PoolAllocator(['10.0.0.0/24', '10.0.0.10-10.0.0.20']));
  });
});

describe('SubnetAllocator', () => {
  it('carves /24s out of 10.244.0.0/16 and skips occupied ones', () => {
    const a = new SubnetAllocator('10.244.0.0/16', 24);
    assert.equal(a.occupy('10.244.0.0/24'), 'allocated');
    assert.equal(a.allocateNext(), '10.244.1.0/24');
    assert.equal(a.occupy('10.244.1.0/24'), 'already-allocated');
    assert.equal(a.occupy('10.245.0.0/24'), 'out-of-range');
    assert.equal(a.occupy('10.244.2.0/25'), 'out-of-range');
    assert.equal(a.size(), 256);
  });
  it('reports exhaustion with undefined', () => {
    const a = new SubnetAllocator('10.244.0.0/23', 24);
    a.allocateNext();
    a.allocateNext();
    assert.equal(a.allocateNext(), undefined);
  });
});
