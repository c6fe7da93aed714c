// Real-kernel lifecycle tests of the lab: clusters side by side, nodes joining and leaving, drift repair,
// CNI CHECK/DEL from the on-disk cache after a "restart" (adopt), port mappings, and complete teardown.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Lab, LAB_RUN_DIR } from './lab.ts';
import { LabError } from './core/errors.ts';
import { runRaw } from './exec.ts';
import { PeerEchoServer, ping, pingFails, randomPodNet, tcpPeerSeen, uniqueClusterName } from './test-helpers.ts';

const made = new Set<string>();
const servers: PeerEchoServer[] = [];

async function createLab(name: string, backend: 'host-gw' | 'vxlan', nodes: string[], extra: { lbPool?: string } = {}) {
  const net = randomPodNet();
  made.add(name);
  const lab = await Lab.create({
    name,
    backend,
    podCIDR: net.podCIDR,
    serviceCIDR: '10.97.0.0/16',
    nodes: nodes.map((n, i) => ({ name: n, podCIDR: net.node(i + 1) })),
    ...extra,
  });
  return { lab, net };
}

async function netnsNames(): Promise<string[]> {
  const r = await runRaw('ip', ['-j', 'netns', 'list']);
  const value: unknown = JSON.parse(r.stdout || '[]');
  return (Array.isArray(value) ? value : []).map((e: unknown) => String((e as { name?: unknown }).name));
}

/** Nothing of the cluster remains: namespaces, root link, root routes of its slot, nft table, files, slot claim. */
async function assertGone(name: string, slot: number, podCIDR: string): Promise<void> {
  const left = (await netnsNames()).filter((n) => n.startsWith(`fn-${name}-`));
  assert.deepEqual(left, [], `namespaces left: ${left.join(', ')}`);
  assert.notEqual((await runRaw('ip', ['link', 'show', 'dev', `fn-${name}`])).code, 0, 'root link left');
  const routes = await runRaw('ip', ['route', 'show']);
  assert.ok(!routes.stdout.includes(`fn-${name} `), routes.stdout);
  assert.ok(!routes.stdout.includes(`metric ${4000 + slot} `) && !routes.stdout.includes(podCIDR), routes.stdout);
  const tables = await runRaw('nft', ['list', 'tables']);
  assert.ok(!tables.stdout.includes(`flatnet-${name}\n`), tables.stdout);
  assert.equal(existsSync(`${LAB_RUN_DIR}/${name}`), false, 'state directory left');
  const claims = existsSync(`${LAB_RUN_DIR}/slots`) ? readdirSync(`${LAB_RUN_DIR}/slots`) : [];
  assert.ok(!claims.includes(String(slot)) || slotOwnedByOther(slot, name), `slot ${slot} still claimed`);
}

function slotOwnedByOther(slot: number, name: string): boolean {
  try {
    return readFileSync(`${LAB_RUN_DIR}/slots/${slot}`, 'utf8').trim() !== name;
  } catch {
    return true;
  }
}

