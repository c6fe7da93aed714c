// Test/bench helper (shell): a hand-built lab like docs' kernel recipe, no CNI. An underlay bridge in a
// "fabric" namespace; node namespaces with eth0 on it, a cni0 bridge for their pod CIDR and host-gw
// routes to each other; pod namespaces on a node's cni0 running busybox httpd with a CGI that answers
// "<pod> <client address>"; an "external" namespace on the underlay (also the nodes' default gateway).
// Every name carries a random suffix; destroy() removes all of it.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execIn } from './exec.ts';

export interface LabPod { readonly name: string; readonly netns: string; readonly ip: string; readonly node: string }
export interface LabNode { readonly name: string; readonly netns: string; readonly ip: string; readonly podCIDR: string; readonly gateway: string }

async function must(netns: string | undefined, cmd: string, args: readonly string[]): Promise<string> {
  const r = await execIn(netns, cmd, args, { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`${netns ?? '(root)'}: ${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface TopologySpec {
  /** Pods per node index (1-based nodes): e.g. { 1: ['pa'], 2: ['pb', 'pc'] }. */
  readonly pods: Readonly<Record<number, readonly string[]>>;
  readonly nodes: number;
}

export class Topology {
  readonly suffix = Math.random().toString(16).slice(2, 8);
  readonly fabric = `fx-${this.suffix}`;
  readonly external = { netns: `ext-${this.suffix}`, ip: '192.168.50.100' };
  readonly clusterCIDR = '10.244.0.0/16';
  readonly serviceCIDR = '10.96.0.0/12';
  readonly nodes: LabNode[] = [];
  readonly pods: LabPod[] = [];
  private readonly namespaces: string[] = [];
  private readonly www = mkdtempSync(join(tmpdir(), 'flatnet-proxy-www-'));

  node(name: string): LabNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  pod(name: string): LabPod {
    const p = this.pods.find((x) => x.name === name);
    if (p === undefined) throw new Error(`no pod ${name}`);
    return p;
  }

  private async addNetns(name: string): Promise<void> {
    await must(undefined, 'ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await must(name, 'ip', ['link', 'set', 'lo', 'up']);
  }

  private async httpd(netns: string, who: string, port: number): Promise<void> {
    const dir = join(this.www, who);
    mkdirSync(join(dir, 'cgi-bin'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), `${who}\n`);
    writeFileSync(join(dir, 'cgi-bin', 'who'), `#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "${who} $REMOTE_ADDR"\n`);
    chmodSync(join(dir, 'cgi-bin', 'who'), 0o755);
    await must(netns, 'busybox', ['httpd', '-p', String(port), '-h', dir]);
  }

  async create(spec: TopologySpec): Promise<void> {
    await this.addNetns(this.fabric);
    await must(this.fabric, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await must(this.fabric, 'ip', ['link', 'set', 'br0', 'up']);
    const plug = async (netns: string, port: string, cidr: string) => {
      await must(undefined, 'ip', ['link', 'add', 'eth0', 'netns', netns, 'type', 'veth', 'peer', 'name', port, 'netns', this.fabric]);
      await must(this.fabric, 'ip', ['link', 'set', port, 'master', 'br0', 'up']);
      await must(netns, 'ip', ['addr', 'add', cidr, 'dev', 'eth0']);
      await must(netns, 'ip', ['link', 'set', 'eth0', 'up']);
    };
    await this.addNetns(this.external.netns);
    await plug(this.external.netns, 'ext', `${this.external.ip}/24`);
    for (let i = 1; i <= spec.nodes; i++) {
      const node: LabNode = { name: `n${i}`, netns: `n${i}-${this.suffix}`, ip: `192.168.50.${10 + i}`, podCIDR: `10.244.${i}.0/24`, gateway: `10.244.${i}.1` };
      this.nodes.push(node);
      await this.addNetns(node.netns);
      await plug(node.netns, `n${i}`, `${node.ip}/24`);
      await must(node.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      await must(node.netns, 'ip', ['link', 'add', 'cni0', 'type', 'bridge']);
      await must(node.netns, 'ip', ['addr', 'add', `${node.gateway}/24`, 'dev', 'cni0']);
      await must(node.netns, 'ip', ['link', 'set', 'cni0', 'up']);
      await must(node.netns, 'ip', ['route', 'add', 'default', 'via', this.external.ip]);
      let podIndex = 2;
      for (const podName of spec.pods[i] ?? []) {
        const pod: LabPod = { name: podName, netns: `${podName}-${this.suffix}`, ip: `10.244.${i}.${podIndex}`, node: node.name };
        const hostIf = `veth${podIndex}`;
        podIndex++;
        this.pods.push(pod);
        await this.addNetns(pod.netns);
        await must(undefined, 'ip', ['link', 'add', 'eth0', 'netns', pod.netns, 'type', 'veth', 'peer', 'name', hostIf, 'netns', node.netns]);
        await must(node.netns, 'ip', ['link', 'set', hostIf, 'master', 'cni0', 'up']);
        await must(node.netns, 'bridge', ['link', 'set', 'dev', hostIf, 'hairpin', 'on']);
        await must(pod.netns, 'ip', ['addr', 'add', `${pod.ip}/24`, 'dev', 'eth0']);
        await must(pod.netns, 'ip', ['link', 'set', 'eth0', 'up']);
        await must(pod.netns, 'ip', ['route', 'add', 'default', 'via', node.gateway]);
        await this.httpd(pod.netns, pod.name, 8080);
      }
    }
    // host-gw routes between nodes
    for (const a of this.nodes) for (const b of this.nodes) {
      if (a !== b) await must(a.netns, 'ip', ['route', 'add', b.podCIDR, 'via', b.ip]);
    }
    await this.httpd(this.external.netns, 'external', 80);
  }

  /** `curl` from a namespace; returns curl's exit code, the body and the elapsed time. */
  async curl(netns: string, url: string, maxSeconds = 2): Promise<{ code: number; body: string; ms: number }> {
    const t = performance.now();
    const r = await execIn(netns, 'curl', ['-s', '-m', String(maxSeconds), url], { timeoutMs: (maxSeconds + 5) * 1000 });
    return { code: r.code, body: r.stdout.trim(), ms: performance.now() - t };
  }

  /** Asks `who` through url; returns [pod name, client address as the pod saw it] or the curl failure. */
  async who(netns: string, url: string, maxSeconds = 2): Promise<{ ok: true; pod: string; client: string } | { ok: false; code: number; ms: number }> {
    const r = await this.curl(netns, url, maxSeconds);
    if (r.code !== 0) return { ok: false, code: r.code, ms: r.ms };
    const [pod = '', addr = ''] = r.body.split(/\s+/);
    return { ok: true, pod, client: addr.replace(/^\[(::ffff:)?/, '').replace(/\]$/, '') };
  }

  async destroy(): Promise<void> {
    for (const ns of [...this.namespaces].reverse()) {
      const pids = await execIn(undefined, 'ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
      for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      await execIn(undefined, 'ip', ['netns', 'del', ns]).catch(() => undefined);
    }
    rmSync(this.www, { recursive: true, force: true });
  }
}
