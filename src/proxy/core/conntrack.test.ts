import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conntrackArgs, staleConntrackEntries } from './conntrack.ts';
import { service, slice } from './fixtures.ts';
import { collectServicePorts, type ProxyConfig } from './service-ports.ts';

const config: ProxyConfig = { nodeName: 'n1', nodeIPs: [], clusterCIDR: '10.244.0.0/16' };
const dns = (type: 'ClusterIP' | 'NodePort' = 'ClusterIP') => service('dns', { type, clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP', ...(type === 'NodePort' ? { nodePort: 30053 } : {}) }] });
const eps = (ips: string[]) => slice('dns', ips.map((ip) => ({ ip })), [{ name: 'dns', port: 5353, protocol: 'UDP' }]);
const ports = (ips: string[] | undefined, type: 'ClusterIP' | 'NodePort' = 'ClusterIP') => (ips === undefined ? [] : collectServicePorts([dns(type)], [eps(ips)], config));

describe('stale UDP conntrack entries', () => {
  it('clears flows DNATed to a removed endpoint, by Service IP and by NodePort', () => {
    const d = staleConntrackEntries(ports(['10.244.1.2', '10.244.1.3'], 'NodePort'), ports(['10.244.1.3'], 'NodePort'));
    assert.deepEqual(d.map(conntrackArgs), [
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--dst-nat', '10.244.1.2'],
      ['-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.1.2'],
    ]);
  });

  it('clears flows to a Service that just got its first endpoint (they were being rejected)', () => {
    assert.deepEqual(staleConntrackEntries(ports([]), ports(['10.244.1.2'])).map(conntrackArgs), [['-D', '-p', 'udp', '--orig-dst', '10.96.0.10']]);
  });

  it('clears a deleted Service\'s ClusterIP flows', () => {
    assert.deepEqual(staleConntrackEntries(ports(['10.244.1.2']), ports(undefined)).map(conntrackArgs), [['-D', '-p', 'udp', '--orig-dst', '10.96.0.10']]);
  });

  it('does nothing for unchanged endpoints or TCP Services', () => {
    assert.deepEqual(staleConntrackEntries(ports(['10.244.1.2']), ports(['10.244.1.2'])), []);
    const tcp = (ips: string[]) => collectServicePorts([service('web', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] })], [slice('web', ips.map((ip) => ({ ip })))], config);
    assert.deepEqual(staleConntrackEntries(tcp(['10.244.1.2']), tcp([])), []);
  });
});
