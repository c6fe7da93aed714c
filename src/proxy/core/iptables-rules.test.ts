import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpPort, service, slice, type EndpointSpec } from './fixtures.ts';
import { buildIptablesRuleset, diffIptables, probability, renderIptablesRestore, type IptablesRuleset } from './iptables-rules.ts';
import { iptEndpointChain, iptServiceNames } from './names.ts';
import { collectServicePorts, type ProxyConfig } from './service-ports.ts';
import type { EndpointSlice, Service } from '../../api/types.ts';

const config: ProxyConfig = { nodeName: 'n1', nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };
const eps3: EndpointSpec[] = [{ ip: '10.244.1.2', node: 'n1' }, { ip: '10.244.2.2', node: 'n2' }, { ip: '10.244.2.3', node: 'n2' }];
const web = (spec: Partial<Service['spec']> = {}) => service('web', { clusterIP: '10.96.0.10', ports: [httpPort(80)], ...spec });

function build(services: Service[], slices: EndpointSlice[]): { rs: IptablesRuleset; chain: (t: 'nat' | 'filter', n: string) => readonly string[] } {
  const rs = buildIptablesRuleset(collectServicePorts(services, slices, config), config);
  return { rs, chain: (t, n) => rs[t].find((c) => c.name === n)?.rules ?? [] };
}

describe('iptables rule builder (upstream layout)', () => {
  it('prints probabilities like upstream (%0.10f of 1/n)', () => {
    assert.deepEqual([3, 2, 7].map(probability), ['0.3333333333', '0.5000000000', '0.1428571429']);
  });

  it('spreads a Service over 3 endpoints with 1/3, 1/2 and an unconditional last jump', () => {
    const { chain } = build([web()], [slice('web', eps3)]);
    const sp = collectServicePorts([web()], [slice('web', eps3)], config)[0]!;
    const svc = chain('nat', iptServiceNames(sp).svc);
    assert.match(svc[0] ?? '', /-d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 80 ! -s 10\.244\.0\.0\/16 -j KUBE-MARK-MASQ$/);
    assert.deepEqual(svc.slice(1).map((r) => /--probability (\S+)/.exec(r)?.[1] ?? 'last'), ['0.3333333333', '0.5000000000', 'last']);
    assert.deepEqual(svc.slice(1).map((r) => /-j (KUBE-SEP-\S+)$/.exec(r)?.[1]), eps3.map((e) => iptEndpointChain(sp, { ip: e.ip, port: 8080 })));
    assert.ok(chain('nat', iptEndpointChain(sp, { ip: '10.244.2.2', port: 8080 })).some((r) => r.endsWith('-p tcp -m tcp -j DNAT --to-destination 10.244.2.2:8080')));
    assert.ok(chain('nat', 'KUBE-SERVICES').some((r) => r.includes(`-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ${iptServiceNames(sp).svc}`)));
  });

  it('rejects a Service without endpoints in filter KUBE-SERVICES and writes no nat chain for it', () => {
    const { rs, chain } = build([web()], [slice('web', [])]);
    assert.deepEqual(chain('filter', 'KUBE-SERVICES'), ['-m comment --comment "default/web:http has no endpoints" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable']);
    assert.ok(!rs.nat.some((c) => c.name.startsWith('KUBE-SVC-')));
  });

  it('keeps KUBE-NODEPORTS as the last rule of nat KUBE-SERVICES', () => {
    const { chain } = build([web({ type: 'NodePort', ports: [httpPort(80, { nodePort: 30080 })] })], [slice('web', eps3)]);
    assert.match(chain('nat', 'KUBE-SERVICES').at(-1) ?? '', /-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/);
    assert.match(chain('nat', 'KUBE-NODEPORTS')[0] ?? '', /--dport 30080 -j KUBE-EXT-/);
  });

  it('with externalTrafficPolicy Local routes external traffic to KUBE-SVL with only local endpoints', () => {
    const svc = web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [httpPort(80, { nodePort: 30080 })] });
    const { chain } = build([svc], [slice('web', eps3)]);
    const n = iptServiceNames(collectServicePorts([svc], [slice('web', eps3)], config)[0]!);
    const ext = chain('nat', n.ext);
    assert.equal(ext.at(-1), `-j ${n.svl}`);
    assert.ok(!ext.some((r) => r === '-m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ'));
    assert.equal(chain('nat', n.svl).length, 1);
  });

  it('with ClientIP affinity checks recent lists before the random spread and sets them before DNAT', () => {
    const svc = web({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
    const { chain } = build([svc], [slice('web', eps3)]);
    const sp = collectServicePorts([svc], [slice('web', eps3)], config)[0]!;
    const svcRules = chain('nat', iptServiceNames(sp).svc);
    assert.equal(svcRules.filter((r) => /-m recent --name KUBE-SEP-\S+ --rcheck --seconds 60 --reap/.test(r)).length, 3);
    const sep = iptEndpointChain(sp, { ip: '10.244.1.2', port: 8080 });
    assert.ok(chain('nat', sep).some((r) => r.includes(`-m recent --name ${sep} --set`) && r.includes('DNAT')));
  });

  it('renders restore input that declares each written chain and deletes stale ones after', () => {
    const a = build([web()], [slice('web', eps3)]).rs;
    const b = build([web()], [slice('web', eps3.slice(0, 2))]).rs;
    const d = diffIptables(a, b);
    const sp = collectServicePorts([web()], [slice('web', eps3)], config)[0]!;
    const gone = iptEndpointChain(sp, { ip: '10.244.2.3', port: 8080 });
    assert.deepEqual(d.removed.nat, [gone]);
    assert.ok(d.changed.has(iptServiceNames(sp).svc));
    assert.ok(!d.changed.has('KUBE-POSTROUTING'));
    const text = renderIptablesRestore(b, { onlyChains: d.changed, deleteChains: d.removed });
    assert.ok(text.indexOf(`:${gone} - [0:0]`) < text.indexOf(`-X ${gone}`));
    assert.ok(!text.includes('KUBE-POSTROUTING'));
    assert.match(text, /\nCOMMIT\n$/);
  });
});

describe('iptables jumps from built-in chains', () => {
  it('inserts only the jumps iptables-save does not show', async () => {
    const { missingJumps } = await import('./iptables-rules.ts');
    const { rs } = build([], []);
    const saved = '*nat\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n';
    const missing = missingJumps(rs, saved);
    assert.equal(missing.length, rs.jumps.length - 1);
    assert.ok(!missing.some((j) => j.chain === 'PREROUTING'));
    const text = renderIptablesRestore(rs, { insertJumps: missing });
    assert.match(text, /-I POSTROUTING 1 .*-j KUBE-POSTROUTING/);
  });
});
