import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpPort, service, slice } from './fixtures.ts';
import { categorizeEndpoints, collectServicePorts, type ProxyConfig } from './service-ports.ts';

const config: ProxyConfig = { nodeName: 'n1', nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16' };

describe('service ports and endpoint categorisation', () => {
  it('matches slice ports by name and protocol and merges duplicate endpoints across slices', () => {
    const svc = service('web', { clusterIP: '10.96.0.10', ports: [httpPort(80), { name: 'metrics', port: 9090, protocol: 'TCP' }] });
    const s1 = slice('web', [{ ip: '10.244.1.2' }], [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], { name: 'a' });
    const s2 = slice('web', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }], [{ name: 'http', port: 8080 }], { name: 'b' });
    const other = slice('web', [{ ip: '10.244.9.9' }], [{ name: 'http', port: 8080 }], { namespace: 'elsewhere' });
    const ports = collectServicePorts([svc], [s1, s2, other], config);
    assert.deepEqual(ports.map((p) => [p.portName, p.endpoints.map((e) => `${e.ip}:${e.port}`)]), [
      ['http', ['10.244.1.2:8080', '10.244.1.3:8080']],
      ['metrics', ['10.244.1.2:9100']],
    ]);
  });

  it('only gives NodePorts to NodePort and LoadBalancer Services and LB IPs to LoadBalancer ones', () => {
    const cip = service('a', { clusterIP: '10.96.0.1', ports: [httpPort(80, { nodePort: 30001 })] }, { lbIPs: ['1.2.3.4'] });
    const ports = collectServicePorts([cip], [], config);
    assert.equal(ports[0]?.nodePort, 0);
    assert.deepEqual(ports[0]?.loadBalancerIPs, []);
  });

  const table: { name: string; eps: Parameters<typeof slice>[1]; spec: Record<string, unknown>; cluster: string[]; local: string[]; hasAny: boolean }[] = [
    { name: 'ready endpoints serve Cluster traffic', eps: [{ ip: '10.0.0.1', node: 'n1' }, { ip: '10.0.0.2', node: 'n2' }], spec: {}, cluster: ['10.0.0.1', '10.0.0.2'], local: [], hasAny: true },
    { name: 'serving+terminating endpoints are the fallback', eps: [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', ready: false }], spec: {}, cluster: ['10.0.0.1'], local: [], hasAny: true },
    { name: 'not-ready endpoints count as nothing', eps: [{ ip: '10.0.0.1', ready: false }], spec: {}, cluster: [], local: [], hasAny: false },
    { name: 'publishNotReadyAddresses makes not-ready endpoints usable', eps: [{ ip: '10.0.0.1', ready: false }], spec: { publishNotReadyAddresses: true }, cluster: ['10.0.0.1'], local: [], hasAny: true },
    { name: 'ETP Local picks this node\'s endpoints for Local traffic', eps: [{ ip: '10.0.0.1', node: 'n1' }, { ip: '10.0.0.2', node: 'n2' }], spec: { type: 'NodePort', externalTrafficPolicy: 'Local' }, cluster: ['10.0.0.1', '10.0.0.2'], local: ['10.0.0.1'], hasAny: true },
    { name: 'ITP Local without external access needs no Cluster endpoints', eps: [{ ip: '10.0.0.1', node: 'n1' }, { ip: '10.0.0.2', node: 'n2' }], spec: { internalTrafficPolicy: 'Local' }, cluster: [], local: ['10.0.0.1'], hasAny: true },
    { name: 'ITP Local with only remote endpoints still knows the Service has endpoints', eps: [{ ip: '10.0.0.2', node: 'n2' }], spec: { internalTrafficPolicy: 'Local' }, cluster: [], local: [], hasAny: true },
  ];
  for (const c of table) {
    it(c.name, () => {
      const svc = service('s', { clusterIP: '10.96.0.1', ports: [httpPort(80, { nodePort: 30000 })], ...c.spec });
      const [sp] = collectServicePorts([svc], [slice('s', c.eps)], config);
      assert.ok(sp);
      const cat = categorizeEndpoints(sp);
      assert.deepEqual(cat.cluster.map((e) => e.ip), c.cluster);
      assert.deepEqual(cat.local.map((e) => e.ip), c.local);
      assert.equal(cat.hasAny, c.hasAny);
    });
  }
});
