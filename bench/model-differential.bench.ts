// The data-plane model against the kernel, at scale: the loop of test/model-differential.test.ts (a real
// 2-node cluster, 8 fixed pods over 3 namespaces, random labels / NetworkPolicies / Services per scenario,
// every cell probed and compared with ClusterModel's possible outcomes and, for pod -> pod, the NetworkPolicy
// matrix) over many more scenarios. Reports the agreement rate per oracle and the scenarios per second.
// Env: FLATNET_BENCH_DIFF_SCENARIOS (1000), FLATNET_BENCH_DIFF_SEED (first seed; default 20261122 + 100000,
// past the test's seeds), FLATNET_BENCH_DIFF_BACKEND (host-gw or vxlan; default host-gw). A scenario that does
// not converge is counted and skipped, not fatal.
import { upCluster } from '../test/support/cluster-fixture.ts';
import {
  matrixOracle, modelOracle, renderDisagreement, runScenario, setupDiffEnv, summaryLine, totals, type DiffEnv, type ScenarioResult,
} from '../test/model-differential-support.ts';
import { percentile, type Benchmark, type Metric } from './harness.ts';

const env = (k: string, d: number) => Number(process.env[`FLATNET_BENCH_DIFF_${k}`] ?? d);
const MODEL = 'ClusterModel';
const MATRIX = 'netpol matrix';

const bench: Benchmark = {
  name: 'model-differential',
  description: 'data-plane model vs kernel on random small clusters (2 nodes, 8 pods): agreement and scenarios/s',
  async run(log) {
    const n = env('SCENARIOS', 1000);
    const seed = env('SEED', 20261122 + 100_000);
    const backend = process.env['FLATNET_BENCH_DIFF_BACKEND'] === 'vxlan' ? 'vxlan' : 'host-gw';
    const t0 = performance.now();
    const c = await upCluster({ nodes: 2, backend });
    let d: DiffEnv | undefined;
    const results: ScenarioResult[] = [];
    const failures: string[] = [];
    try {
      d = await setupDiffEnv(c);
      log(`cluster ${c.name} (${backend}) up and 8 pods running after ${((performance.now() - t0) / 1000).toFixed(1)} s; ${n} scenarios from seed ${seed}`);
      const loop0 = performance.now();
      for (let i = 0; i < n; i++) {
        try {
          results.push(await runScenario(d, seed + i, [modelOracle, matrixOracle], { crossCheck: i === 0 }));
        } catch (e) {
          failures.push(`seed ${seed + i}: ${e instanceof Error ? e.message : String(e)}`);
          log(`seed ${seed + i} failed: ${failures[failures.length - 1] ?? ''}`);
          if (failures.length > 20) throw new Error(`too many failed scenarios: ${failures.slice(0, 5).join('; ')}`, { cause: e });
        }
        if (i % 50 === 49) log(`${i + 1} scenarios, ${results.reduce((a, r) => a + r.disagreements.length, 0)} disagreements, ${((performance.now() - loop0) / 1000).toFixed(0)} s`);
      }
      const loopMs = performance.now() - loop0;
      const summary = { oracles: [MODEL, MATRIX], results, wallMs: loopMs };
      log(summaryLine(summary));
      const t = totals(summary);
      for (const dis of t.disagreements.slice(0, 20)) log(renderDisagreement(dis));
      const rate = (o: string) => {
        const compared = t.compared[o] ?? 0;
        return compared === 0 ? NaN : (100 * (compared - t.disagreements.filter((x) => x.oracle === o).length)) / compared;
      };
      const sorted = (f: (r: ScenarioResult) => number) => results.map(f).sort((a, b) => a - b);
      const metrics: Metric[] = [
        { name: 'scenarios run (converged)', value: results.length, unit: 'scenarios' },
        { name: 'scenarios that did not converge', value: failures.length, unit: 'scenarios' },
        { name: 'cells probed and compared with the model', value: t.compared[MODEL] ?? 0, unit: 'cells' },
        { name: 'disagreements with the model', value: t.disagreements.filter((x) => x.oracle === MODEL).length, unit: 'cells' },
        { name: 'disagreements with the netpol matrix (pod -> pod)', value: t.disagreements.filter((x) => x.oracle === MATRIX).length, unit: 'cells' },
        { name: 're-probed into agreement (timing noise)', value: t.reprobedAgreed, unit: 'cells' },
        { name: 'per scenario p50: converge (API + both nodes\' kernels)', value: percentile(sorted((r) => r.convergeMs), 50), unit: 'ms' },
        { name: 'per scenario p50: probe every cell', value: percentile(sorted((r) => r.probeMs), 50), unit: 'ms' },
        { name: 'per scenario p50: model build + traces', value: percentile(sorted((r) => r.oracleMs), 50), unit: 'ms' },
        { name: 'per scenario p99: total', value: percentile(sorted((r) => r.totalMs), 99), unit: 'ms' },
        { name: 'netpol matrix agreement', value: rate(MATRIX), unit: '%' },
        { name: 'scenarios per second', value: results.length / (loopMs / 1000), unit: '1/s' },
        { name: 'model agreement', value: rate(MODEL), unit: '%', goal: '100% (every disagreement is a bug in the model, the rules or the harness)' },
      ];
      return metrics;
    } finally {
      await d?.close();
      await c.down();
    }
  },
};

export default bench;