describe('lab lifecycle', () => {
  after(async () => {
    for (const s of servers) s.stop();
    for (const name of made) await Lab.destroyByName(name);
  });

  it('runs two clusters side by side on distinct underlays, isolated from each other, and destroys them one by one', async () => {
    const [x, y] = await Promise.all([
      createLab(uniqueClusterName('lsa'), 'vxlan', ['a', 'b']),
      createLab(uniqueClusterName('lsb'), 'host-gw', ['a', 'b']),
    ]);
    assert.notEqual(x.lab.slot, y.lab.slot);
    assert.notEqual(x.lab.underlay, y.lab.underlay);
    const pods = await Promise.all([
      x.lab.createPodSandbox('a', 'aaaa0001-x', 'p1', 'default'),
      x.lab.createPodSandbox('b', 'bbbb0001-x', 'p2', 'default'),
      y.lab.createPodSandbox('a', 'aaaa0001-y', 'p1', 'default'),
      y.lab.createPodSandbox('b', 'bbbb0001-y', 'p2', 'default'),
    ]);
    const [xa, xb, ya, yb] = pods;
    assert.ok(xa && xb && ya && yb);
    assert.ok(await ping(xa.netns, xb.ip));
    assert.ok(await ping(ya.netns, yb.ip));
    assert.ok(await pingFails(xa.netns, y.lab.nodeIP('a')), 'a pod of one cluster cannot reach the other cluster underlay');
    assert.ok(await pingFails(x.lab.nodeNetns('a'), y.lab.hostIP()), 'a node cannot reach the other cluster host link');
    const xSlot = x.lab.slot;
    await x.lab.destroy();
    await assertGone(x.lab.name, xSlot, x.net.podCIDR);
    assert.ok(await ping(ya.netns, yb.ip), 'the other cluster keeps working');
    const ySlot = y.lab.slot;
    await y.lab.destroy();
    await y.lab.destroy(); // twice is fine
    await assertGone(y.lab.name, ySlot, y.net.podCIDR);
  });

  it('keeps the host from forwarding lab traffic with an nft drop rule on the root link', async () => {
    const { lab } = await createLab(uniqueClusterName('lnf'), 'host-gw', ['a']);
    const table = await runRaw('nft', ['list', 'table', 'inet', `flatnet-${lab.name}`]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /hook forward/);
    assert.match(table.stdout, new RegExp(`iifname "fn-${lab.name}" drop`));
    assert.match(table.stdout, new RegExp(`oifname "fn-${lab.name}" drop`));
    await lab.destroy();
  });

  it('converges every node when nodes join and leave', async () => {
    const { lab, net } = await createLab(uniqueClusterName('ljl'), 'vxlan', ['a', 'b']);
    const pa = await lab.createPodSandbox('a', 'join0001-a', 'pa', 'default');
    await lab.createPodSandbox('b', 'join0001-b', 'pb', 'default');
    const c = await lab.addNode({ name: 'c', podCIDR: net.node(3) });
    assert.equal(c.ip, lab.underlay.replace(/0\/24$/, '13'));
    const pc = await lab.createPodSandbox('c', 'join0001-c', 'pc', 'default');
    assert.ok(await ping(pa.netns, pc.ip), 'a pod on the joined node is reachable');
    assert.ok(await ping(pc.netns, pa.ip));

    await lab.removeNode('b');
    const routes = await runRaw('ip', ['-n', lab.nodeNetns('a'), 'route', 'show']);
    assert.ok(!routes.stdout.includes(net.node(2)), routes.stdout);
    assert.ok(routes.stdout.includes(net.node(3)), routes.stdout);
    const neigh = await runRaw('ip', ['-n', lab.nodeNetns('a'), 'neigh', 'show', 'dev', 'flannel.1']);
    assert.ok(!neigh.stdout.includes(net.node(2).replace(/\/24$/, '')), neigh.stdout);
    const fdb = await runRaw('bridge', ['-n', lab.nodeNetns('a'), 'fdb', 'show', 'dev', 'flannel.1']);
    assert.ok(!fdb.stdout.includes(lab.underlay.replace(/0\/24$/, '12')), fdb.stdout);
    assert.ok(fdb.stdout.includes(lab.nodeIP('c')), fdb.stdout);
    const root = await runRaw('ip', ['route', 'show', net.node(2)]);
    assert.equal(root.stdout.trim(), '', 'the root route to the removed node Pod CIDR is gone');
    const names = await netnsNames();
    assert.ok(!names.includes(`fn-${lab.name}-b`) && !names.includes(lab.podNetns('join0001-b')), names.join(','));
    assert.ok(await ping(pa.netns, pc.ip));
    assert.deepEqual(await lab.syncRoutes(), { changes: 0 });

    const d = await lab.addNode({ name: 'd', podCIDR: net.node(4) });
    assert.equal(d.ip, lab.underlay.replace(/0\/24$/, '12'), 'the freed address is reused');
    await lab.destroy();
  });

  it('repairs drift: a deleted route comes back and a stray lab-tagged route goes', async () => {
    const { lab, net } = await createLab(uniqueClusterName('ldr'), 'host-gw', ['a', 'b']);
    const ns = lab.nodeNetns('a');
    assert.equal((await runRaw('ip', ['-n', ns, 'route', 'del', net.node(2)])).code, 0);
    assert.equal((await runRaw('ip', ['-n', ns, 'route', 'add', '10.250.9.0/24', 'via', lab.nodeIP('b'), 'proto', '241'])).code, 0);
    const report = await lab.syncRoutes();
    assert.equal(report.changes, 2);
    const routes = await runRaw('ip', ['-n', ns, 'route', 'show']);
    assert.ok(routes.stdout.includes(`${net.node(2)} via ${lab.nodeIP('b')}`), routes.stdout);
    assert.ok(!routes.stdout.includes('10.250.9.0/24'), routes.stdout);
    assert.deepEqual(await lab.syncRoutes(), { changes: 0 });
    await lab.destroy();
  });

  it('checks and deletes a sandbox after a restart using the cached CNI result, and DEL is idempotent', async () => {
    const { lab } = await createLab(uniqueClusterName('lck'), 'vxlan', ['a']);
    const uid = 'c0ffee00-1111-4222-8333-444455556666';
    const pod = await lab.createPodSandbox('a', uid, 'web', 'shop');
    const again = await lab.createPodSandbox('a', uid, 'web', 'shop');
    assert.equal(again.ip, pod.ip, 'creating the same sandbox twice returns the existing one');

    const adopted = await Lab.adopt(lab.name);
    assert.equal(adopted.nodeIP('a'), lab.nodeIP('a'));
    await adopted.checkPodSandbox('a', uid);
    const cache = `${adopted.cniCacheDir('a')}/flatnet-${uid}-eth0`;
    assert.ok(existsSync(cache));
    const listed = await adopted.listPodSandboxes('a');
    assert.deepEqual(listed.map((p) => p.ip), [pod.ip]);

    assert.equal((await runRaw('ip', ['-n', pod.netns, 'addr', 'flush', 'dev', 'eth0'])).code, 0);
    await assert.rejects(adopted.checkPodSandbox('a', uid), (e: unknown) => e instanceof LabError && e.code === 'CniFailed');

    const ipFile = `${LAB_RUN_DIR}/${lab.name}/a/cni/networks/flatnet/${pod.ip}`;
    assert.ok(existsSync(ipFile), 'host-local recorded the address');
    await adopted.deletePodSandbox('a', uid);
    assert.equal(existsSync(ipFile), false, 'DEL released the address');
    assert.equal(existsSync(cache), false, 'DEL removed the cache');
    assert.ok(!(await netnsNames()).includes(pod.netns));
    const onBridge = await runRaw('ip', ['-n', lab.nodeNetns('a'), 'link', 'show', 'master', 'cni0']);
    assert.ok(!onBridge.stdout.includes(pod.hostVeth), onBridge.stdout);
    await adopted.deletePodSandbox('a', uid);
    await assert.rejects(adopted.checkPodSandbox('a', uid), (e: unknown) => e instanceof LabError && e.code === 'NotFound');
    const back = await adopted.createPodSandbox('a', uid, 'web', 'shop');
    assert.ok(back.ip.startsWith(lab.nodePodCIDR('a').replace(/0\/24$/, '')), back.ip);
    await adopted.checkPodSandbox('a', uid);
    await adopted.destroy();
  });

  it('maps a hostPort on the node to the pod through the portmap plugin', async () => {
    const { lab } = await createLab(uniqueClusterName('lpm'), 'host-gw', ['a']);
    const pod = await lab.createPodSandbox('a', 'port0001-a', 'web', 'default', {
      portMappings: [{ hostPort: 30080, containerPort: 8080, protocol: 'tcp' }],
    });
    servers.push(new PeerEchoServer(pod.netns, 8080));
    assert.equal(await tcpPeerSeen(lab.externalNetns(), lab.nodeIP('a'), 30080), lab.externalIP());
    await lab.deletePodSandbox('a', 'port0001-a');
    await lab.destroy();
  });

  it('refuses a second cluster of the same name and an unknown adopt, leaving the first intact', async () => {
    const name = uniqueClusterName('ldu');
    const { lab } = await createLab(name, 'host-gw', ['a']);
    await assert.rejects(createLab(name, 'host-gw', ['a']), (e: unknown) => e instanceof LabError && e.code === 'AlreadyExists');
    assert.ok(await ping(lab.nodeNetns('a'), lab.hostIP()));
    await assert.rejects(Lab.adopt(uniqueClusterName('lnone')), (e: unknown) => e instanceof LabError && e.code === 'NotFound');
    await lab.destroy();
  });

  it('never removes another cluster whose namespace names share the prefix, even on a name collision', async () => {
    const base = uniqueClusterName('lp').slice(0, 8);
    const { lab: first } = await createLab(base, 'host-gw', ['q-a']);
    // fn-<base>-q-a is node q-a of the first cluster and would be node a of cluster <base>-q.
    await assert.rejects(createLab(`${base}-q`, 'host-gw', ['a']), (e: unknown) => e instanceof LabError);
    assert.ok(await ping(first.nodeNetns('q-a'), first.hostIP()), 'the failed create left the first cluster alone');
    const { lab: second } = await createLab(`${base}-q`, 'host-gw', ['b']);
    await Lab.destroyByName(base);
    assert.ok(await ping(second.nodeNetns('b'), second.hostIP()), 'destroying the first cluster left the second alone');
    await second.destroy();
  });

  it('cleans up by name after a crash: no state files, a process still running in a pod', async () => {
    const { lab, net } = await createLab(uniqueClusterName('lcr'), 'vxlan', ['a', 'b']);
    const pod = await lab.createPodSandbox('b', 'crash001-b', 'p', 'default');
    const sleeper = spawn('ip', ['netns', 'exec', pod.netns, 'sleep', '30'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => sleeper.on('exit', () => resolve()));
    const slot = lab.slot;
    await runRaw('rm', ['-rf', `${LAB_RUN_DIR}/${lab.name}`]);
    await Lab.destroyByName(lab.name);
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('process in the pod survived')), 3000))]);
    await assertGone(lab.name, slot, net.podCIDR);
    await Lab.destroyByName(lab.name);
  });
});
