// Kernel tests of the Proxier in both modes on a hand-built lab: 2 nodes, 3 backend pods (pa on n1; pb,
// pc on n2), an external host. These need root, iproute2, nft, iptables, conntrack, busybox and curl;
// they fail (not skip) when those are missing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.ts';
import { httpPort, service, slice, type EndpointSpec } from './core/fixtures.ts';
import { execIn } from './exec.ts';
import { Proxier, ProxyError } from './proxier.ts';
import { Topology } from './test-topology.ts';

const WEB = '10.96.0.10';
const LOCAL = '10.96.0.11';
const AFF = '10.96.0.12';
const HAIR = '10.96.0.13';
const DNS = '10.96.0.14';
const LB_IP = '192.168.60.10';

interface State { web: EndpointSpec[]; dns: EndpointSpec[] }

function objects(topo: Topology, st: State): { services: Service[]; slices: EndpointSlice[] } {
  const ep = (name: string): EndpointSpec => ({ ip: topo.pod(name).ip, node: topo.pod(name).node });
  const all = ['pa', 'pb', 'pc'].map(ep);
  const services = [
    service('web', { type: 'LoadBalancer', clusterIP: WEB, ports: [httpPort(80, { nodePort: 30080 })] }, { lbIPs: [LB_IP] }),
    service('local', { type: 'NodePort', clusterIP: LOCAL, externalTrafficPolicy: 'Local', ports: [httpPort(80, { nodePort: 30081 })] }),
    service('sticky', { clusterIP: AFF, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [httpPort(80)] }),
    service('hairpin', { clusterIP: HAIR, ports: [httpPort(80)] }),
    service('dns', { clusterIP: DNS, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] }),
    service('outside', { type: 'ExternalName', externalName: 'example.com' }),
  ];
  const slices = [
    slice('web', st.web),
    slice('local', [ep('pb')]),
    slice('sticky', all),
    slice('hairpin', [ep('pa')]),
    slice('dns', st.dns, [{ name: 'dns', port: 5353, protocol: 'UDP' }]),
  ];
  return { services, slices };
}

describe('Proxier refuses modes this machine cannot run', () => {
  it('refuses --proxy-mode ipvs with a message naming the missing IPVS', () => {
    assert.throws(() => new Proxier({ mode: 'ipvs', nodeName: 'n1', nodeIPs: [], clusterCIDR: '10.244.0.0/16' }), (e: unknown) => e instanceof ProxyError && e.code === 'UnsupportedMode' && /IPVS/.test(e.message));
  });
});

