// Real-kernel tests: real network namespaces, real processes. Each test is bounded; every namespace,
// mount and process created here is removed in `after`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod, PodSpec, PodStatus } from '../api/types.ts';
import { PodRuntime } from './pod-runtime.ts';
import type { PodRuntimeOptions } from './pod-runtime.ts';

const suffix = Math.random().toString(36).slice(2, 8);
const cluster = `rttest-${suffix}`;
const root = mkdtempSync(join(tmpdir(), 'flatnet-runtime-'));
const netnses: string[] = [];
const runtimes: PodRuntime[] = [];
const statuses = new Map<string, PodStatus[]>();
const stateRoots: string[] = [];

function newNetns(): string {
  const name = `rt-${suffix}-${netnses.length}`;
  execFileSync('ip', ['netns', 'add', name]);
  netnses.push(name);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}

function newRuntime(extra: Partial<PodRuntimeOptions> = {}): PodRuntime {
  const stateRoot = extra.stateRoot ?? join(root, `state-${runtimes.length}`);
  stateRoots.push(stateRoot);
  const rt = new PodRuntime({
    cluster,
    clusterDNS: ['10.96.0.10'],
    logRoot: join(root, 'logs'),
    stateRoot,
    crashLoopBackoff: { initialMs: 400, maxMs: 1600 },
    imagePullBackoff: { initialMs: 400, maxMs: 1600 },
    onStatus: (uid, s) => { const l = statuses.get(uid) ?? []; l.push(s); statuses.set(uid, l); },
    ...extra,
  });
  runtimes.push(rt);
  return rt;
}

let podSeq = 0;
function pod(containers: Container[], spec: Partial<PodSpec> = {}): Pod {
  podSeq++;
  return { metadata: { name: `pod${podSeq}`, namespace: 'default', uid: `uid-${suffix}-${podSeq}` }, spec: { containers, ...spec } };
}

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${String(last)}` : ''}`);
}

function cstatus(rt: PodRuntime, uid: string, name: string) {
  return rt.getPodStatus(uid)?.containerStatuses?.find((c) => c.name === name);
}

