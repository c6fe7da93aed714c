// Differential test of the data-plane model against the kernel: a real 2-node cluster with 8 fixed pods over
// 3 namespaces (each serving TCP 80, TCP 81 and UDP 80 as named container ports), put through N random
// scenarios (src/model/random-cluster.ts: labels, 0-4 NetworkPolicies, 0-3 Services of every type). After the
// cluster has converged on a scenario (the API objects, the EndpointSlices, and every node's kube-proxy and
// policy tables exactly as the proxier and the policy agent compute them), every cell is probed in the kernel
// (pod -> pod, pod -> ClusterIP / NodePort / LoadBalancer address, pod -> the external side's TCP 53 and 80,
// node -> pod and ClusterIP, external -> pod, ClusterIP, NodePort and LoadBalancer address) and compared with the possible outcomes of ClusterModel's trace, and the
// pod -> pod cells also with the NetworkPolicy matrix (src/netpol/core). See test/model-differential-support.ts.
// FLATNET_DIFF_SCENARIOS sets N (default 240); the seeds are FLATNET_DIFF_SEED (default 20261122) + 0..N-1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { upCluster, type ClusterFixture } from './support/cluster-fixture.ts';
import {
  matrixOracle, modelOracle, renderDisagreement, runScenario, setupDiffEnv, summaryLine, totals, withoutEndpoints, withoutPolicies, type DiffEnv, type ScenarioResult,
} from './model-differential-support.ts';

const SCENARIOS = Number(process.env['FLATNET_DIFF_SCENARIOS'] ?? 240);
const SEED = Number(process.env['FLATNET_DIFF_SEED'] ?? 20261122);
const MODEL = 'ClusterModel';
const MATRIX = 'netpol matrix';
const NO_POLICIES = `${MODEL} without policies (control)`;
const NO_ENDPOINTS = `${MODEL} without endpoints (control)`;
const CONTROLS = [NO_POLICIES, NO_ENDPOINTS];

describe('the data-plane model against the kernel on random small clusters', () => {
  let c: ClusterFixture | undefined;
  let env: DiffEnv | undefined;

  before(async () => {
    c = await upCluster({ nodes: 2 });
    env = await setupDiffEnv(c);
  });
  after(async () => {
    await env?.close();
    if (c) {
      const r = await c.down();
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it(`agrees with the kernel on every probed cell of ${SCENARIOS} random scenarios`, async () => {
    assert.ok(env, 'no cluster');
    assert.ok(Number.isInteger(SCENARIOS) && SCENARIOS > 0, `FLATNET_DIFF_SCENARIOS=${SCENARIOS}`);
    const t0 = performance.now();
    const results: ScenarioResult[] = [];
    for (let i = 0; i < SCENARIOS; i++) {
      // The second and last scenarios also check that the probe server classifies as `flatnet probe` does; every
      // fifth also asks the controls (the model blind to policies, to endpoints), which must disagree in the run.
      const oracles = i % 5 === 1 ? [modelOracle, matrixOracle, withoutPolicies(modelOracle), withoutEndpoints(modelOracle)] : [modelOracle, matrixOracle];
      const r = await runScenario(env, SEED + i, oracles, { crossCheck: i === Math.min(1, SCENARIOS - 1) || i === SCENARIOS - 1 });
      results.push(r);
      assert.equal(r.cells, r.expectedCells, `seed ${r.seed}: ${r.cells} cells probed, the scenario implies ${r.expectedCells}`);
      assert.equal(r.compared[MODEL], r.cells, `seed ${r.seed}: the model answered ${r.compared[MODEL]} of ${r.cells} cells`);
      assert.equal(r.compared[MATRIX], env.pods.length * env.pods.length * 3, `seed ${r.seed}: the matrix answered ${r.compared[MATRIX]} cells`);
      if (i % 40 === 39) {
        const found = results.reduce((a, x) => a + x.disagreements.filter((d) => !CONTROLS.includes(d.oracle)).length, 0);
        process.stderr.write(`  ${i + 1} scenarios, ${found} disagreements, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
    const summary = { oracles: [MODEL, MATRIX, ...CONTROLS], results, wallMs: performance.now() - t0 };
    process.stderr.write(`${summaryLine(summary)}\n`);
    const all = totals(summary);
    const t = { ...all, disagreements: all.disagreements.filter((d) => !CONTROLS.includes(d.oracle)) };
    process.stderr.write(`  cells by kind: ${Object.entries(t.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    // A run that compared nothing, or saw only one kind of answer, proves nothing.
    for (const result of ['connected', 'timeout', 'refused']) assert.ok((t.kernel[result] ?? 0) > 0, `the kernel never answered ${result}`);
    for (const kind of ['pod-pod', 'pod-clusterip', 'pod-nodeport', 'pod-lb', 'pod-external', 'node-pod', 'node-clusterip', 'external-pod', 'external-clusterip', 'external-nodeport', 'external-lb']) {
      assert.ok((t.byKind[kind] ?? 0) > 0, `no ${kind} cell was probed`);
    }
    // The controls must be caught, on the cells where the model itself agreed with the kernel: policies only
    // ever drop (where the policy-blind model is wrong, the kernel timed out), and endpoints make Services
    // answer (the endpoint-blind model misses connections).
    const problems: string[] = [];
    if (SCENARIOS >= 10) {
      const modelMissed = new Set(t.disagreements.map((d) => `${d.seed} ${d.cell}`));
      const control = (name: string) => all.disagreements.filter((d) => d.oracle === name && !modelMissed.has(`${d.seed} ${d.cell}`));
      const noPolicies = control(NO_POLICIES);
      const noEndpoints = control(NO_ENDPOINTS);
      if (noPolicies.length === 0) problems.push('the policy-blind control never disagreed with the kernel: the comparison cannot see policies');
      if (!noEndpoints.some((d) => d.kernel.startsWith('connected'))) problems.push('the endpoint-blind control never missed a connection: the comparison cannot see Services');
      for (const d of noPolicies.filter((x) => !x.kernel.startsWith('timeout'))) problems.push(`control without policies: seed ${d.seed} ${d.cell}: the kernel answered ${d.kernel}, not a policy drop`);
    }
    if (t.disagreements.length > 0) {
      const bySeed = new Map<number, number>();
      for (const d of t.disagreements) bySeed.set(d.seed, (bySeed.get(d.seed) ?? 0) + 1);
      problems.push(
        `${t.disagreements.length} disagreements between the kernel and the oracles, in ${bySeed.size} scenarios (seed: count) ${[...bySeed].map(([s, n]) => `${s}: ${n}`).join(', ')}`,
        ...t.disagreements.slice(0, 20).map(renderDisagreement),
        ...t.disagreements.slice(20).map((d) => `seed ${d.seed}: ${d.cell}: kernel ${d.kernel}, ${d.oracle} ${d.model.join('|')}`),
      );
    }
    if (problems.length > 0) assert.fail(problems.join('\n'));
  });
});
