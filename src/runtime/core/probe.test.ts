import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbeOutcome, httpStatusIsSuccess, initialProbeState, probeAction, probeTiming, resolveProbePort } from './probe.ts';
import type { ProbeKind, ProbeOutcome } from './probe.ts';

describe('probe state machines', () => {
  it('uses upstream defaults for an empty probe', () => {
    assert.deepEqual(probeTiming({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  });

  const table: { name: string; kind: ProbeKind; success?: number; failure?: number; outcomes: ProbeOutcome[]; results: string[]; actions: string[] }[] = [
    { name: 'readiness starts unready and becomes ready after one success', kind: 'readiness', outcomes: ['success'], results: ['success'], actions: ['set-ready'] },
    { name: 'readiness needs failureThreshold consecutive failures to go unready', kind: 'readiness', outcomes: ['success', 'failure', 'failure', 'failure'], results: ['success', 'success', 'success', 'failure'], actions: ['set-ready', 'none', 'none', 'set-unready'] },
    { name: 'a success in between resets the failure streak', kind: 'liveness', outcomes: ['failure', 'failure', 'success', 'failure', 'failure'], results: ['success', 'success', 'success', 'success', 'success'], actions: ['none', 'none', 'none', 'none', 'none'] },
    { name: 'liveness kills after failureThreshold failures', kind: 'liveness', failure: 2, outcomes: ['failure', 'failure'], results: ['success', 'failure'], actions: ['none', 'kill-container'] },
    { name: 'successThreshold 2 needs two successes in a row', kind: 'readiness', success: 2, outcomes: ['success', 'failure', 'success', 'success'], results: ['failure', 'failure', 'failure', 'success'], actions: ['none', 'none', 'none', 'set-ready'] },
    { name: 'startup marks the container started on success', kind: 'startup', outcomes: ['failure', 'success'], results: ['failure', 'success'], actions: ['none', 'mark-started'] },
    { name: 'startup kills once failures reach the threshold', kind: 'startup', failure: 2, outcomes: ['failure', 'failure'], results: ['failure', 'failure'], actions: ['none', 'kill-container'] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const timing = probeTiming({ successThreshold: row.success, failureThreshold: row.failure });
      let state = initialProbeState(row.kind);
      const results: string[] = [];
      const actions: string[] = [];
      for (const o of row.outcomes) {
        const next = applyProbeOutcome(state, o, timing);
        actions.push(probeAction(row.kind, state, next, timing));
        results.push(next.result);
        state = next;
      }
      assert.deepEqual(results, row.results);
      assert.deepEqual(actions, row.actions);
    });
  }

  it('treats 2xx and 3xx as success and resolves named ports', () => {
    assert.deepEqual([199, 200, 302, 399, 400, 500].map(httpStatusIsSuccess), [false, true, true, true, false, false]);
    assert.equal(resolveProbePort('http', [{ name: 'http', containerPort: 8080 }]), 8080);
    assert.equal(resolveProbePort('8081', undefined), 8081);
    assert.equal(resolveProbePort('nope', [{ name: 'http', containerPort: 8080 }]), undefined);
  });
});
