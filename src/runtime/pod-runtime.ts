// flatnet's light pod runtime (shell): a Pod's containers are processes in the pod's network namespace.
//
// Launch chain of every container process (each step execs the next, so the pid is the program's):
//   ip netns exec <netns>            → joins the netns, new mount namespace with /etc/netns/<netns>/{resolv.conf,hosts}
//   nsenter --uts=<pod uts file> --  → the pod's UTS namespace (its hostname)
//   setpriv --reuid … --regid …      → the container identity and capability bounding set
//   <program> args…                  → a busybox applet, a flatnet program (node), or a host file
// The process is its own session/process group (detached), so termination signals the whole group.
// Decisions (back-off, probe thresholds, phase, conditions, env, DNS files, identity) live in ./core.
import { randomBytes, createHash } from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import type { Condition, Container, ContainerStatus, Pod, PodStatus, Probe, ProbeHandler } from '../api/types.ts';
import { resolveLaunch, BUSYBOX_PATH_TOKEN } from '../images/image-table.ts';
import type { ResolvedLaunch } from '../images/image-table.ts';
import { prepareImages } from '../images/install.ts';
import type { PreparedImages } from '../images/install.ts';
import { UPSTREAM_CRASHLOOP_BACKOFF, UPSTREAM_IMAGE_PULL_BACKOFF, crashLoopMessage, decideRestart, nextEntry } from './core/backoff.ts';
import type { BackoffConfig, BackoffEntry } from './core/backoff.ts';
import { renderForClient } from './core/cri-log.ts';
import type { LogRecord } from './core/cri-log.ts';
import { parseResolvConf, podResolvConf, renderHostsFile, renderResolvConf, utsHostname } from './core/dns-files.ts';
import { containerEnv, expandCommand } from './core/env.ts';
import type { EnvSources } from './core/env.ts';
import { applyProbeOutcome, initialProbeState, probeAction, probeTiming, resolveProbePort } from './core/probe.ts';
import type { ProbeKind, ProbeState, ProbeTiming } from './core/probe.ts';
import { exitCodeForSignal, podConditions, podPhase, shouldRestart, terminatedReason } from './core/pod-status.ts';
import { containerIdentity, setprivArgs } from './core/security.ts';
import type { ProcessIdentity } from './core/security.ts';
import { ContainerLogPump, ensureFifo, openFifoForChild, streamLogFile } from './logs.ts';
import type { LogEntry } from './logs.ts';
import { netnsHelperProbeExecutor, runHelper } from './probe-executor.ts';
import type { ProbeExecutor, ProbeRun } from './probe-executor.ts';
import { procInfo, processAlive } from './proc.ts';
import { RuntimeError } from './runtime-errors.ts';

// ------------------------------------------------------------------------------------------ public API

export interface PodSandbox {
  /** Name of an existing network namespace (/var/run/netns/<netns>). */
  netns: string;
  podIPs?: string[];
  hostIP?: string;
  nodeName?: string;
}

export interface StartPodRequest {
  /** The pod as stored in the API (metadata.uid, namespace, name and spec are required). */
  pod: Pod;
  sandbox: PodSandbox;
  /** ConfigMaps/Secrets/service variables for env resolution. */
  env?: Omit<EnvSources, 'podIP' | 'podIPs' | 'hostIP' | 'nodeName'>;
}

export interface PodRuntimeOptions {
  cluster: string;
  clusterDomain?: string;
  /** Cluster DNS service IPs (ClusterFirst nameservers). */
  clusterDNS?: string[];
  /** resolv.conf used for dnsPolicy Default and host search domains (default /etc/resolv.conf). */
  hostResolvConf?: string;
  logRoot?: string;
  stateRoot?: string;
  /** Where `ip netns exec` looks for per-netns /etc files (default /etc/netns). */
  etcNetnsRoot?: string;
  imagesRoot?: string;
  crashLoopBackoff?: BackoffConfig;
  imagePullBackoff?: BackoffConfig;
  probeExecutor?: ProbeExecutor;
  onStatus?: (podUid: string, status: PodStatus) => void;
  /** Identity for containers without runAsUser (default 65534:65534). */
  defaultUser?: { uid: number; gid: number };
  /** Give each pod its own UTS namespace with its hostname (default true). */
  utsNamespaces?: boolean;
  /** Poll period for adopted processes (default 1000 ms). */
  adoptPollMs?: number;
  /**
   * Longest wait, after a container's main process exited, for its log pipes to drain before the
   * termination is reported anyway (only a process that left the container's process group can hold
   * them open that long). Default 5000 ms.
   */
  logDrainTimeoutMs?: number;
  /** Testing aid: delay before each log pump starts reading (simulates a loaded machine). Default 0. */
  logPumpReadDelayMs?: number;
  now?: () => number;
}

export interface ExecOptions {
  stdin?: boolean;
  tty?: boolean;
  /** Extra environment for this exec only. */
  env?: Record<string, string>;
}

export interface ExecSession {
  pid: number;
  stdin: Writable | null;
  stdout: Readable;
  /** With a tty stderr is merged into stdout and this stream ends empty. */
  stderr: Readable;
  exitCode: Promise<number>;
  /** Signal the exec'd process group. */
  kill(signal?: NodeJS.Signals): void;
}

export interface AttachSession {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  detach(): void;
}

export interface LogOptions {
  previous?: boolean;
  follow?: boolean;
  timestamps?: boolean;
  tailLines?: number;
  sinceTime?: string;
  limitBytes?: number;
  signal?: AbortSignal;
}

// ------------------------------------------------------------------------------------------- internals

interface ExitInfo {
  exitCode: number;
  reason?: string;
  message?: string;
  finishedAtMs: number;
}

interface Instance {
  restart: number;
  pid: number;
  startTicks: string;
  containerId: string;
  startedAtMs: number;
  child?: ChildProcess;
  pump?: ContainerLogPump;
  stdin?: Writable;
  /**
   * The main process is gone (reaped, or found dead by the adoption poller); its log may still be
   * draining. Nothing may signal its pid any more.
   */
  gone?: ExitInfo;
  /** The termination is recorded and reported (after the log drained): `exitPromise` has resolved. */
  exited: boolean;
  exitPromise: Promise<void>;
  resolveExit: () => void;
  lastSignal?: NodeJS.Signals;
  killTimer?: NodeJS.Timeout;
}

interface ProbeRt {
  kind: ProbeKind;
  probe: Probe;
  timing: ProbeTiming;
  state: ProbeState;
  timer?: NodeJS.Timeout;
}

interface Ctr {
  spec: Container;
  init: boolean;
  status: ContainerStatus;
  instance?: Instance;
  /** The instance before `instance` (its log is the "previous" one while `instance` runs). */
  previous?: Instance;
  /** Exact exit time of the last termination (the API's finishedAt has whole seconds only). */
  lastFinishedMs?: number;
  backoff?: BackoffEntry;
  pullBackoff?: BackoffEntry;
  timer?: NodeJS.Timeout;
  probes: ProbeRt[];
  everRan: boolean;
  starting: boolean;
  /** Stopped by the runtime (liveness/startup failure or pod stop): exit code comes from our signal. */
}

interface PodRt {
  uid: string;
  pod: Pod;
  sandbox: PodSandbox;
  envSources: StartPodRequest['env'];
  init: Ctr[];
  main: Ctr[];
  conditions: Condition[];
  startTime: string;
  hostname: string;
  utsFile?: string;
  terminating: boolean;
  stopped: boolean;
  removed: boolean;
  emitQueued: boolean;
  stopPromise?: Promise<void>;
}

