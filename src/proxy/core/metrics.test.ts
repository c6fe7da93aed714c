import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, proxyHistograms } from './metrics.ts';

describe('Prometheus histograms', () => {
  it('counts observations cumulatively per bucket with +Inf, sum and count', () => {
    const h = new Histogram('x_seconds', 'help text', [0.1, 1]);
    for (const v of [0.05, 0.5, 0.5, 3]) h.observe(v);
    assert.equal(h.render(), [
      '# HELP x_seconds help text', '# TYPE x_seconds histogram',
      'x_seconds_bucket{le="0.1"} 1', 'x_seconds_bucket{le="1"} 3', 'x_seconds_bucket{le="+Inf"} 4',
      'x_seconds_sum 4.05', 'x_seconds_count 4', '',
    ].join('\n'));
  });

  it('uses kube-proxy\'s metric names and sync buckets (1ms doubling, 15 buckets)', () => {
    const { syncDuration, networkProgramming } = proxyHistograms();
    assert.equal(syncDuration.name, 'kubeproxy_sync_proxy_rules_duration_seconds');
    assert.equal(networkProgramming.name, 'kubeproxy_network_programming_duration_seconds');
    assert.equal(syncDuration.buckets.length, 15);
    assert.equal(syncDuration.buckets.at(-1), 0.001 * 2 ** 14);
  });
});
