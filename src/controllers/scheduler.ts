// The scheduler shell (kube-scheduler's role): pending pods from the pod informer go through the pure
// `schedulePods` core in batches and are bound with POST pods/<name>/binding.
//
//  * Bound pods are "assumed" until the informer shows their nodeName, so the next pass neither binds them
//    again nor forgets that they occupy their node.
//  * Like upstream's percentageOfNodesToScore, each batch is filtered against a rotating window of the
//    nodes (all of them below 100 nodes; max(100, n * (50 - n/125)%) above). A pod that fits none of the
//    window is tried again against every node, so "unschedulable" and its message always cover them all.
//  * An unschedulable pod gets PodScheduled=False and a FailedScheduling Event (from the core) and is parked
//    until something that could make it fit changes: a node is added, deleted or changes its labels, taints,
//    schedulability, readiness or capacity; a bound pod goes away; the pod's own spec changes; or a minute
//    passes (upstream flushes its unschedulable queue periodically too).
import type { Node, Pod } from '../api/types.ts';
import { type Action, compareStrings, jsonEqual, parseTime } from './core/actions.ts';
import { isPodTerminal, isTerminating, podKey } from './core/pod-util.ts';
import { DEFAULT_SCHEDULER_NAME, schedulePods } from './core/scheduler.ts';
import { type ActionApplier, ControllerShell, type EventRecorder, type Logger, type SharedInformers, forEachConcurrently, nodePlacementView } from './runtime.ts';

export interface SchedulerOptions {
  schedulerName?: string;
  /** Pods handed to the core per call (default 128). */
  batchSize?: number;
  /** Pods considered per pass (default 4096); the rest wait for the next pass. */
  maxPodsPerPass?: number;
  /** Concurrent binding requests (default 32). */
  bindConcurrency?: number;
  /** How long an unschedulable pod stays parked without any change (default 60 s). */
  parkedRetryMs?: number;
  now?: () => number;
}

const KEY = 'pending';

/** Nodes to evaluate per pod: upstream's adaptive percentageOfNodesToScore with its 100-node floor. */
export function nodesToFind(total: number): number {
  if (total <= 100) return total;
  const percentage = Math.max(5, 50 - Math.floor(total / 125));
  return Math.min(total, Math.max(100, Math.floor((total * percentage) / 100)));
}

/** Queue order: higher priority first, then older, then by key (sort keys computed once per pod). */
function inQueueOrder(pods: readonly Pod[]): Pod[] {
  const keyed = pods.map((pod) => ({ pod, priority: pod.spec?.priority ?? 0, created: parseTime(pod.metadata.creationTimestamp) ?? 0, key: podKey(pod) }));
  keyed.sort((a, b) => b.priority - a.priority || a.created - b.created || compareStrings(a.key, b.key));
  return keyed.map((k) => k.pod);
}

/** What of a node can change a scheduling outcome. */
function schedulingView(node: Node): unknown {
  return { ...nodePlacementView(node), pods: node.status?.allocatable?.['pods'] };
}

export class SchedulerController extends ControllerShell {
  readonly #inf: SharedInformers;
  readonly #recorder: EventRecorder;
  readonly #schedulerName: string;
  readonly #batchSize: number;
  readonly #maxPerPass: number;
  readonly #bindConcurrency: number;
  readonly #parkedRetryMs: number;
  readonly #now: () => number;
  /** Pods we bound that the informer does not show bound yet: key -> node. */
  readonly #assumed = new Map<string, { node: string; at: number }>();
  /** Unschedulable pods waiting for a change: key -> when parked. */
  readonly #parked = new Map<string, number>();
  #nextStart = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(inf: SharedInformers, applier: ActionApplier, recorder: EventRecorder, log: Logger, options: SchedulerOptions = {}) {
    super(applier, log, { name: 'scheduler', concurrency: 1, maxDelayMs: 5_000, singleKey: KEY });
    this.#inf = inf;
    this.#recorder = recorder;
    this.#schedulerName = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.#batchSize = options.batchSize ?? 128;
    this.#maxPerPass = options.maxPodsPerPass ?? 4096;
    this.#bindConcurrency = options.bindConcurrency ?? 32;
    this.#parkedRetryMs = options.parkedRetryMs ?? 60_000;
    this.#now = options.now ?? Date.now;

    const bound = (p: Pod): boolean => p.spec?.nodeName !== undefined && p.spec.nodeName !== '';
    this.watch(inf.pods, {
      onAdd: (p) => {
        if (bound(p)) this.#assumed.delete(podKey(p));
        else this.queue.add(KEY);
      },
      onUpdate: (old, p) => {
        const key = podKey(p);
        if (bound(p)) {
          this.#assumed.delete(key);
          return;
        }
        if (!jsonEqual(old.spec, p.spec) || !jsonEqual(old.metadata.labels, p.metadata.labels)) this.#parked.delete(key);
        if (!this.#parked.has(key)) this.queue.add(KEY);
      },
      onDelete: (p) => {
        const key = podKey(p);
        this.#assumed.delete(key);
        this.#parked.delete(key);
        // A bound pod going away frees room on its node.
        if (bound(p)) this.#unparkAll();
      },
    });
    this.watch(inf.nodes, {
      onAdd: () => this.#unparkAll(true),
      onUpdate: (old, n) => {
        if (!jsonEqual(schedulingView(old), schedulingView(n))) this.#unparkAll(true);
      },
      onDelete: () => this.#unparkAll(true),
    });
  }

