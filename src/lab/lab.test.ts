// Real-kernel tests of the lab data plane, once per backend: 3 nodes, two pods on node a and one on node b.
// They need root and network namespaces; without them Lab.create throws and every test fails (no skips).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from './lab.ts';
import type { PodSandbox } from './lab.ts';
import { runRaw } from './exec.ts';
import { PeerEchoServer, addressesIn, capture, inNetns, ping, pingFails, randomPodNet, tcpPeerSeen, uniqueClusterName } from './test-helpers.ts';

const PORT = 8080;

async function linkJson(netns: string, args: string[]): Promise<Record<string, unknown>[]> {
  const r = await runRaw('ip', ['-n', netns, '-j', 'link', 'show', ...args]);
  assert.equal(r.code, 0, r.stderr);
  const value: unknown = JSON.parse(r.stdout || '[]');
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
}

for (const backend of ['host-gw', 'vxlan'] as const) {
  describe(`lab data plane with the ${backend} backend`, () => {
    const name = uniqueClusterName(backend === 'vxlan' ? 'lvx' : 'lhg');
    const net = randomPodNet();
    let lab: Lab;
    let createMs = 0;
    const podMs: number[] = [];
    let a1: PodSandbox;
    let a2: PodSandbox;
    let b1: PodSandbox;
    const servers: PeerEchoServer[] = [];

    before(async () => {
      const t0 = performance.now();
      lab = await Lab.create({
        name,
        backend,
        podCIDR: net.podCIDR,
        serviceCIDR: '10.96.0.0/16',
        lbPool: '192.168.251.0/28',
        nodes: [
          { name: 'a', podCIDR: net.node(1) },
          { name: 'b', podCIDR: net.node(2) },
          { name: 'c', podCIDR: net.node(3) },
        ],
      });
      createMs = performance.now() - t0;
      const make = async (node: string, uid: string, pod: string): Promise<PodSandbox> => {
        const t = performance.now();
        const sandbox = await lab.createPodSandbox(node, uid, pod, 'default');
        podMs.push(performance.now() - t);
        return sandbox;
      };
      a1 = await make('a', `a1000000-0000-4000-8000-${backend === 'vxlan' ? 'v' : 'h'}00000000001`, 'a1');
      a2 = await make('a', `a2000000-0000-4000-8000-000000000002`, 'a2');
      b1 = await make('b', `b1000000-0000-4000-8000-000000000003`, 'b1');
      for (const p of [a1, a2, b1]) servers.push(new PeerEchoServer(p.netns, PORT));
    });

    after(async () => {
      for (const s of servers) s.stop();
      if (lab !== undefined) await lab.destroy();
      else await Lab.destroyByName(name);
    });

    it('builds 3 nodes, the external and the root link within a second or two, and a pod sandbox within half a second', (t) => {
      t.diagnostic(`create ${createMs.toFixed(1)} ms; pod sandboxes ${podMs.map((m) => m.toFixed(1)).join(', ')} ms`);
      assert.ok(createMs < 2000, `create took ${createMs} ms`);
      assert.ok(Math.min(...podMs) < 500, `pod sandboxes took ${podMs.join(', ')} ms`);
    });

    it('gives nodes InternalIPs from .11 on the underlay, the external .254 and the host .1', async () => {
      const prefix = lab.underlay.replace(/\.0\/24$/, '');
      assert.equal(lab.nodeIP('a'), `${prefix}.11`);
      assert.equal(lab.nodeIP('c'), `${prefix}.13`);
      assert.equal(lab.externalIP(), `${prefix}.254`);
      assert.equal(lab.hostIP(), `${prefix}.1`);
      assert.ok((await addressesIn(lab.nodeNetns('b'))).includes(lab.nodeIP('b')));
      assert.ok((await addressesIn(lab.externalNetns())).includes(lab.externalIP()));
      assert.ok(await ping(lab.nodeNetns('c'), lab.hostIP()), 'node reaches the control plane at .1');
    });

    it("puts the IP CNI returned on each pod's eth0, a veth shown as eth0@ifN", async () => {
      for (const p of [a1, a2, b1]) {
        assert.ok((await addressesIn(p.netns)).includes(p.ip), `${p.netns} holds ${p.ip}`);
        const shown = await runRaw('ip', ['-n', p.netns, 'link', 'show', 'eth0']);
        assert.match(shown.stdout, /eth0@if[0-9]+:/);
        const [eth0] = await linkJson(p.netns, ['dev', 'eth0']);
        assert.equal(eth0?.mtu, backend === 'vxlan' ? 1450 : 1500);
      }
      assert.notEqual(a1.ip, a2.ip);
      assert.equal(a1.gateway, a2.gateway);
    });

    it("attaches each pod's node-side vethXXXX to cni0 on its node", async () => {
      for (const p of [a1, a2, b1]) {
        assert.match(p.hostVeth, /^veth[0-9a-f]{8}$/);
        const onBridge = (await linkJson(lab.nodeNetns(p.node), ['master', 'cni0'])).map((l) => l.ifname);
        assert.ok(onBridge.includes(p.hostVeth), `${p.hostVeth} on cni0 of ${p.node}: ${onBridge.join(',')}`);
      }
      const onA = await linkJson(lab.nodeNetns('a'), ['master', 'cni0']);
      assert.equal(onA.length, 2);
    });

    it('lets pods on the same node talk by ping and TCP, each seeing the other pod IP', async () => {
      assert.ok(await ping(a1.netns, a2.ip));
      assert.equal(await tcpPeerSeen(a1.netns, a2.ip, PORT), a1.ip);
      assert.equal(await tcpPeerSeen(a2.netns, a1.ip, PORT), a2.ip);
    });

    it('lets pods on different nodes talk by ping and TCP without NAT', async () => {
      assert.ok(await ping(a1.netns, b1.ip));
      assert.ok(await ping(b1.netns, a2.ip));
      assert.equal(await tcpPeerSeen(a1.netns, b1.ip, PORT), a1.ip);
      assert.equal(await tcpPeerSeen(b1.netns, a1.ip, PORT), b1.ip);
    });

    it('lets nodes reach pods on themselves and on other nodes, seen as a node address', async () => {
      for (const [node, pod] of [['a', a1], ['b', a1], ['c', b1]] as const) {
        const ns = lab.nodeNetns(node);
        assert.ok(await ping(ns, pod.ip), `${node} pings ${pod.ip}`);
        const seen = await tcpPeerSeen(ns, pod.ip, PORT);
        assert.ok(seen !== undefined && (await addressesIn(ns)).includes(seen), `${pod.ip} saw ${seen}, an address of node ${node}`);
      }
    });

    if (backend === 'vxlan') {
      it('carries cross-node pod packets in VXLAN (UDP 8472) between node IPs on the underlay', async () => {
        const lines = await capture(lab.labNetns(), 'br0', 'udp port 8472', 2, async () => {
          assert.ok(await ping(a1.netns, b1.ip));
        });
        const text = lines.join('\n');
        assert.match(text, new RegExp(`${lab.nodeIP('a').replaceAll('.', '\\.')}\\.[0-9]+ > ${lab.nodeIP('b').replaceAll('.', '\\.')}\\.8472`));
        assert.ok(text.includes(`${a1.ip} > ${b1.ip}: ICMP echo request`), text);
        assert.ok(text.includes(`${b1.ip} > ${a1.ip}: ICMP echo reply`), text);
      });

      it('gives every node a flannel.1 with MTU 1450 holding its <podCIDR>.0/32', async () => {
        for (const node of ['a', 'b', 'c']) {
          const [dev] = await linkJson(lab.nodeNetns(node), ['dev', 'flannel.1']);
          assert.equal(dev?.mtu, 1450);
          assert.ok((await addressesIn(lab.nodeNetns(node))).includes(lab.nodePodCIDR(node).replace(/\/24$/, '')));
        }
      });
    } else {
      it('carries cross-node pod packets as plain routed pod packets, with no VXLAN', async () => {
        const lines = await capture(lab.labNetns(), 'br0', 'icmp or udp port 8472', 2, async () => {
          assert.ok(await ping(a1.netns, b1.ip));
        });
        const text = lines.join('\n');
        assert.ok(text.includes(`${a1.ip} > ${b1.ip}: ICMP echo request`), text);
        assert.ok(!text.includes('8472'), text);
        const routes = await runRaw('ip', ['-n', lab.nodeNetns('a'), 'route', 'show', net.node(2)]);
        assert.match(routes.stdout, new RegExp(`via ${lab.nodeIP('b').replaceAll('.', '\\.')} dev eth0`));
      });
    }

    it('routes node Pod CIDRs from the root namespace into the lab and makes other cluster addresses unreachable', async () => {
      const get = async (ip: string): Promise<{ code: number; out: string }> => {
        const r = await runRaw('ip', ['route', 'get', ip]);
        return { code: r.code, out: r.stdout + r.stderr };
      };
      const toPod = await get(b1.ip);
      assert.equal(toPod.code, 0);
      assert.match(toPod.out, new RegExp(`via ${lab.nodeIP('b').replaceAll('.', '\\.')} dev ${lab.hostLink()} `));
      assert.ok(await ping(a1.netns, lab.hostIP()), 'a pod reaches the host (control plane) address');
      for (const ip of [net.podCIDR.replace(/0\.0\/16$/, '200.7'), '10.96.0.10', '192.168.251.3']) {
        const r = await get(ip);
        assert.notEqual(r.code, 0, `${ip} must be unreachable from the root namespace: ${r.out}`);
        assert.match(r.out, /No route to host/, 'an unreachable route answers EHOSTUNREACH');
      }
      const unreachable = await runRaw('ip', ['route', 'show', 'type', 'unreachable', 'proto', '241']);
      for (const cidr of [net.podCIDR, '10.96.0.0/16', '192.168.251.0/28']) assert.ok(unreachable.stdout.includes(cidr), unreachable.stdout);
    });

    it('leaves nothing to change when routes are synced again', async () => {
      assert.deepEqual(await lab.syncRoutes(), { changes: 0 });
    });

    it('keeps pods from reaching anything beyond the lab (the external does not forward)', async () => {
      // Egress SNAT is kube-proxy's job, not the lab's: without it the external has no route back to a pod.
      assert.ok(await pingFails(a1.netns, lab.externalIP()), 'no SNAT here: the external cannot answer a pod IP');
      const r = await inNetns(lab.externalNetns(), 'sysctl', ['-n', 'net.ipv4.ip_forward']);
      assert.equal(r.stdout.trim(), '0');
      assert.ok(await ping(lab.nodeNetns('a'), lab.externalIP()), 'a node reaches the external directly');
    });
  });
}
