import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, PodSpec } from '../../api/types.ts';
import { exitCodeForSignal, podConditions, podPhase, shouldRestart } from './pod-status.ts';

const running = (name: string, ready = true): ContainerStatus => ({ name, state: { running: { startedAt: 't' } }, ready, restartCount: 0, image: 'i', imageID: '', started: true });
const terminated = (name: string, exitCode: number): ContainerStatus => ({ name, state: { terminated: { exitCode } }, ready: false, restartCount: 0, image: 'i', imageID: '' });
const waiting = (name: string, reason: string, lastExit?: number): ContainerStatus => ({
  name, state: { waiting: { reason } }, ready: false, restartCount: 1, image: 'i', imageID: '',
  ...(lastExit !== undefined ? { lastState: { terminated: { exitCode: lastExit } } } : {}),
});

const spec = (restartPolicy: PodSpec['restartPolicy'], names = ['a', 'b'], init: string[] = []): PodSpec => ({
  restartPolicy, containers: names.map((name) => ({ name })), ...(init.length > 0 ? { initContainers: init.map((name) => ({ name })) } : {}),
});

describe('pod phase', () => {
  const table: { name: string; spec: PodSpec; init?: ContainerStatus[]; statuses: ContainerStatus[]; terminal?: boolean; phase: string }[] = [
    { name: 'a container still being created keeps the pod Pending', spec: spec('Always'), statuses: [running('a'), waiting('b', 'ContainerCreating')], phase: 'Pending' },
    { name: 'all containers running is Running', spec: spec('Always'), statuses: [running('a'), running('b')], phase: 'Running' },
    { name: 'a crash-looping container with Always keeps the pod Running', spec: spec('Always'), statuses: [running('a'), waiting('b', 'CrashLoopBackOff', 1)], phase: 'Running' },
    { name: 'all exited 0 with Never is Succeeded', spec: spec('Never'), statuses: [terminated('a', 0), terminated('b', 0)], phase: 'Succeeded' },
    { name: 'one failure with Never is Failed', spec: spec('Never'), statuses: [terminated('a', 0), terminated('b', 2)], phase: 'Failed' },
    { name: 'a failure with OnFailure is Running (it will restart)', spec: spec('OnFailure'), statuses: [terminated('a', 0), terminated('b', 2)], phase: 'Running' },
    { name: 'a terminal pod with a failure is Failed even with Always', spec: spec('Always'), statuses: [terminated('a', 0), terminated('b', 137)], terminal: true, phase: 'Failed' },
    { name: 'a pending init container keeps the pod Pending', spec: spec('Always', ['a'], ['i']), init: [running('i')], statuses: [waiting('a', 'PodInitializing')], phase: 'Pending' },
    { name: 'a failed init container with Never fails the pod', spec: spec('Never', ['a'], ['i']), init: [terminated('i', 1)], statuses: [waiting('a', 'PodInitializing')], phase: 'Failed' },
    { name: 'a missing container status is Pending', spec: spec('Always'), statuses: [running('a')], phase: 'Pending' },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.equal(podPhase(row.spec, row.init ?? [], row.statuses, row.terminal ?? false), row.phase);
    });
  }
});

describe('pod conditions', () => {
  it('lists unready containers in ContainersReady and Ready, in the kubelet order', () => {
    const c = podConditions({ spec: spec('Always'), phase: 'Running', initStatuses: [], statuses: [running('a'), running('b', false)], sandboxReady: true, nowIso: 'T1' });
    assert.deepEqual(c.map((x) => [x.type, x.status]), [['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['Ready', 'False'], ['ContainersReady', 'False'], ['PodScheduled', 'True']]);
    assert.equal(c[2]?.reason, 'ContainersNotReady');
    assert.equal(c[3]?.message, 'containers with unready status: [b]');
  });

  it('reports incomplete init containers and PodCompleted for succeeded pods', () => {
    const pending = podConditions({ spec: spec('Always', ['a'], ['i1', 'i2']), phase: 'Pending', initStatuses: [terminated('i1', 0), running('i2')], statuses: [waiting('a', 'PodInitializing')], sandboxReady: true, nowIso: 'T' });
    assert.equal(pending[1]?.message, 'containers with incomplete status: [i2]');
    const done = podConditions({ spec: spec('Never', ['a']), phase: 'Succeeded', initStatuses: [], statuses: [terminated('a', 0)], sandboxReady: false, nowIso: 'T' });
    assert.equal(done.find((x) => x.type === 'Ready')?.reason, 'PodCompleted');
    assert.equal(done[0]?.status, 'False');
  });

  it('keeps lastTransitionTime while a condition keeps its status and blocks Ready on readiness gates', () => {
    const first = podConditions({ spec: spec('Always', ['a']), phase: 'Running', initStatuses: [], statuses: [running('a')], sandboxReady: true, nowIso: 'T1' });
    const second = podConditions({ spec: spec('Always', ['a']), phase: 'Running', initStatuses: [], statuses: [running('a', false)], sandboxReady: true, previous: first, nowIso: 'T2' });
    assert.equal(second.find((x) => x.type === 'PodScheduled')?.lastTransitionTime, 'T1');
    assert.equal(second.find((x) => x.type === 'Ready')?.lastTransitionTime, 'T2');
    const gated = podConditions({ spec: { ...spec('Always', ['a']), readinessGates: [{ conditionType: 'x/y' }] }, phase: 'Running', initStatuses: [], statuses: [running('a')], sandboxReady: true, nowIso: 'T' });
    assert.equal(gated.find((x) => x.type === 'Ready')?.reason, 'ReadinessGatesNotReady');
  });
});

describe('restart rules', () => {
  const rows: [PodSpec['restartPolicy'], number, boolean][] = [['Always', 0, true], ['Always', 1, true], ['OnFailure', 0, false], ['OnFailure', 3, true], ['Never', 1, false], [undefined, 0, true]];
  for (const [policy, code, expect] of rows) {
    it(`restartPolicy ${policy ?? '(default)'} with exit ${code} ${expect ? 'restarts' : 'does not restart'}`, () => {
      assert.equal(shouldRestart(policy, code), expect);
    });
  }
  it('maps signals to 128+n exit codes', () => {
    assert.equal(exitCodeForSignal('SIGKILL'), 137);
    assert.equal(exitCodeForSignal('SIGTERM'), 143);
  });
});