for (const mode of ['nftables', 'iptables'] as const) {
  describe(`Proxier in ${mode} mode on a two-node lab`, { concurrency: false }, () => {
    const topo = new Topology();
    let proxiers: Proxier[] = [];
    let state: State;

    const syncAll = async () => {
      const { services, slices } = objects(topo, state);
      return Promise.all(proxiers.map((p) => p.sync(services, slices, [])));
    };

    before(async () => {
      await topo.create({ nodes: 2, pods: { 1: ['pa'], 2: ['pb', 'pc'] } });
      proxiers = topo.nodes.map((n) => new Proxier({ mode, runInNetns: n.netns, nodeName: n.name, nodeIPs: [n.ip], clusterCIDR: topo.clusterCIDR, serviceCIDR: topo.serviceCIDR }));
      const ep = (name: string): EndpointSpec => ({ ip: topo.pod(name).ip, node: topo.pod(name).node });
      state = { web: ['pa', 'pb', 'pc'].map(ep), dns: [ep('pb')] };
      const results = await syncAll();
      for (const r of results) assert.equal(r.kind, 'full');
    });

    after(async () => {
      for (const p of proxiers) await p.cleanup().catch(() => undefined);
      await topo.destroy();
    });

    it('spreads ClusterIP connections from a pod on each node and from the node over all three backends', async () => {
      for (const from of [topo.pod('pa').netns, topo.pod('pb').netns, topo.node('n1').netns]) {
        const seen = new Map<string, number>();
        for (let i = 0; i < 30; i++) {
          const r = await topo.who(from, `http://${WEB}/cgi-bin/who`);
          assert.ok(r.ok, `request ${i} from ${from} failed: ${JSON.stringify(r)}`);
          seen.set(r.pod, (seen.get(r.pod) ?? 0) + 1);
        }
        assert.deepEqual([...seen.keys()].sort(), ['pa', 'pb', 'pc'], `from ${from}: ${JSON.stringify([...seen])}`);
      }
    });

    it('keeps the pod source address for pod-to-ClusterIP traffic and masquerades node-originated traffic', async () => {
      for (let i = 0; i < 10; i++) {
        const r = await topo.who(topo.pod('pa').netns, `http://${WEB}/cgi-bin/who`);
        assert.ok(r.ok);
        if (r.pod !== 'pa') { assert.equal(r.client, topo.pod('pa').ip); break; }
      }
      const n = await topo.who(topo.node('n1').netns, `http://${WEB}/cgi-bin/who`);
      assert.ok(n.ok);
      assert.notEqual(n.client, '192.168.50.100');
    });

    it('reaches a NodePort from the external host on either node, masqueraded (Cluster policy)', async () => {
      for (const node of topo.nodes) {
        const r = await topo.who(topo.external.netns, `http://${node.ip}:30080/cgi-bin/who`);
        assert.ok(r.ok, `NodePort on ${node.name}: ${JSON.stringify(r)}`);
        assert.notEqual(r.client, topo.external.ip, 'Cluster policy masquerades external clients');
      }
    });

    it('reaches the LoadBalancer IP from the external host routed to a node', async () => {
      await execIn(topo.external.netns, 'ip', ['route', 'replace', `${LB_IP}/32`, 'via', topo.node('n1').ip]);
      const r = await topo.who(topo.external.netns, `http://${LB_IP}/cgi-bin/who`);
      assert.ok(r.ok, JSON.stringify(r));
      assert.ok(['pa', 'pb', 'pc'].includes(r.pod));
    });

    it('with externalTrafficPolicy Local keeps the client IP on a node with a local endpoint and does not connect on a node without', async () => {
      const ok = await topo.who(topo.external.netns, `http://${topo.node('n2').ip}:30081/cgi-bin/who`);
      assert.ok(ok.ok, JSON.stringify(ok));
      assert.equal(ok.pod, 'pb');
      assert.equal(ok.client, topo.external.ip);
      const no = await topo.who(topo.external.netns, `http://${topo.node('n1').ip}:30081/cgi-bin/who`, 1);
      assert.equal(no.ok, false);
    });

    it('pins one client to one backend with ClientIP session affinity', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const r = await topo.who(topo.pod('pa').netns, `http://${AFF}/cgi-bin/who`);
        assert.ok(r.ok);
        seen.add(r.pod);
      }
      assert.equal(seen.size, 1, `affinity broke: ${[...seen].join(',')}`);
    });

    it('lets a pod reach itself through its Service (hairpin), masqueraded so the reply returns', async () => {
      const r = await topo.who(topo.pod('pa').netns, `http://${HAIR}/cgi-bin/who`);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.pod, 'pa');
      assert.notEqual(r.client, topo.pod('pa').ip);
    });

    it('sends pod egress to the external host from the node IP, but pod-to-pod traffic unmasqueraded', async () => {
      const out = await topo.who(topo.pod('pa').netns, `http://${topo.external.ip}/cgi-bin/who`);
      assert.ok(out.ok, JSON.stringify(out));
      assert.equal(out.client, topo.node('n1').ip);
      const inside = await topo.who(topo.pod('pa').netns, `http://${topo.pod('pb').ip}:8080/cgi-bin/who`);
      assert.ok(inside.ok);
      assert.equal(inside.client, topo.pod('pa').ip);
    });

    it('clears UDP conntrack entries pointing at a removed endpoint', async () => {
      const n1 = topo.node('n1').netns;
      await execIn(topo.pod('pa').netns, 'bash', ['-c', `echo hi >/dev/udp/${DNS}/53`]);
      const before = await execIn(n1, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', DNS]);
      assert.match(before.stdout, new RegExp(`src=${topo.pod('pb').ip.replace(/\./g, '\\.')} `), 'the flow was DNATed to pb');
      state = { ...state, dns: [{ ip: topo.pod('pc').ip, node: 'n2' }] };
      const results = await syncAll();
      assert.ok(results.every((r) => r.conntrackDeletions > 0));
      const afterList = await execIn(n1, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', DNS]);
      assert.doesNotMatch(afterList.stdout, new RegExp(`src=${topo.pod('pb').ip.replace(/\./g, '\\.')} `));
    });

    it('after scaling to zero refuses ClusterIP connections at once (partial sync, curl exit 7, no timeout)', async () => {
      state = { ...state, web: [] };
      const results = await syncAll();
      for (const r of results) assert.equal(r.kind, 'partial');
      for (const from of [topo.pod('pa').netns, topo.node('n1').netns]) {
        const r = await topo.curl(from, `http://${WEB}/`, 3);
        assert.equal(r.code, 7, `expected connection refused from ${from}, got curl exit ${r.code}`);
        assert.ok(r.ms < 1500, `refusal took ${r.ms} ms`);
      }
      // And back: the ClusterIP works again after the next partial sync.
      state = { ...state, web: [{ ip: topo.pod('pc').ip, node: 'n2' }] };
      await syncAll();
      const back = await topo.who(topo.pod('pa').netns, `http://${WEB}/cgi-bin/who`);
      assert.ok(back.ok && back.pod === 'pc');
    });

    it('renders its rules and exposes sync metrics', () => {
      const text = proxiers[0]?.renderRules() ?? '';
      assert.match(text, mode === 'nftables' ? /table ip kube-proxy/ : /KUBE-SERVICES/);
      const metrics = proxiers[0]?.metrics() ?? '';
      assert.match(metrics, /kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/);
    });
  });
}