  #unparkAll(always = false): void {
    if (this.#parked.size === 0 && !always) return;
    this.#parked.clear();
    this.queue.add(KEY);
  }

  override run(): void {
    super.run();
    this.#flushTimer = setInterval(() => {
      const cutoff = this.#now() - this.#parkedRetryMs;
      let any = false;
      for (const [key, at] of this.#parked) {
        if (at <= cutoff) {
          this.#parked.delete(key);
          any = true;
        }
      }
      // Assumed bindings the informer never confirmed (the pod changed in between) expire too.
      for (const [key, a] of this.#assumed) if (a.at <= this.#now() - 30_000) this.#assumed.delete(key);
      if (any) this.queue.add(KEY);
    }, Math.min(this.#parkedRetryMs, 10_000));
    this.#flushTimer.unref();
  }

  override async stop(): Promise<void> {
    if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer);
    await super.stop();
  }

  /** Pods bound by this scheduler but not yet seen bound (for tests). */
  get assumedCount(): number {
    return this.#assumed.size;
  }

  protected async sync(): Promise<void> {
    const now = this.#now();
    const pending = inQueueOrder(this.#inf.pods.byIndex('pending', '1').filter((p) => {
      const key = podKey(p);
      return !this.#assumed.has(key) && !this.#parked.has(key) && !isTerminating(p) && !isPodTerminal(p) &&
        (p.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.#schedulerName;
    }));
    if (pending.length === 0) return;
    const pods = pending.slice(0, this.#maxPerPass);
    if (pending.length > pods.length) this.queue.add(KEY);

    const nodes = this.#inf.nodes.list().sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
    // Pods per node: bound pods (not terminal) plus our assumed ones.
    const counts = new Map<string, number>();
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      counts.set(name, this.#inf.pods.byIndex('node', name).filter((p) => !isPodTerminal(p)).length);
    }
    for (const a of this.#assumed.values()) counts.set(a.node, (counts.get(a.node) ?? 0) + 1);
    const stubsFor = (subset: readonly Node[]): Pod[] => {
      const stubs: Pod[] = [];
      for (const node of subset) {
        const name = node.metadata.name ?? '';
        const stub: Pod = { metadata: {}, spec: { nodeName: name, containers: [] } };
        for (let i = counts.get(name) ?? 0; i > 0; i--) stubs.push(stub);
      }
      return stubs;
    };
    const toFind = nodesToFind(nodes.length);

    const bindings: Action[] = [];
    const statusUpdates: Action[] = [];
    for (let i = 0; i < pods.length; i += this.#batchSize) {
      const batch = pods.slice(i, i + this.#batchSize);
      let window = nodes;
      if (toFind < nodes.length) {
        const start = this.#nextStart % nodes.length;
        window = [...nodes.slice(start, start + toFind), ...nodes.slice(0, Math.max(0, start + toFind - nodes.length))];
        this.#nextStart = (start + toFind) % nodes.length;
      }
      let result = schedulePods({ pods: batch, nodes: window, assignedPods: stubsFor(window), now, schedulerName: this.#schedulerName });
      const misfits = window === nodes ? [] : result.decisions.filter((d) => d.outcome === 'unschedulable').map((d) => d.pod);
      const apply = (r: typeof result, skip: Set<string>): void => {
        for (const d of r.decisions) if (d.outcome === 'bound') counts.set(d.nodeName, (counts.get(d.nodeName) ?? 0) + 1);
        for (const a of r.actions) {
          const key = a.verb === 'create' || a.verb === 'update' ? `${a.object.metadata.namespace ?? ''}/${a.object.metadata.name ?? ''}` : '';
          if (skip.has(key)) continue;
          if (a.verb === 'create') bindings.push(a);
          else statusUpdates.push(a);
        }
        for (const e of r.events) {
          const key = `${e.involvedObject.namespace ?? ''}/${e.involvedObject.name ?? ''}`;
          if (!skip.has(key)) this.#recorder.record(e);
        }
      };
      if (misfits.length > 0) {
        const skip = new Set(misfits);
        apply(result, skip);
        result = schedulePods({ pods: batch.filter((p) => skip.has(podKey(p))), nodes, assignedPods: stubsFor(nodes), now, schedulerName: this.#schedulerName });
        apply(result, new Set());
      } else apply(result, new Set());
      for (const d of result.decisions) if (d.outcome === 'unschedulable') this.#parked.set(d.pod, now);
    }

    // Bind (independent per pod; a failure only retries that pod) and record unschedulable status.
    let failures = 0;
    let firstError: unknown;
    const work = [...bindings, ...statusUpdates];
    await forEachConcurrently(work, this.#bindConcurrency, async (action) => {
      const key = action.verb === 'create' || action.verb === 'update' ? `${action.object.metadata.namespace ?? ''}/${action.object.metadata.name ?? ''}` : '';
      try {
        await this.applier.applyOne(action);
        if (action.verb === 'create') {
          const target = (action.object as unknown as { target?: { name?: string } }).target?.name ?? '';
          // The watch may already have delivered the bound pod (then there is nothing to assume).
          const cached = this.#inf.pods.get(key);
          if (cached !== undefined && (cached.spec?.nodeName ?? '') === '') this.#assumed.set(key, { node: target, at: this.#now() });
        }
      } catch (e) {
        // The pod changed under us (deleted, bound elsewhere, updated): the informer brings the new state.
        this.#parked.delete(key);
        failures++;
        firstError ??= e;
      }
    });
    if (failures > 0) {
      this.report(firstError);
      this.queue.addAfter(KEY, 100);
    }
  }
}
