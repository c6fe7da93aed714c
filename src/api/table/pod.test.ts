import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, ContainerState, ContainerStatus, Pod, PodStatus } from '../types.ts';
import { POD_COLUMNS, podCells, podRowConditions, summarizePod } from './pod.ts';

const now = new Date('2025-03-01T12:00:00Z');
const minutesAgo = (n: number): string => new Date(now.getTime() - n * 60_000).toISOString();

const running: ContainerState = { running: { startedAt: minutesAgo(10) } };
const waiting = (reason?: string): ContainerState => ({ waiting: reason === undefined ? {} : { reason } });
const terminated = (exitCode: number, reason?: string, signal?: number): ContainerState => ({
  terminated: { exitCode, ...(reason !== undefined ? { reason } : {}), ...(signal !== undefined ? { signal } : {}) },
});

function cs(name: string, state: ContainerState, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, state, ready: false, restartCount: 0, image: 'img', imageID: '', ...extra };
}

function pod(opts: {
  containers?: string[];
  init?: (string | Container)[];
  status?: PodStatus;
  deleting?: boolean;
  readinessGates?: string[];
}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'default',
      creationTimestamp: minutesAgo(30),
      ...(opts.deleting ? { deletionTimestamp: minutesAgo(1) } : {}),
    },
    spec: {
      containers: (opts.containers ?? ['app']).map((name) => ({ name, image: `${name}:1` })),
      ...(opts.init ? { initContainers: opts.init.map((c) => (typeof c === 'string' ? { name: c } : c)) } : {}),
      ...(opts.readinessGates ? { readinessGates: opts.readinessGates.map((conditionType) => ({ conditionType })) } : {}),
    },
    status: opts.status ?? {},
  };
}