interface SavedContainer {
  name: string;
  init: boolean;
  status: ContainerStatus;
  backoff?: BackoffEntry;
  pullBackoff?: BackoffEntry;
  everRan: boolean;
  lastFinishedMs?: number;
  instance?: { restart: number; pid: number; startTicks: string; containerId: string; startedAtMs: number; exited: boolean };
}

interface SavedPod {
  version: 1;
  pod: Pod;
  sandbox: PodSandbox;
  env?: StartPodRequest['env'];
  startTime: string;
  hostname: string;
  utsFile?: string;
  terminating: boolean;
  stopped: boolean;
  conditions: Condition[];
  containers: SavedContainer[];
}

function tool(name: string): string {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return name;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const UNKNOWN_EXIT = 255;
/** How long an exec's exit code waits for its output pipes to close after the process exited. */
const EXEC_OUTPUT_DRAIN_MS = 2000;

interface Launch {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  identity: ProcessIdentity;
  resolved: ResolvedLaunch;
}

type LaunchFailure = { ok: false; reason: string; message: string; kind: 'waiting' | 'start-error' | 'pull' };

export class PodRuntime {
  private readonly opts: Required<Omit<PodRuntimeOptions, 'onStatus' | 'defaultUser'>> & Pick<PodRuntimeOptions, 'onStatus' | 'defaultUser'>;
  private readonly pods = new Map<string, PodRt>();
  private images?: PreparedImages;
  private readonly bin = { ip: tool('ip'), nsenter: tool('nsenter'), setpriv: tool('setpriv'), unshare: tool('unshare'), script: tool('script'), mount: tool('mount'), umount: tool('umount'), sysctl: tool('sysctl') };
  private pollTimer?: NodeJS.Timeout;
  private readonly adopted = new Map<string, { p: PodRt; c: Ctr; inst: Instance }>();
  private detached = false;
  private utsDirReady = false;

  constructor(options: PodRuntimeOptions) {
    const cluster = options.cluster;
    this.opts = {
      cluster,
      clusterDomain: options.clusterDomain ?? 'cluster.local',
      clusterDNS: options.clusterDNS ?? [],
      hostResolvConf: options.hostResolvConf ?? '/etc/resolv.conf',
      logRoot: options.logRoot ?? `/var/log/flatnet/${cluster}/pods`,
      stateRoot: options.stateRoot ?? `/run/flatnet/${cluster}/runtime`,
      etcNetnsRoot: options.etcNetnsRoot ?? '/etc/netns',
      imagesRoot: options.imagesRoot ?? '/run/flatnet/images',
      crashLoopBackoff: options.crashLoopBackoff ?? UPSTREAM_CRASHLOOP_BACKOFF,
      imagePullBackoff: options.imagePullBackoff ?? UPSTREAM_IMAGE_PULL_BACKOFF,
      probeExecutor: options.probeExecutor ?? netnsHelperProbeExecutor,
      onStatus: options.onStatus,
      defaultUser: options.defaultUser,
      utsNamespaces: options.utsNamespaces ?? true,
      adoptPollMs: options.adoptPollMs ?? 1000,
      logDrainTimeoutMs: options.logDrainTimeoutMs ?? 5000,
      logPumpReadDelayMs: options.logPumpReadDelayMs ?? 0,
      now: options.now ?? Date.now,
    };
  }

  // ---------------------------------------------------------------------------------------- pods

  /** Start a pod's containers (idempotent: a known pod uid only has its sandbox addresses refreshed). */
  async startPod(req: StartPodRequest): Promise<void> {
    const uid = req.pod.metadata.uid;
    if (uid === undefined || uid === '' || req.pod.metadata.name === undefined || req.pod.spec === undefined) {
      throw new RuntimeError('PodNotFound', 'pod needs metadata.uid, metadata.name and spec');
    }
    const known = this.pods.get(uid);
    if (known !== undefined) {
      known.sandbox = { ...known.sandbox, ...req.sandbox };
      this.changed(known);
      return;
    }
    if (!existsSync(this.netnsPath(req.sandbox.netns))) {
      throw new RuntimeError('SandboxNotFound', `network namespace ${req.sandbox.netns} does not exist`);
    }
    this.images ??= prepareImages(this.opts.imagesRoot);
    const pod = structuredClone(req.pod);
    const spec = pod.spec;
    if (spec === undefined) throw new RuntimeError('PodNotFound', 'pod has no spec');
    const ns = pod.metadata.namespace ?? 'default';
    const p: PodRt = {
      uid,
      pod,
      sandbox: { ...req.sandbox },
      envSources: req.env,
      init: (spec.initContainers ?? []).map((c) => this.newCtr(c, true, spec.initContainers !== undefined && spec.initContainers.length > 0)),
      main: spec.containers.map((c) => this.newCtr(c, false, (spec.initContainers ?? []).length > 0)),
      conditions: [],
      startTime: iso(this.opts.now()),
      hostname: utsHostname(pod.metadata.name ?? '', spec, ns, this.opts.clusterDomain),
      terminating: false,
      stopped: false,
      removed: false,
      emitQueued: false,
    };
    this.pods.set(uid, p);
    mkdirSync(this.podStateDir(uid), { recursive: true, mode: 0o700 });
    mkdirSync(this.podLogDir(p), { recursive: true, mode: 0o755 });
    this.writeEtcFiles(p);
    await this.setupNetnsSysctls(p);
    if (this.opts.utsNamespaces) this.createUts(p);
    this.changed(p);
    this.sync(p);
  }

  /** Graceful stop: preStop hooks, SIGTERM, then SIGKILL of each process group after the grace period. */
  stopPod(uid: string, gracePeriodSeconds?: number): Promise<void> {
    const p = this.mustPod(uid);
    p.stopPromise ??= this.doStop(p, gracePeriodSeconds);
    return p.stopPromise;
  }

  /** Stop (if needed) and forget a pod: state, pipes, UTS namespace, /etc/netns files, and (unless kept) logs. */
  async removePod(uid: string, opts: { keepLogs?: boolean; gracePeriodSeconds?: number } = {}): Promise<void> {
    const p = this.mustPod(uid);
    await this.stopPod(uid, opts.gracePeriodSeconds);
    p.removed = true;
    for (const c of [...p.init, ...p.main]) {
      for (const inst of [c.previous, c.instance]) {
        if (inst?.pump === undefined) continue;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([inst.pump.done, new Promise((r) => { timer = setTimeout(r, 2000); })]);
        if (timer !== undefined) clearTimeout(timer);
        inst.pump.close();
      }
    }
    if (p.utsFile !== undefined) {
      try { execFileSync(this.bin.umount, [p.utsFile], { stdio: 'ignore' }); } catch { /* not mounted */ }
    }
    rmSync(this.podStateDir(uid), { recursive: true, force: true });
    rmSync(this.stateFile(uid), { force: true });
    const etcDir = join(this.opts.etcNetnsRoot, p.sandbox.netns);
    rmSync(join(etcDir, 'resolv.conf'), { force: true });
    rmSync(join(etcDir, 'hosts'), { force: true });
    try { if (readdirSync(etcDir).length === 0) rmSync(etcDir, { recursive: true }); } catch { /* gone */ }
    if (opts.keepLogs !== true) rmSync(this.podLogDir(p), { recursive: true, force: true });
    this.pods.delete(uid);
  }

  getPodStatus(uid: string): PodStatus | undefined {
    const p = this.pods.get(uid);
    return p === undefined ? undefined : this.buildStatus(p);
  }

  listPods(): string[] {
    return [...this.pods.keys()];
  }

  /** Host pid of a running container's main process (for diagnostics and tests). */
  containerPid(uid: string, container: string): number | undefined {
    const c = this.mustContainer(this.mustPod(uid), container);
    return c.instance !== undefined && c.instance.gone === undefined ? c.instance.pid : undefined;
  }

  /**
   * Adopt the pods recorded in the state directory by an earlier runtime instance: running container
   * processes are watched (by polling /proc), not restarted; dead ones are handled by restart policy.
   * Returns the adopted pod uids.
   */
  async adopt(): Promise<string[]> {
    let files: string[] = [];
    try { files = readdirSync(this.opts.stateRoot).filter((f) => f.endsWith('.json')); } catch { return []; }
    this.images ??= prepareImages(this.opts.imagesRoot);
    const adoptedUids: string[] = [];
    for (const f of files) {
      let saved: SavedPod;
      try { saved = JSON.parse(readFileSync(join(this.opts.stateRoot, f), 'utf8')) as SavedPod; } catch { continue; }
      const uid = saved.pod.metadata.uid ?? '';
      if (uid === '' || this.pods.has(uid) || saved.pod.spec === undefined) continue;
      const spec = saved.pod.spec;
      const hasInit = (spec.initContainers ?? []).length > 0;
      const p: PodRt = {
        uid, pod: saved.pod, sandbox: saved.sandbox, envSources: saved.env,
        init: (spec.initContainers ?? []).map((c) => this.newCtr(c, true, hasInit)),
        main: spec.containers.map((c) => this.newCtr(c, false, hasInit)),
        conditions: saved.conditions ?? [], startTime: saved.startTime, hostname: saved.hostname, utsFile: saved.utsFile,
        terminating: saved.terminating, stopped: saved.stopped, removed: false, emitQueued: false,
      };
      this.pods.set(uid, p);
      for (const sc of saved.containers) {
        const c = [...p.init, ...p.main].find((x) => x.spec.name === sc.name && x.init === sc.init);
        if (c === undefined) continue;
        c.status = sc.status;
        c.backoff = sc.backoff;
        c.pullBackoff = sc.pullBackoff;
        c.everRan = sc.everRan;
        if (sc.lastFinishedMs !== undefined) c.lastFinishedMs = sc.lastFinishedMs;
        const si = sc.instance;
        if (si === undefined || si.exited) continue;
        const inst = this.newInstance(si.restart, si.pid, si.startTicks, si.containerId, si.startedAtMs);
        c.instance = inst;
        if (processAlive(si.pid, si.startTicks)) {
          // Pipes of this instance (or, from a runtime that named them per container, the shared pair).
          const fifos = [this.fifoPaths(uid, c, si.restart), this.fifoPaths(uid, c)].find((f) => existsSync(f.stdout) && existsSync(f.stderr));
          if (fifos !== undefined) {
            inst.pump = new ContainerLogPump(this.logPath(p, c, si.restart), fifos, { readDelayMs: this.opts.logPumpReadDelayMs });
          }
          this.adopted.set(`${uid}/${c.spec.name}/${c.init ? 'i' : 'c'}`, { p, c, inst });
          this.startProbes(p, c, inst, true);
        } else {
          this.processGone(p, c, inst, { exitCode: UNKNOWN_EXIT, reason: 'Unknown', message: 'the process exited while no runtime watched it; exit status unavailable', finishedAtMs: this.opts.now() }, false);
        }
      }
      adoptedUids.push(uid);
      this.ensurePoller();
      this.changed(p);
      if (!p.terminating) this.sync(p);
    }
    return adoptedUids;
  }

  /**
   * Stop managing without touching the processes (an agent shutting down for an upgrade/restart):
   * timers stop, log pipes are released (output waits in the pipes for the next instance to adopt).
   */
  detach(): void {
    this.detached = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    for (const p of this.pods.values()) {
      for (const c of [...p.init, ...p.main]) {
        this.clearTimers(c);
        const inst = c.instance;
        c.previous?.pump?.close();
        inst?.pump?.close();
        inst?.child?.unref();
        inst?.child?.removeAllListeners('exit');
        // An exit already seen (its log was still draining) is recorded, so the next runtime knows it.
        if (inst?.gone !== undefined && !inst.exited) this.onExit(p, c, inst);
      }
      this.persist(p);
    }
    this.pods.clear();
  }

  // ------------------------------------------------------------------------------------ exec / attach

  exec(uid: string, container: string, argv: readonly string[], options: ExecOptions = {}): ExecSession {
    const p = this.mustPod(uid);
    const c = this.mustContainer(p, container);
    if (c.instance === undefined || c.instance.gone !== undefined) {
      throw new RuntimeError('ContainerNotRunning', `container ${container} is not running`);
    }
    if (argv.length === 0) throw new RuntimeError('ExecFailed', 'no command given');
    const launch = this.prepareLaunch(p, c);
    if (!launch.ok) throw new RuntimeError('ExecFailed', launch.message);
    const exe = this.resolveExe(launch.launch.resolved, argv[0] ?? '', launch.launch.env.PATH ?? '');
    if (!exe.ok) {
      throw new RuntimeError('ExecFailed', `OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0] ?? ''}": executable file not found in $PATH: unknown`);
    }
    const env: Record<string, string> = { ...launch.launch.env, ...(options.env ?? {}) };
    let cmd: string[];
    if (options.tty === true) {
      env.TERM ??= 'xterm';
      env.SHELL = this.shellFor(launch.launch.resolved);
      const line = [...exe.argv, ...argv.slice(1)].map(shellQuote).join(' ');
      cmd = [this.bin.script, '-q', '-e', '-c', `exec ${line}`, '/dev/null'];
    } else {
      cmd = [...exe.argv, ...argv.slice(1)];
    }
    const full = this.chain(p, launch.launch.identity, cmd);
    const child = spawn(full[0] ?? '', full.slice(1), {
      env, cwd: launch.launch.cwd, detached: true, stdio: [options.stdin === true || options.tty === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    // The exit code is handed out once stdout/stderr have delivered everything ('close'), not at 'exit'
    // (which can come first): a caller that awaits it has all the output. A process the command left
    // behind may hold the pipes; after EXEC_OUTPUT_DRAIN_MS the code is given anyway.
    const exitCode = new Promise<number>((resolve) => {
      let drainTimer: NodeJS.Timeout | undefined;
      const codeOf = (code: number | null, signal: NodeJS.Signals | null): number => code ?? (signal !== null ? exitCodeForSignal(signal) : UNKNOWN_EXIT);
      child.on('error', () => { if (drainTimer !== undefined) clearTimeout(drainTimer); resolve(126); });
      child.on('exit', (code, signal) => { drainTimer = setTimeout(() => resolve(codeOf(code, signal)), EXEC_OUTPUT_DRAIN_MS); });
      child.on('close', (code, signal) => { if (drainTimer !== undefined) clearTimeout(drainTimer); resolve(codeOf(code, signal)); });
    });
    const pid = child.pid ?? -1;
    return {
      pid,
      stdin: child.stdin,
      stdout: child.stdout ?? new PassThrough(),
      stderr: child.stderr ?? new PassThrough(),
      exitCode,
      kill: (signal = 'SIGKILL') => { try { process.kill(-pid, signal); } catch { /* gone */ } },
    };
  }

  /** Attach to a running container's main process: its live output, and its stdin when spec.stdin is set. */
  attach(uid: string, container: string): AttachSession {
    const p = this.mustPod(uid);
    const c = this.mustContainer(p, container);
    const inst = c.instance;
    if (inst === undefined || inst.gone !== undefined) throw new RuntimeError('ContainerNotRunning', `container ${container} is not running`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const off = inst.pump?.onOutput((stream, chunk) => (stream === 'stdout' ? stdout : stderr).write(chunk)) ?? (() => true);
    let stdin: PassThrough | null = null;
    if (inst.stdin !== undefined) {
      const target = inst.stdin;
      stdin = new PassThrough();
      stdin.on('data', (d: Buffer) => target.write(d));
      stdin.on('end', () => { if (c.spec.stdinOnce === true) target.end(); });
    }
    const detach = (): void => { off(); stdout.end(); stderr.end(); stdin?.end(); };
    void inst.exitPromise.then(detach);
    return { stdin, stdout, stderr, detach };
  }

  // ------------------------------------------------------------------------------------------- logs

  /**
   * Path of a container's current (or previous) log file, chosen as the kubelet does: "current" is the
   * running or last terminated instance; "previous" is lastState — which, while the container waits in
   * CrashLoopBackOff, is the instance that just crashed.
   */
  logFile(uid: string, container: string, previous = false): string {
    const p = this.mustPod(uid);
    const c = this.mustContainer(p, container);
    return this.logPath(p, c, this.logRestart(p, c, previous));
  }

  /** Which instance (restart number) `logFile` means. */
  private logRestart(p: PodRt, c: Ctr, previous: boolean): number {
    const name = p.pod.metadata.name ?? '';
    if (!c.everRan) {
      throw new RuntimeError('LogNotFound', `container "${c.spec.name}" in pod "${name}" is waiting to start: ${c.status.state?.waiting?.reason ?? 'ContainerCreating'}`);
    }
    if (!previous) return c.status.restartCount;
    if (c.status.state?.waiting !== undefined && c.status.lastState?.terminated !== undefined) return c.status.restartCount;
    if (c.status.lastState?.terminated !== undefined && c.status.restartCount > 0) return c.status.restartCount - 1;
    throw new RuntimeError('LogNotFound', `previous terminated container "${c.spec.name}" in pod "${name}" not found`);
  }

  /**
   * Stream log records of a container (current or previous instance), from a byte offset, optionally
   * following. A terminated instance's log is complete (its termination is reported only after its log
   * drained); only a running instance's log is followed.
   */
  async *streamLog(uid: string, container: string, opts: { previous?: boolean; fromOffset?: number; follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<LogEntry> {
    const p = this.mustPod(uid);
    const c = this.mustContainer(p, container);
    const restart = this.logRestart(p, c, opts.previous === true);
    const path = this.logPath(p, c, restart);
    const inst = [c.instance, c.previous].find((i) => i !== undefined && i.restart === restart);
    // Exited but not yet recorded: its last output is still being written; wait for the (bounded) drain.
    if (inst !== undefined && inst.gone !== undefined && !inst.exited) await inst.exitPromise;
    const live = inst !== undefined && !inst.exited && opts.previous !== true;
    yield* streamLogFile(path, {
      fromOffset: opts.fromOffset ?? 0,
      follow: opts.follow === true && live,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      // Once the instance is recorded as exited its log is complete: one last read, then stop.
      isLive: () => inst !== undefined && !inst.exited,
    });
  }

  /** `kubectl logs` text: tail/since/limit/timestamps applied to the records. */
  async readLogs(uid: string, container: string, opts: LogOptions = {}): Promise<string> {
    const records: LogRecord[] = [];
    for await (const e of this.streamLog(uid, container, { previous: opts.previous === true, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) })) {
      if (opts.sinceTime !== undefined && e.record.time < opts.sinceTime) continue;
      records.push(e.record);
    }
    let sel = records;
    if (opts.tailLines !== undefined) {
      let lines = 0;
      let i = records.length;
      while (i > 0 && lines < opts.tailLines) {
        i--;
        if (!(records[i]?.partial ?? false)) lines++;
        while (i > 0 && records[i - 1]?.partial === true) i--;
      }
      sel = records.slice(i);
    }
    let text = renderForClient(sel, opts.timestamps === true);
    if (opts.limitBytes !== undefined) text = Buffer.from(text).subarray(0, opts.limitBytes).toString('utf8');
    return text;
  }

  // --------------------------------------------------------------------------------- status & sync

  private newCtr(spec: Container, init: boolean, podHasInit: boolean): Ctr {
    const waitingReason = !init && podHasInit ? 'PodInitializing' : init ? 'PodInitializing' : 'ContainerCreating';
    const status: ContainerStatus = {
      name: spec.name,
      state: { waiting: { reason: waitingReason } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? '',
      imageID: '',
      started: false,
    };
    return { spec, init, status, probes: [], everRan: false, starting: false };
  }

  private buildStatus(p: PodRt): PodStatus {
    const spec = p.pod.spec ?? { containers: [] };
    const policy = spec.restartPolicy ?? 'Always';
    const mainDone = p.main.every((c) => c.status.state?.terminated !== undefined && (c.instance === undefined || c.instance.exited) && !shouldRestart(policy, c.status.state.terminated.exitCode));
    const podIsTerminal = p.stopped || (policy !== 'Always' && mainDone);
    const initStatuses = p.init.map((c) => structuredClone(c.status));
    const statuses = p.main.map((c) => structuredClone(c.status));
    const phase = podPhase(spec, initStatuses, statuses, podIsTerminal);
    p.conditions = podConditions({
      spec, phase, initStatuses, statuses, sandboxReady: !p.stopped, previous: [...(p.pod.status?.conditions ?? []).filter((c) => !p.conditions.some((x) => x.type === c.type)), ...p.conditions], nowIso: iso(this.opts.now()),
    });
    const ips = p.sandbox.podIPs ?? [];
    const status: PodStatus = { phase, conditions: p.conditions, startTime: p.startTime, containerStatuses: statuses, qosClass: 'BestEffort' };
    if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
    if (ips.length > 0) { status.podIP = ips[0]; status.podIPs = ips.map((ip) => ({ ip })); }
    if (p.sandbox.hostIP !== undefined) { status.hostIP = p.sandbox.hostIP; status.hostIPs = [{ ip: p.sandbox.hostIP }]; }
    return status;
  }

  private changed(p: PodRt): void {
    if (p.emitQueued || this.detached) return;
    p.emitQueued = true;
    queueMicrotask(() => {
      p.emitQueued = false;
      if (p.removed || this.detached) return;
      const status = this.buildStatus(p);
      this.persist(p);
      this.opts.onStatus?.(p.uid, status);
    });
  }

  private sync(p: PodRt): void {
    if (p.terminating || p.removed || this.detached) return;
    const policy = p.pod.spec?.restartPolicy ?? 'Always';
    for (const c of p.init) {
      if (c.spec.restartPolicy === 'Always') {
        this.syncContainer(p, c, () => true);
        if (!(c.instance !== undefined && !c.instance.exited && c.status.started === true)) return;
        continue;
      }
      if (c.status.state?.terminated?.exitCode === 0) continue;
      this.syncContainer(p, c, (code) => code !== 0 && policy !== 'Never');
      return;
    }
    for (const c of p.main) this.syncContainer(p, c, (code) => shouldRestart(policy, code));
  }

  private syncContainer(p: PodRt, c: Ctr, restart: (exitCode: number) => boolean): void {
    if (c.starting || c.timer !== undefined) return;
    if (c.instance !== undefined && !c.instance.exited) return;
    const terminated = c.status.state?.terminated ?? (c.status.state?.waiting?.reason === 'CrashLoopBackOff' ? c.status.lastState?.terminated : undefined);
    if (!c.everRan || terminated === undefined) {
      if (c.status.state?.waiting?.reason === 'InvalidImageName') return;
      void this.startContainer(p, c);
      return;
    }
    if (!restart(terminated.exitCode)) return;
    const now = this.opts.now();
    // The kubelet measures back-off from the runtime's exact exit time; finishedAt in the API has whole
    // seconds, which would cut up to a second off every window (and turn short ones into instant restarts).
    const finishedAt = c.lastFinishedMs ?? Date.parse(terminated.finishedAt ?? iso(now));
    const d = decideRestart(c.backoff, finishedAt, now, this.opts.crashLoopBackoff);
    if (d.kind === 'restart-now') {
      c.backoff = d.entry;
      void this.startContainer(p, c);
      return;
    }
    c.status.lastState = { terminated };
    c.status.state = { waiting: { reason: 'CrashLoopBackOff', message: crashLoopMessage(d.windowMs, c.spec.name, p.pod.metadata.name ?? '', p.pod.metadata.namespace ?? 'default', p.uid) } };
    this.changed(p);
    c.timer = setTimeout(() => { c.timer = undefined; this.sync(p); }, Math.max(0, d.untilMs - now));
  }

  // ------------------------------------------------------------------------------------ launching

  private prepareLaunch(p: PodRt, c: Ctr): { ok: true; launch: Launch } | LaunchFailure {
    const images = this.images ?? prepareImages(this.opts.imagesRoot);
    const spec = p.pod.spec ?? { containers: [] };
    const resolved = resolveLaunch(c.spec.image, c.spec.command, c.spec.args, (a) => images.applets.has(a));
    if (!resolved.ok) return { ok: false, reason: resolved.reason, message: resolved.message, kind: resolved.reason === 'RunContainerError' ? 'start-error' : 'pull' };
    const idr = containerIdentity(spec, c.spec, p.pod.metadata.name ?? '', this.opts.defaultUser);
    if (!idr.ok) return { ok: false, reason: idr.reason, message: idr.message, kind: 'waiting' };
    const sources: EnvSources = {
      ...(p.envSources ?? {}),
      ...(p.sandbox.podIPs?.[0] !== undefined ? { podIP: p.sandbox.podIPs[0], podIPs: p.sandbox.podIPs } : {}),
      ...(p.sandbox.hostIP !== undefined ? { hostIP: p.sandbox.hostIP } : {}),
      ...(p.sandbox.nodeName !== undefined ? { nodeName: p.sandbox.nodeName } : {}),
    };
    const envr = containerEnv(p.pod, c.spec, sources);
    if (!envr.ok) return { ok: false, reason: envr.reason, message: envr.message, kind: 'waiting' };
    const path = resolved.path.map((d) => (d === BUSYBOX_PATH_TOKEN ? images.busyboxBin : d)).join(':') ||
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    const env: Record<string, string> = {
      PATH: path,
      HOSTNAME: p.hostname,
      HOME: idr.identity.uid === 0 ? '/root' : '/',
      ...resolved.env,
    };
    for (const [k, v] of envr.env) env[k] = v;
    if (c.spec.tty === true) env.TERM ??= 'xterm';
    const args = expandCommand(resolved.args, envr.env);
    const argv0 = c.spec.command !== undefined && c.spec.command.length > 0 ? expandCommand([c.spec.command[0] ?? ''], envr.env)[0] ?? '' : '';
    let exec: { ok: true; argv: string[] } | { ok: false; message: string };
    if (resolved.executable.kind === 'file' && argv0 !== '') exec = this.resolveExe({ ...resolved, executable: { kind: 'file', file: argv0 } }, argv0, env.PATH ?? '');
    else exec = this.resolveExe(resolved, '', env.PATH ?? '');
    if (!exec.ok) return { ok: false, reason: 'StartError', message: exec.message, kind: 'start-error' };
    const cwd = c.spec.workingDir ?? '/';
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      return { ok: false, reason: 'StartError', message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: chdir to cwd ("${cwd}") set in config.json failed: no such file or directory: unknown`, kind: 'start-error' };
    }
    return { ok: true, launch: { argv: [...exec.argv, ...args], env, cwd, identity: idr.identity, resolved } };
  }

  /** The argv prefix for an executable: a program's node command, an applet link, or a file on PATH. */
  private resolveExe(resolved: ResolvedLaunch, argv0: string, path: string): { ok: true; argv: string[] } | { ok: false; message: string } {
    const images = this.images ?? prepareImages(this.opts.imagesRoot);
    let exe = resolved.executable;
    if (argv0 !== '') {
      // An exec/explicit command: map through the image the same way a container command is.
      const r = resolveLaunch(resolved.reference.raw, [argv0], [], (a) => images.applets.has(a));
      if (r.ok) exe = r.executable;
    }
    if (exe.kind === 'program') return { ok: true, argv: images.programArgv(exe.program) };
    if (exe.kind === 'applet') return { ok: true, argv: [join(images.busyboxBin, exe.applet)] };
    const file = exe.file;
    const notFound = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${file}": ${file.includes('/') ? 'stat ' + file + ': no such file or directory' : 'executable file not found in $PATH'}: unknown`;
    if (file.includes('/')) return isExecutableFile(file) ? { ok: true, argv: [file] } : { ok: false, message: notFound };
    for (const d of path.split(':')) {
      if (d === '') continue;
      const candidate = join(d, file);
      if (isExecutableFile(candidate)) return { ok: true, argv: [candidate] };
    }
    return { ok: false, message: notFound };
  }

  private shellFor(resolved: ResolvedLaunch): string {
    const images = this.images ?? prepareImages(this.opts.imagesRoot);
    return resolved.image?.busyboxApplets === true || resolved.image?.path.includes(BUSYBOX_PATH_TOKEN) === true ? join(images.busyboxBin, 'sh') : '/bin/sh';
  }

  private chain(p: PodRt, identity: ProcessIdentity, cmd: string[]): string[] {
    const out = [this.bin.ip, 'netns', 'exec', p.sandbox.netns];
    if (p.utsFile !== undefined) out.push(this.bin.nsenter, `--uts=${p.utsFile}`, '--');
    const priv = setprivArgs(identity);
    if (priv.length > 0) out.push(this.bin.setpriv, ...priv, '--');
    return [...out, ...cmd];
  }

  private async startContainer(p: PodRt, c: Ctr): Promise<void> {
    if (c.starting || p.terminating || this.detached) return;
    c.starting = true;
    try {
      const prepared = this.prepareLaunch(p, c);
      if (!prepared.ok) {
        this.launchFailed(p, c, prepared);
        return;
      }
      const launch = prepared.launch;
      c.status.image = launch.resolved.reference.normalized;
      c.status.imageID = `${launch.resolved.reference.repository}@sha256:${createHash('sha256').update(`flatnet-image:${launch.resolved.image?.repository ?? launch.resolved.reference.repository}`).digest('hex')}`;
      const restart = c.everRan ? c.status.restartCount + 1 : 0;
      const previousTerminated = c.status.state?.terminated ?? c.status.lastState?.terminated;
      const logPath = this.logPath(p, c, restart);
      mkdirSync(dirname(logPath), { recursive: true, mode: 0o755 });
      // Only the new instance's log and the one before it (the "previous" log) are kept. A reader that
      // has an older file open keeps reading it.
      this.removeOldLogs(p, c, restart);
      const fifos = this.fifoPaths(p.uid, c, restart);
      this.removeStaleFifos(p.uid, c);
      ensureFifo(fifos.stdout);
      ensureFifo(fifos.stderr);
      const pump = new ContainerLogPump(logPath, fifos, { readDelayMs: this.opts.logPumpReadDelayMs });
      const outFd = openFifoForChild(fifos.stdout);
      const errFd = openFifoForChild(fifos.stderr);
      let child: ChildProcess;
      try {
        const argv = this.chain(p, launch.identity, launch.argv);
        child = spawn(argv[0] ?? '', argv.slice(1), {
          env: launch.env, cwd: launch.cwd, detached: true, stdio: [c.spec.stdin === true ? 'pipe' : 'ignore', outFd, errFd],
        });
      } finally {
        closeSync(outFd);
        closeSync(errFd);
      }
      const pid = child.pid;
      if (pid === undefined) {
        pump.close();
        child.on('error', () => undefined);
        this.launchFailed(p, c, { ok: false, reason: 'StartError', message: 'failed to start the container process', kind: 'start-error' });
        return;
      }
      const now = this.opts.now();
      const inst = this.newInstance(restart, pid, procInfo(pid)?.startTicks ?? '', randomBytes(32).toString('hex'), now);
      inst.child = child;
      inst.pump = pump;
      if (child.stdin !== null) inst.stdin = child.stdin;
      child.stdin?.on('error', () => undefined);
      child.on('exit', (code, signal) => {
        const exitCode = code ?? (signal !== null ? exitCodeForSignal(signal) : UNKNOWN_EXIT);
        this.processGone(p, c, inst, { exitCode, finishedAtMs: this.opts.now() }, true);
      });
      if (c.instance !== undefined) c.previous = c.instance;
      c.instance = inst;
      c.everRan = true;
      c.status.restartCount = restart;
      c.status.containerID = `flatnet://${inst.containerId}`;
      if (previousTerminated !== undefined) c.status.lastState = { terminated: previousTerminated };
      c.status.state = { running: { startedAt: iso(now) } };
      const hasStartup = c.spec.startupProbe !== undefined;
      c.status.started = !hasStartup;
      c.status.ready = !hasStartup && c.spec.readinessProbe === undefined;
      this.changed(p);
      this.persist(p);
      this.startProbes(p, c, inst, false);
      if (c.spec.lifecycle?.postStart !== undefined) void this.runPostStart(p, c, inst, c.spec.lifecycle.postStart);
      this.sync(p);
    } finally {
      c.starting = false;
    }
  }

  private launchFailed(p: PodRt, c: Ctr, f: LaunchFailure): void {
    const now = this.opts.now();
    if (f.kind === 'start-error') {
      // The container was "created" but could not start: it counts as a run that failed with 128.
      const restart = c.everRan ? c.status.restartCount + 1 : 0;
      const previousTerminated = c.status.state?.terminated ?? c.status.lastState?.terminated;
      c.everRan = true;
      c.status.restartCount = restart;
      if (previousTerminated !== undefined) c.status.lastState = { terminated: previousTerminated };
      const containerId = randomBytes(32).toString('hex');
      c.status.containerID = `flatnet://${containerId}`;
      if (c.instance !== undefined) c.previous = c.instance;
      c.instance = undefined;
      c.lastFinishedMs = now;
      c.status.state = { terminated: { exitCode: 128, reason: 'StartError', message: f.message, startedAt: '1970-01-01T00:00:00Z', finishedAt: iso(now), containerID: `flatnet://${containerId}` } };
      c.status.ready = false;
      c.status.started = false;
      this.changed(p);
      this.sync(p);
      return;
    }
    c.status.state = { waiting: { reason: f.reason, message: f.message } };
    this.changed(p);
    if (f.reason === 'InvalidImageName') return;
    const entry = nextEntry(c.pullBackoff, now, now, this.opts.imagePullBackoff);
    c.pullBackoff = entry;
    if (f.kind === 'pull') {
      // kubelet shows ErrImagePull for the failed attempt, then ImagePullBackOff until the next one.
      const flip = setTimeout(() => {
        if (c.status.state?.waiting?.reason === 'ErrImagePull' && !p.terminating) {
          c.status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.spec.image ?? ''}"` } };
          this.changed(p);
        }
      }, Math.min(1000, entry.windowMs / 2));
      flip.unref();
    }
    c.timer = setTimeout(() => { c.timer = undefined; this.sync(p); }, entry.windowMs);
  }

  private newInstance(restart: number, pid: number, startTicks: string, containerId: string, startedAtMs: number): Instance {
    let resolveExit: () => void = () => undefined;
    const exitPromise = new Promise<void>((r) => { resolveExit = r; });
    return { restart, pid, startTicks, containerId, startedAtMs, exited: false, exitPromise, resolveExit };
  }

  /**
   * The main process of an instance is gone. What is left of its process group is killed (as the end of
   * a container's PID namespace kills everything in it), so no leftover keeps its log pipes open; the
   * termination is recorded only once the log pump has drained the pipes, so whoever sees "terminated"
   * (and the CrashLoopBackOff after it) finds the complete log. The wait is bounded by logDrainTimeoutMs
   * for a process that left the group while holding the pipes.
   */
  private processGone(p: PodRt, c: Ctr, inst: Instance, info: ExitInfo, ownChild: boolean): void {
    if (inst.gone !== undefined || inst.exited) return;
    inst.gone = info;
    if (inst.killTimer !== undefined) clearTimeout(inst.killTimer);
    if (c.instance === inst) this.stopProbes(c);
    for (const [k, v] of this.adopted) if (v.inst === inst) this.adopted.delete(k);
    // Our own child was reaped just now, in this same callback, and its id still names its process group
    // while any member lives; an adopted process's pid may have been reused since it died, so no signal.
    if (ownChild) {
      try { process.kill(-inst.pid, 'SIGKILL'); } catch { /* no process left in the group */ }
    }
    const pump = inst.pump;
    if (pump === undefined) {
      this.onExit(p, c, inst);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => { timer = setTimeout(r, this.opts.logDrainTimeoutMs); });
    void Promise.race([pump.done, limit]).then(() => {
      if (timer !== undefined) clearTimeout(timer);
      if (this.detached) return; // detach() recorded it
      this.onExit(p, c, inst);
    });
  }

  /** Record an instance's termination (reported status, restart policy). Its exit must be known (`gone`). */
  private onExit(p: PodRt, c: Ctr, inst: Instance): void {
    if (inst.exited) return;
    const info = inst.gone ?? { exitCode: UNKNOWN_EXIT, reason: 'Unknown', finishedAtMs: this.opts.now() };
    inst.gone = info;
    inst.exited = true;
    if (inst.killTimer !== undefined) clearTimeout(inst.killTimer);
    if (c.instance === inst) this.stopProbes(c);
    for (const [k, v] of this.adopted) if (v.inst === inst) this.adopted.delete(k);
    let code = info.exitCode;
    let reason = info.reason;
    let message = info.message;
    if (reason === 'Unknown' && inst.lastSignal !== undefined) {
      code = exitCodeForSignal(inst.lastSignal);
      reason = undefined;
      message = undefined;
    }
    const terminated = {
      exitCode: code,
      reason: reason ?? terminatedReason(code),
      ...(message !== undefined ? { message } : {}),
      startedAt: iso(inst.startedAtMs),
      finishedAt: iso(info.finishedAtMs),
      containerID: `flatnet://${inst.containerId}`,
    };
    if (c.instance === inst) c.lastFinishedMs = info.finishedAtMs;
    c.status.state = { terminated };
    c.status.ready = false;
    c.status.started = false;
    inst.resolveExit();
    this.changed(p);
    this.persist(p);
    if (!p.terminating) this.sync(p);
  }

  // ------------------------------------------------------------------------------------ termination

  private async killInstance(inst: Instance, graceMs: number): Promise<void> {
    if (inst.exited) return;
    const signal = (s: NodeJS.Signals): void => {
      if (inst.gone !== undefined) return; // reaped: its pid may belong to someone else now
      inst.lastSignal = s;
      try { process.kill(-inst.pid, s); } catch {
        try { process.kill(inst.pid, s); } catch { /* already gone */ }
      }
    };
    signal('SIGTERM');
    await new Promise<void>((resolve) => {
      inst.killTimer = setTimeout(() => { signal('SIGKILL'); resolve(); }, graceMs);
      void inst.exitPromise.then(() => { if (inst.killTimer !== undefined) clearTimeout(inst.killTimer); resolve(); });
    });
    await inst.exitPromise;
  }

  private async doStop(p: PodRt, gracePeriodSeconds?: number): Promise<void> {
    p.terminating = true;
    const graceMs = Math.max(0, gracePeriodSeconds ?? p.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const deadline = this.opts.now() + graceMs;
    for (const c of [...p.init, ...p.main]) this.clearTimers(c);
    const stopOne = async (c: Ctr): Promise<void> => {
      const inst = c.instance;
      if (inst === undefined || inst.exited) return;
      if (inst.gone !== undefined) {
        await inst.exitPromise; // exited; its log is draining
        return;
      }
      const preStop = c.spec.lifecycle?.preStop;
      if (preStop !== undefined && graceMs > 0) {
        await this.runHandler(p, c, preStop, graceMs).catch(() => undefined);
      }
      // Upstream grants a short minimum after preStop used the budget.
      const remaining = Math.max(deadline - this.opts.now(), preStop !== undefined ? Math.min(2000, graceMs) : 0);
      await this.killInstance(inst, remaining);
    };
    await Promise.all(p.main.map(stopOne));
    await Promise.all(p.init.map(stopOne));
    p.stopped = true;
    this.changed(p);
    this.persist(p);
  }

  private clearTimers(c: Ctr): void {
    if (c.timer !== undefined) clearTimeout(c.timer);
    c.timer = undefined;
    this.stopProbes(c);
  }

  // ------------------------------------------------------------------------------------------ probes

  private startProbes(p: PodRt, c: Ctr, inst: Instance, adopted: boolean): void {
    this.stopProbes(c);
    const kinds: [ProbeKind, Probe | undefined][] = [['startup', c.spec.startupProbe], ['readiness', c.spec.readinessProbe], ['liveness', c.spec.livenessProbe]];
    for (const [kind, probe] of kinds) {
      if (probe === undefined) continue;
      const timing = probeTiming(probe);
      let state = initialProbeState(kind);
      if (adopted) {
        // An adopted container keeps what the previous runtime reported until probes say otherwise.
        if (kind === 'startup' && c.status.started === true) state = { ...state, result: 'success' };
        if (kind === 'readiness' && c.status.ready) state = { ...state, result: 'success' };
      }
      const rt: ProbeRt = { kind, probe, timing, state };
      c.probes.push(rt);
      const sinceStart = this.opts.now() - inst.startedAtMs;
      const first = Math.max(0, timing.initialDelayMs - sinceStart);
      const tick = (): void => {
        rt.timer = undefined;
        if (inst.exited || p.terminating || this.detached) return;
        void this.runProbe(p, c, inst, rt).finally(() => {
          if (!inst.exited && !p.terminating && !this.detached && c.probes.includes(rt)) {
            rt.timer = setTimeout(tick, rt.timing.periodMs);
          }
        });
      };
      rt.timer = setTimeout(tick, first);
    }
  }

  private stopProbes(c: Ctr): void {
    for (const r of c.probes) if (r.timer !== undefined) clearTimeout(r.timer);
    c.probes = [];
  }

  private async runProbe(p: PodRt, c: Ctr, inst: Instance, rt: ProbeRt): Promise<void> {
    if (rt.kind !== 'startup' && c.status.started !== true) return;
    if (rt.kind === 'startup' && c.status.started === true) return;
    const run = await this.runHandler(p, c, rt.probe, rt.timing.timeoutMs).catch((e: unknown): ProbeRun => ({ outcome: 'failure', output: String(e) }));
    if (inst.exited || p.terminating || !c.probes.includes(rt)) return;
    const before = rt.state;
    rt.state = applyProbeOutcome(before, run.outcome, rt.timing);
    const action = probeAction(rt.kind, before, rt.state, rt.timing);
    switch (action) {
      case 'set-ready':
      case 'set-unready':
        c.status.ready = action === 'set-ready';
        this.changed(p);
        break;
      case 'mark-started':
        c.status.started = true;
        c.status.ready = c.spec.readinessProbe === undefined;
        this.changed(p);
        break;
      case 'kill-container': {
        const grace = (rt.probe.terminationGracePeriodSeconds ?? p.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
        this.stopProbes(c);
        void this.killInstance(inst, grace);
        break;
      }
      case 'none':
        break;
    }
  }

  /** Run a probe/lifecycle handler: exec inside the container's context, or a network check. */
  private async runHandler(p: PodRt, c: Ctr, h: ProbeHandler, timeoutMs: number): Promise<ProbeRun> {
    if (h.exec !== undefined) {
      const cmd = h.exec.command ?? [];
      if (cmd.length === 0) return { outcome: 'failure', output: 'exec probe has no command' };
      let session: ExecSession;
      try {
        session = this.exec(p.uid, c.spec.name, cmd);
      } catch (e) {
        return { outcome: 'failure', output: e instanceof Error ? e.message : String(e) };
      }
      let output = '';
      session.stdout.setEncoding('utf8').on('data', (d: string) => { if (output.length < 10240) output += d; });
      session.stderr.setEncoding('utf8').on('data', (d: string) => { if (output.length < 10240) output += d; });
      const timer = setTimeout(() => session.kill('SIGKILL'), timeoutMs);
      const code = await session.exitCode;
      clearTimeout(timer);
      return code === 0 ? { outcome: 'success' } : { outcome: 'failure', output };
    }
    const target = h.httpGet ?? h.tcpSocket;
    if (target === undefined) return { outcome: 'failure', output: 'unsupported probe handler (grpc probes are not implemented)' };
    const port = resolveProbePort(target.port, c.spec.ports);
    if (port === undefined) return { outcome: 'failure', output: `unable to resolve port ${String(target.port)}` };
    const host = target.host ?? p.sandbox.podIPs?.[0] ?? '127.0.0.1';
    return this.opts.probeExecutor({
      kind: h.httpGet !== undefined ? 'httpGet' : 'tcpSocket',
      netnsPath: this.netnsPath(p.sandbox.netns),
      host,
      port,
      ...(h.httpGet !== undefined ? { path: h.httpGet.path ?? '/', scheme: h.httpGet.scheme ?? 'HTTP', headers: h.httpGet.httpHeaders ?? [] } : {}),
      timeoutMs,
    });
  }

  private async runPostStart(p: PodRt, c: Ctr, inst: Instance, h: ProbeHandler): Promise<void> {
    const r = await this.runHandler(p, c, h, 30_000).catch((): ProbeRun => ({ outcome: 'failure' }));
    if (r.outcome === 'failure' && !inst.exited && !p.terminating) {
      void this.killInstance(inst, (p.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    }
  }

  // ------------------------------------------------------------------------------- pod environment

  private writeEtcFiles(p: PodRt): void {
    const spec = p.pod.spec ?? { containers: [] };
    const ns = p.pod.metadata.namespace ?? 'default';
    let hostText = '';
    try { hostText = readFileSync(this.opts.hostResolvConf, 'utf8'); } catch { /* none */ }
    const resolv = podResolvConf(spec, { namespace: ns, clusterDomain: this.opts.clusterDomain, clusterDNS: this.opts.clusterDNS, host: parseResolvConf(hostText) });
    const hosts = renderHostsFile(p.sandbox.podIPs ?? [], p.pod.metadata.name ?? '', spec, ns, this.opts.clusterDomain);
    const dir = join(this.opts.etcNetnsRoot, p.sandbox.netns);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'resolv.conf'), renderResolvConf(resolv), { mode: 0o644 });
    writeFileSync(join(dir, 'hosts'), hosts, { mode: 0o644 });
  }

  private async setupNetnsSysctls(p: PodRt): Promise<void> {
    const settings = ['net.ipv4.ip_unprivileged_port_start=0', 'net.ipv4.ping_group_range=0 2147483647'];
    for (const s of p.pod.spec?.securityContext?.sysctls ?? []) if (s.name.startsWith('net.')) settings.push(`${s.name}=${s.value}`);
    const r = await runHelper([this.bin.nsenter, `--net=${this.netnsPath(p.sandbox.netns)}`, '--', this.bin.sysctl, '-q', '-w', ...settings], 5000);
    if (r.code !== 0) throw new RuntimeError('SandboxNotFound', `cannot configure sysctls in ${p.sandbox.netns}: ${r.stderr.trim()}`);
  }

  private createUts(p: PodRt): void {
    const dir = join(this.opts.stateRoot, 'uts');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!this.utsDirReady) {
      // A private mount point: the per-pod UTS bind mounts then do not propagate into every
      // container's mount namespace (ip netns exec makes them slaves of the host's).
      const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      if (!mountinfo.split('\n').some((l) => l.split(' ')[4] === dir)) {
        execFileSync(this.bin.mount, ['--bind', dir, dir]);
      }
      execFileSync(this.bin.mount, ['--make-private', dir]);
      this.utsDirReady = true;
    }
    const file = join(dir, p.uid);
    try { execFileSync(this.bin.umount, [file], { stdio: 'ignore' }); } catch { /* not mounted */ }
    writeFileSync(file, '');
    try {
      execFileSync(this.bin.unshare, [`--uts=${file}`, 'hostname', p.hostname], { stdio: 'ignore' });
      p.utsFile = file;
    } catch {
      rmSync(file, { force: true });
      p.utsFile = undefined;
    }
  }

  // ------------------------------------------------------------------------------------- plumbing

  private ensurePoller(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => {
      for (const { p, c, inst } of [...this.adopted.values()]) {
        if (!processAlive(inst.pid, inst.startTicks)) {
          this.processGone(p, c, inst, { exitCode: UNKNOWN_EXIT, reason: 'Unknown', message: 'the process exited while the runtime was not its parent; exit status unavailable', finishedAtMs: this.opts.now() }, false);
        }
      }
      if (this.adopted.size === 0 && this.pollTimer !== undefined) { clearInterval(this.pollTimer); this.pollTimer = undefined; }
    }, this.opts.adoptPollMs);
  }

  private persist(p: PodRt): void {
    if (p.removed) return;
    const saved: SavedPod = {
      version: 1,
      pod: p.pod,
      sandbox: p.sandbox,
      ...(p.envSources !== undefined ? { env: p.envSources } : {}),
      startTime: p.startTime,
      hostname: p.hostname,
      ...(p.utsFile !== undefined ? { utsFile: p.utsFile } : {}),
      terminating: p.terminating,
      stopped: p.stopped,
      conditions: p.conditions,
      containers: [...p.init, ...p.main].map((c) => ({
        name: c.spec.name,
        init: c.init,
        status: c.status,
        ...(c.backoff !== undefined ? { backoff: c.backoff } : {}),
        ...(c.pullBackoff !== undefined ? { pullBackoff: c.pullBackoff } : {}),
        everRan: c.everRan,
        ...(c.lastFinishedMs !== undefined ? { lastFinishedMs: c.lastFinishedMs } : {}),
        ...(c.instance !== undefined ? {
          instance: { restart: c.instance.restart, pid: c.instance.pid, startTicks: c.instance.startTicks, containerId: c.instance.containerId, startedAtMs: c.instance.startedAtMs, exited: c.instance.exited },
        } : {}),
      })),
    };
    mkdirSync(this.opts.stateRoot, { recursive: true, mode: 0o700 });
    const file = this.stateFile(p.uid);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(saved), { mode: 0o600 });
    renameSync(tmp, file);
  }

  private mustPod(uid: string): PodRt {
    const p = this.pods.get(uid);
    if (p === undefined) throw new RuntimeError('PodNotFound', `pod ${uid} is not known to this runtime`);
    return p;
  }

  private mustContainer(p: PodRt, name: string): Ctr {
    const c = p.main.find((x) => x.spec.name === name) ?? p.init.find((x) => x.spec.name === name);
    if (c === undefined) throw new RuntimeError('ContainerNotFound', `container ${name} is not valid for pod ${p.pod.metadata.name ?? ''}`);
    return c;
  }

  private netnsPath(netns: string): string {
    return netns.startsWith('/') ? netns : `/var/run/netns/${netns}`;
  }

  private stateFile(uid: string): string {
    return join(this.opts.stateRoot, `${uid}.json`);
  }

  private podStateDir(uid: string): string {
    return join(this.opts.stateRoot, uid);
  }

  private fifoBase(c: Ctr): string {
    return `${c.init ? 'init-' : ''}${c.spec.name}`;
  }

  /** The log pipes of one instance (without `restart`: the shared pair older runtimes used). */
  private fifoPaths(uid: string, c: Ctr, restart?: number): { stdout: string; stderr: string } {
    const base = join(this.podStateDir(uid), `${this.fifoBase(c)}${restart !== undefined ? `.${restart}` : ''}`);
    return { stdout: `${base}.stdout`, stderr: `${base}.stderr` };
  }

  /** Unlink a container's pipes of earlier instances (a pump still reading one keeps its open descriptor). */
  private removeStaleFifos(uid: string, c: Ctr): void {
    const base = this.fifoBase(c);
    let names: string[] = [];
    try { names = readdirSync(this.podStateDir(uid)); } catch { return; }
    for (const n of names) {
      if (!n.startsWith(`${base}.`)) continue;
      if (/^(\d+\.)?(stdout|stderr)$/.test(n.slice(base.length + 1))) rmSync(join(this.podStateDir(uid), n), { force: true });
    }
  }

  /** Before instance `restart` starts: delete its stale file and the logs older than the previous instance's. */
  private removeOldLogs(p: PodRt, c: Ctr, restart: number): void {
    const dir = dirname(this.logPath(p, c, restart));
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      const m = /^(\d+)\.log$/.exec(n);
      if (m === null) continue;
      const k = Number(m[1]);
      if (k === restart || k < restart - 1) rmSync(join(dir, n), { force: true });
    }
  }

  private podLogDir(p: PodRt): string {
    return join(this.opts.logRoot, `${p.pod.metadata.namespace ?? 'default'}_${p.pod.metadata.name ?? ''}_${p.uid}`);
  }

  private logPath(p: PodRt, c: Ctr, restart: number): string {
    return join(this.podLogDir(p), c.spec.name, `${restart}.log`);
  }
}