after(async () => {
  for (const rt of runtimes) {
    for (const uid of rt.listPods()) await rt.removePod(uid, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
  for (const d of new Set(stateRoots)) {
    try { execFileSync('umount', [join(d, 'uts')], { stdio: 'ignore' }); } catch { /* not mounted */ }
  }
  for (const ns of netnses) {
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
    rmSync(join('/etc/netns', ns), { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
});

describe('pod runtime on the real kernel', { timeout: 120_000 }, () => {
  it('lets sibling containers reach each other over localhost (curl to :5000, busybox wget to nginx :80)', async () => {
    const rt = newRuntime();
    const p = pod([
      { name: 'api', image: 'hashicorp/http-echo', args: ['-text=hello from api', '-listen=:5000'] },
      { name: 'web', image: 'nginx' },
      { name: 'client', image: 'nicolaka/netshoot', command: ['sh', '-c', 'for i in $(seq 1 50); do curl -s localhost:5000 && break; sleep 0.2; done; sleep 3600'] },
      { name: 'sidecar', image: 'busybox', command: ['sh', '-c', 'for i in $(seq 1 50); do wget -qO- http://localhost:80 && break; sleep 0.2; done; sleep 3600'] },
    ]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('curl output', async () => (await rt.readLogs(uid, 'client')).includes('hello from api\n'));
    await waitFor('wget output', async () => (await rt.readLogs(uid, 'sidecar')).includes('<title>Welcome to nginx!</title>'));
    const raw = readFileSync(rt.logFile(uid, 'client'), 'utf8');
    assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z stdout F hello from api$/m);
    assert.equal(rt.getPodStatus(uid)?.phase, 'Running');
  });

  it('runs containers as uid 65534 that still bind port 80 in their netns, with the pod hostname and resolv.conf', async () => {
    const rt = newRuntime();
    const p = pod([{ name: 'web', image: 'nginx:1.25' }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns(), podIPs: ['10.244.9.9'] } });
    const uid = p.metadata.uid ?? '';
    await waitFor('nginx log', async () => (await rt.readLogs(uid, 'web')).includes('ready for start up'));
    const pid = rt.containerPid(uid, 'web') ?? -1;
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    const s = rt.exec(uid, 'web', ['sh', '-c', 'hostname; id -u; cat /etc/resolv.conf; grep 10.244.9.9 /etc/hosts; wget -qO- http://127.0.0.1:80/ | grep -c "Welcome to nginx"']);
    let out = '';
    s.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    assert.equal(await s.exitCode, 0);
    const lines = out.split('\n');
    assert.equal(lines[0], p.metadata.name);
    assert.equal(lines[1], '65534');
    assert.match(out, /nameserver 10\.96\.0\.10\n/);
    assert.match(out, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(out, /10\.244\.9\.9\tpod\d+\n/);
    assert.match(out, /^2$/m);
  });

  it('reaches CrashLoopBackOff for a crashing container, counts restarts and keeps the previous log', async () => {
    const rt = newRuntime();
    const p = pod([{ name: 'crash', image: 'busybox', command: ['sh', '-c', 'echo "run by pid $$$$"; exit 3'] }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('CrashLoopBackOff', () => statuses.get(uid)?.some((s) => s.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'));
    await waitFor('restartCount >= 2 and back in back-off', () => {
      const c = cstatus(rt, uid, 'crash');
      return c !== undefined && c.restartCount >= 2 && c.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    const c = cstatus(rt, uid, 'crash');
    assert.equal(c?.lastState?.terminated?.exitCode, 3);
    assert.equal(c?.lastState?.terminated?.reason, 'Error');
    assert.match(c?.state?.waiting?.message ?? '', /^back-off \d+(\.\d+)?(ms|s) restarting failed container=crash pod=pod\d+_default\(uid-/);
    assert.equal(rt.getPodStatus(uid)?.phase, 'Running');
    // While in back-off, current and previous both name the instance that just crashed (kubelet reads
    // lastState); the next crash moves both on to the newer instance.
    const n = c?.restartCount ?? 0;
    const crashed = await rt.readLogs(uid, 'crash', { previous: true });
    assert.match(crashed, /^run by pid \d+\n$/);
    assert.equal(await rt.readLogs(uid, 'crash'), crashed);
    await waitFor('the next crash', () => {
      const x = cstatus(rt, uid, 'crash');
      return x !== undefined && x.restartCount === n + 1 && x.state?.waiting?.reason === 'CrashLoopBackOff';
    });
    const newer = await rt.readLogs(uid, 'crash', { previous: true });
    assert.match(newer, /^run by pid \d+\n$/);
    assert.notEqual(newer, crashed);
    assert.equal(await rt.readLogs(uid, 'crash'), newer);
  });

  it('reports a crash (terminated, then CrashLoopBackOff) only once the log holds its output, even with a lagging log pump', async () => {
    // Every pump starts reading 300 ms late, as on a loaded machine where the exit is seen before the last
    // output: a status that says "terminated" or "CrashLoopBackOff" must still find the whole log on disk.
    type Seen = { restartCount: number; reason: string; log: string };
    const seen: Seen[] = [];
    let target = '';
    let rt: PodRuntime | undefined;
    rt = newRuntime({
      logPumpReadDelayMs: 300,
      onStatus: (uid, s) => {
        const c = s.containerStatuses?.[0];
        if (uid !== target || rt === undefined || c === undefined) return;
        const reason = c.state?.terminated !== undefined ? 'terminated' : c.state?.waiting?.reason ?? 'running';
        if (reason !== 'terminated' && reason !== 'CrashLoopBackOff') return;
        const file = rt.logFile(uid, 'crash');
        seen.push({ restartCount: c.restartCount, reason, log: existsSync(file) ? readFileSync(file, 'utf8') : '' });
      },
    });
    const p = pod([{ name: 'crash', image: 'busybox', command: ['sh', '-c', 'echo "run by pid $$$$"; exit 3'] }]);
    target = p.metadata.uid ?? '';
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    await waitFor('two instances seen in CrashLoopBackOff', () => new Set(seen.filter((x) => x.reason === 'CrashLoopBackOff').map((x) => x.restartCount)).size >= 2);
    for (const x of seen) assert.match(x.log, /^\S+ stdout F run by pid \d+\n$/, `instance ${x.restartCount} (${x.reason})`);
    // Each instance's output is in its own file: one line, a different pid each time.
    const pids = new Map(seen.map((x) => [x.restartCount, x.log.split(' ').pop()]));
    assert.equal(new Set(pids.values()).size, pids.size);
  });

  it('kills what is left of the container process group when the main process exits, so the log completes', async () => {
    // A background child inherits the log pipes; left alive it would keep the log open (no EOF) for 30 s.
    const rt = newRuntime({ logDrainTimeoutMs: 60_000 });
    const p = pod([{ name: 'leaver', image: 'busybox', command: ['sh', '-c', 'sleep 30 & echo "child $!"; echo bye; exit 2'] }], { restartPolicy: 'Never' });
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    const t0 = Date.now();
    await waitFor('terminated', () => cstatus(rt, uid, 'leaver')?.state?.terminated);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    assert.equal(cstatus(rt, uid, 'leaver')?.state?.terminated?.exitCode, 2);
    const log = await rt.readLogs(uid, 'leaver');
    assert.match(log, /^child \d+\nbye\n$/);
    const child = Number(/child (\d+)/.exec(log)?.[1]);
    await waitFor('background child gone', () => !existsSync(`/proc/${child}/cmdline`) || readFileSync(`/proc/${child}/cmdline`, 'utf8') === '');
    assert.equal(rt.getPodStatus(uid)?.phase, 'Failed');
  });

  it('returns the previous log at once while the restarted instance runs', async () => {
    const rt = newRuntime();
    const marker = join(root, `crashed-once-${suffix}`);
    const p = pod([{
      name: 'once', image: 'busybox', securityContext: { runAsUser: 0 },
      command: ['sh', '-c', `echo "run by pid $$$$"; [ -e ${marker} ] && exec sleep 3600; touch ${marker}; exit 1`],
    }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('restarted and running', () => {
      const c = cstatus(rt, uid, 'once');
      return c?.restartCount === 1 && c.state?.running !== undefined;
    });
    await waitFor('current log', async () => (await rt.readLogs(uid, 'once')).startsWith('run by pid'));
    const previous = await Promise.race([
      rt.readLogs(uid, 'once', { previous: true }),
      new Promise<string>((r) => setTimeout(() => r('timed out'), 3000)),
    ]);
    assert.match(previous, /^run by pid \d+\n$/);
    assert.notEqual(previous, await rt.readLogs(uid, 'once'));
  });

  it('keeps a container unready while its readiness probe fails and ready when it passes', async () => {
    const rt = newRuntime();
    const probe = (port: number) => ({ httpGet: { path: '/', port }, periodSeconds: 1, failureThreshold: 1 });
    const p = pod([
      { name: 'good', image: 'nginx', readinessProbe: probe(80) },
      { name: 'bad', image: 'registry.k8s.io/e2e-test-images/agnhost:2.39', args: ['netexec', '--http-port=8080', '--udp-port=-1'], readinessProbe: probe(8081) },
    ]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('good ready', () => cstatus(rt, uid, 'good')?.ready === true);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(cstatus(rt, uid, 'bad')?.ready, false);
    assert.ok(cstatus(rt, uid, 'bad')?.state?.running !== undefined);
    const ready = rt.getPodStatus(uid)?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.message, 'containers with unready status: [bad]');
  });

  it('terminates gracefully: SIGTERM first, SIGKILL of the process group after the grace period', async () => {
    const rt = newRuntime();
    const p = pod([
      { name: 'stubborn', image: 'busybox', command: ['sh', '-c', 'trap "echo got TERM" TERM; echo up; while true; do sleep 0.2; done'] },
      { name: 'polite', image: 'nginx' },
    ], { terminationGracePeriodSeconds: 2 });
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('up', async () => (await rt.readLogs(uid, 'stubborn')).includes('up\n'));
    // The stand-in prints "ready for start up" before it installs its SIGTERM handler; the notice line
    // comes from its listen callback, after the handler (a SIGTERM in between would give 143).
    await waitFor('nginx up', async () => /\[notice\] 1#1: nginx\//.test(await rt.readLogs(uid, 'polite')));
    const pid = rt.containerPid(uid, 'stubborn') ?? -1;
    const t0 = Date.now();
    await rt.stopPod(uid);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1900 && elapsed < 8000, `stop took ${elapsed} ms`);
    assert.equal(cstatus(rt, uid, 'stubborn')?.state?.terminated?.exitCode, 137);
    assert.equal(cstatus(rt, uid, 'polite')?.state?.terminated?.exitCode, 0);
    assert.equal(cstatus(rt, uid, 'polite')?.state?.terminated?.reason, 'Completed');
    assert.match(await rt.readLogs(uid, 'stubborn'), /got TERM/);
    assert.equal(existsSync(`/proc/${pid}`), false);
    assert.equal(rt.getPodStatus(uid)?.phase, 'Failed');
  });

  it('execs with stdin, returns the exit code, and gives a tty when asked', async () => {
    const rt = newRuntime();
    const p = pod([{ name: 'box', image: 'busybox', command: ['sleep', '3600'] }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('running', () => cstatus(rt, uid, 'box')?.state?.running !== undefined);
    const s = rt.exec(uid, 'box', ['sh', '-c', 'read line; echo "got:$line"; exit 4'], { stdin: true });
    let out = '';
    s.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    s.stdin?.end('hello\n');
    assert.equal(await s.exitCode, 4);
    assert.equal(out, 'got:hello\n');
    const t = rt.exec(uid, 'box', ['tty'], { tty: true });
    let tout = '';
    t.stdout.setEncoding('utf8').on('data', (d: string) => { tout += d; });
    t.stdin?.end();
    assert.equal(await t.exitCode, 0);
    assert.match(tout, /\/dev\/pts\/\d+/);
    assert.throws(() => rt.exec(uid, 'box', ['no-such-binary']), /executable file not found/);
  });

  it('runs a busybox applet given by bare name in exec, without a shell, with its normal output', async () => {
    const rt = newRuntime();
    const p = pod([
      { name: 'box', image: 'busybox', command: ['sleep', '3600'] },
      { name: 'web', image: 'nginx' },
    ]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('nginx listening', async () => /\[notice\] 1#1: nginx\//.test(await rt.readLogs(uid, 'web')));
    const cases: { argv: string[]; code: number; out: RegExp }[] = [
      { argv: ['wget', '-qO-', 'http://127.0.0.1:80/'], code: 0, out: /<title>Welcome to nginx!<\/title>/ },
      { argv: ['/bin/wget', '-qO-', 'http://127.0.0.1:80/'], code: 0, out: /<title>Welcome to nginx!<\/title>/ },
      { argv: ['hostname'], code: 0, out: new RegExp(`^${p.metadata.name ?? ''}\n$`) },
      { argv: ['id', '-u'], code: 0, out: /^65534\n$/ },
      { argv: ['wget', '-qO-', 'http://127.0.0.1:81/'], code: 1, out: /^$/ },
    ];
    for (const c of cases) {
      const s = rt.exec(uid, 'box', c.argv);
      let out = '';
      s.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      s.stderr.resume();
      assert.equal(await s.exitCode, c.code, c.argv.join(' '));
      assert.match(out, c.out, c.argv.join(' '));
    }
  });

  it('hands out an exec exit code only after all of the command output was delivered', async () => {
    const rt = newRuntime();
    const p = pod([{ name: 'box', image: 'busybox', command: ['sleep', '3600'] }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('running', () => cstatus(rt, uid, 'box')?.state?.running !== undefined);
    // Four concurrent loops of short execs: the exit is often seen before the last output is read.
    const short: string[] = [];
    await Promise.all([0, 1, 2, 3].map(async (k) => {
      for (let i = 0; i < 10; i++) {
        const s = rt.exec(uid, 'box', ['echo', `line ${k}.${i}`]);
        let out = '';
        s.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
        assert.equal(await s.exitCode, 0);
        if (out !== `line ${k}.${i}\n`) short.push(`${k}.${i}: ${JSON.stringify(out)}`);
      }
    }));
    assert.deepEqual(short, []);
  });

  it('reports ErrImagePull, then ImagePullBackOff, for an unknown image without a command', async () => {
    const rt = newRuntime();
    const p = pod([{ name: 'app', image: 'example.com/team/app:v1' }]);
    await rt.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('ErrImagePull', () => cstatus(rt, uid, 'app')?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(cstatus(rt, uid, 'app')?.state?.waiting?.message ?? '', /supported: busybox, nginx/);
    await waitFor('ImagePullBackOff', () => cstatus(rt, uid, 'app')?.state?.waiting?.reason === 'ImagePullBackOff');
    assert.equal(rt.getPodStatus(uid)?.phase, 'Pending');
  });

  it('adopts running containers after a runtime restart without restarting them (same pid)', async () => {
    const shared = join(root, 'state-adopt');
    const rt1 = newRuntime({ stateRoot: shared });
    const p = pod([{ name: 'long', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'] }]);
    await rt1.startPod({ pod: p, sandbox: { netns: newNetns() } });
    const uid = p.metadata.uid ?? '';
    await waitFor('running', () => cstatus(rt1, uid, 'long')?.state?.running !== undefined);
    await waitFor('ticks', async () => (await rt1.readLogs(uid, 'long')).includes('tick 2\n'));
    const pid = rt1.containerPid(uid, 'long');
    const startedAt = cstatus(rt1, uid, 'long')?.state?.running?.startedAt;
    rt1.detach();
    await new Promise((r) => setTimeout(r, 600)); // output keeps flowing into the pipe meanwhile
    const rt2 = newRuntime({ stateRoot: shared });
    assert.deepEqual(await rt2.adopt(), [uid]);
    assert.equal(rt2.containerPid(uid, 'long'), pid);
    const c = cstatus(rt2, uid, 'long');
    assert.equal(c?.restartCount, 0);
    assert.equal(c?.state?.running?.startedAt, startedAt);
    const before = (await rt2.readLogs(uid, 'long')).split('\n').length;
    await waitFor('log keeps growing under the new runtime', async () => (await rt2.readLogs(uid, 'long')).split('\n').length > before + 2);
    const ticks = (await rt2.readLogs(uid, 'long')).trim().split('\n').map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(ticks.slice(0, 5), [1, 2, 3, 4, 5]);
    await rt2.stopPod(uid, 1);
    assert.equal(existsSync(`/proc/${pid ?? -1}/stat`) && readFileSync(`/proc/${pid ?? -1}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') !== true, false);
    assert.equal(cstatus(rt2, uid, 'long')?.state?.terminated?.exitCode, 143);
  });
});