describe('pod STATUS, READY and RESTARTS', () => {
  const cases: { name: string; pod: Pod; ready: string; status: string; restarts?: string }[] = [
    {
      name: 'a pod with all containers running and ready is Running',
      pod: pod({ containers: ['a', 'b'], status: { phase: 'Running', containerStatuses: [cs('a', running, { ready: true }), cs('b', running, { ready: true })] } }),
      ready: '2/2',
      status: 'Running',
      restarts: '0',
    },
    {
      name: 'a container in CrashLoopBackOff shows that reason and its restarts with the last restart age',
      pod: pod({
        status: {
          phase: 'Running',
          containerStatuses: [
            cs('app', waiting('CrashLoopBackOff'), { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: minutesAgo(5) } } }),
          ],
        },
      }),
      ready: '0/1',
      status: 'CrashLoopBackOff',
      restarts: '5 (5m ago)',
    },
    {
      name: 'restarts without a recorded termination time are a bare count',
      pod: pod({ status: { phase: 'Running', containerStatuses: [cs('app', running, { ready: true, restartCount: 3 })] } }),
      ready: '1/1',
      status: 'Running',
      restarts: '3',
    },
    {
      name: 'a pending pod with a container being created shows ContainerCreating',
      pod: pod({ status: { phase: 'Pending', containerStatuses: [cs('app', waiting('ContainerCreating'))] } }),
      ready: '0/1',
      status: 'ContainerCreating',
    },
    {
      name: 'a pending pod without statuses shows its phase',
      pod: pod({ status: { phase: 'Pending' } }),
      ready: '0/1',
      status: 'Pending',
    },
    {
      name: 'a pod held by scheduling gates shows SchedulingGated',
      pod: pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } }),
      ready: '0/1',
      status: 'SchedulingGated',
    },
    {
      name: 'a pod-level reason such as Evicted replaces the phase',
      pod: pod({ status: { phase: 'Failed', reason: 'Evicted' } }),
      ready: '0/1',
      status: 'Evicted',
    },
    {
      name: 'a deleting running pod is Terminating',
      pod: pod({ deleting: true, status: { phase: 'Running', containerStatuses: [cs('app', running, { ready: true })] } }),
      ready: '1/1',
      status: 'Terminating',
    },
    {
      name: 'a deleting pod that already succeeded keeps Completed',
      pod: pod({ deleting: true, status: { phase: 'Succeeded', containerStatuses: [cs('app', terminated(0, 'Completed'))] } }),
      ready: '0/1',
      status: 'Completed',
    },
    {
      name: 'a deleting pod on a lost node is Unknown',
      pod: pod({ deleting: true, status: { phase: 'Running', reason: 'NodeLost' } }),
      ready: '0/1',
      status: 'Unknown',
    },
    {
      name: 'a succeeded pod is Completed',
      pod: pod({ status: { phase: 'Succeeded', containerStatuses: [cs('app', terminated(0, 'Completed'))] } }),
      ready: '0/1',
      status: 'Completed',
    },
    {
      name: 'a terminated container without a reason shows its exit code',
      pod: pod({ status: { phase: 'Failed', containerStatuses: [cs('app', terminated(137))] } }),
      ready: '0/1',
      status: 'ExitCode:137',
    },
    {
      name: 'a terminated container killed by a signal shows the signal',
      pod: pod({ status: { phase: 'Failed', containerStatuses: [cs('app', terminated(0, undefined, 9))] } }),
      ready: '0/1',
      status: 'Signal:9',
    },
    {
      name: 'Completed with another container still running reads Running when the pod is Ready',
      pod: pod({
        containers: ['job', 'side'],
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [cs('job', terminated(0, 'Completed')), cs('side', running, { ready: true })],
        },
      }),
      ready: '1/2',
      status: 'Running',
    },
    {
      name: 'Completed with another container still running reads NotReady when the pod is not Ready',
      pod: pod({
        containers: ['job', 'side'],
        status: { phase: 'Running', containerStatuses: [cs('job', terminated(0, 'Completed')), cs('side', running, { ready: true })] },
      }),
      ready: '1/2',
      status: 'NotReady',
    },
    {
      name: 'the first init container still running shows Init:0/2',
      pod: pod({ init: ['i1', 'i2'], status: { phase: 'Pending', initContainerStatuses: [cs('i1', running), cs('i2', waiting('PodInitializing'))] } }),
      ready: '0/1',
      status: 'Init:0/2',
    },
    {
      name: 'the second init container running after the first succeeded shows Init:1/2',
      pod: pod({ init: ['i1', 'i2'], status: { phase: 'Pending', initContainerStatuses: [cs('i1', terminated(0, 'Completed')), cs('i2', running)] } }),
      ready: '0/1',
      status: 'Init:1/2',
    },
    {
      name: 'an init container in CrashLoopBackOff shows Init:CrashLoopBackOff and its restarts',
      pod: pod({
        init: ['i1'],
        status: {
          phase: 'Pending',
          initContainerStatuses: [cs('i1', waiting('CrashLoopBackOff'), { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: minutesAgo(3) } } })],
          containerStatuses: [cs('app', waiting('PodInitializing'))],
        },
      }),
      ready: '0/1',
      status: 'Init:CrashLoopBackOff',
      restarts: '2 (3m ago)',
    },
    {
      name: 'a failed init container shows Init: and its termination reason',
      pod: pod({ init: ['i1'], status: { phase: 'Pending', initContainerStatuses: [cs('i1', terminated(1, 'Error'))] } }),
      ready: '0/1',
      status: 'Init:Error',
    },
    {
      name: 'a failed init container without a reason shows Init:ExitCode',
      pod: pod({ init: ['i1'], status: { phase: 'Pending', initContainerStatuses: [cs('i1', terminated(2))] } }),
      ready: '0/1',
      status: 'Init:ExitCode:2',
    },
    {
      name: 'an init container killed by a signal shows Init:Signal',
      pod: pod({ init: ['i1'], status: { phase: 'Pending', initContainerStatuses: [cs('i1', terminated(143, undefined, 15))] } }),
      ready: '0/1',
      status: 'Init:Signal:15',
    },
    {
      name: 'a started sidecar init container counts toward READY and its restarts are kept',
      pod: pod({
        init: [{ name: 'proxy', restartPolicy: 'Always' }],
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [cs('proxy', running, { ready: true, started: true, restartCount: 1 })],
          containerStatuses: [cs('app', running, { ready: true, restartCount: 2 })],
        },
      }),
      ready: '2/2',
      status: 'Running',
      restarts: '3',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = summarizePod(c.pod, now);
      assert.equal(got.status, c.status);
      assert.equal(got.ready, c.ready);
      if (c.restarts !== undefined) assert.equal(got.restarts, c.restarts);
    });
  }
});

describe('pod wide cells', () => {
  it('fills IP, node, nominated node and readiness gates, with <none> when absent', () => {
    const p = pod({
      readinessGates: ['lb-ready', 'dns-ready'],
      status: {
        phase: 'Running',
        podIPs: [{ ip: '10.1.0.5' }],
        conditions: [{ type: 'lb-ready', status: 'True' }, { type: 'dns-ready', status: 'False' }],
        containerStatuses: [cs('app', running, { ready: true })],
      },
    });
    p.spec!.nodeName = 'node-a';
    const cells = podCells(p, now);
    assert.equal(cells.length, POD_COLUMNS.length);
    assert.deepEqual(cells, ['p', '1/1', 'Running', '0', '30m', '10.1.0.5', 'node-a', '<none>', '1/2']);
    const bare = podCells(pod({ status: { phase: 'Pending', nominatedNodeName: 'node-b' } }), now);
    assert.deepEqual(bare.slice(5), ['<none>', '<none>', 'node-b', '<none>']);
  });
  it('falls back to status.podIP when podIPs is empty', () => {
    assert.equal(podCells(pod({ status: { podIP: '10.1.0.9' } }), now)[5], '10.1.0.9');
  });
});

describe('pod row conditions', () => {
  it('marks succeeded and failed pods Completed and leaves running pods unmarked', () => {
    assert.equal(podRowConditions(pod({ status: { phase: 'Succeeded' } }))?.[0]?.reason, 'Succeeded');
    assert.equal(podRowConditions(pod({ status: { phase: 'Failed' } }))?.[0]?.type, 'Completed');
    assert.equal(podRowConditions(pod({ status: { phase: 'Running' } })), undefined);
  });
});
