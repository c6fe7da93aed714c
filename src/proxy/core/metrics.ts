// Prometheus histograms, pure: kube-proxy's sync_proxy_rules_duration_seconds and
// network_programming_duration_seconds, rendered in the text exposition format.

export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export function linearBuckets(start: number, width: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + width * i);
}

export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name; this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
    this.counts = this.buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((b, i) => { if (value <= b) this.counts[i] = (this.counts[i] ?? 0) + 1; });
  }

  get samples(): number { return this.count; }
  get total(): number { return this.sum; }

  render(): string {
    const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12))));
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${fmt(b)}"} ${this.counts[i] ?? 0}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${fmt(this.sum)}`, `${this.name}_count ${this.count}`);
    return lines.join('\n') + '\n';
  }
}

/** Upstream's buckets: 1ms doubling 15 times for syncs; 0.25s..30min for network programming. */
export function proxyHistograms(): { syncDuration: Histogram; networkProgramming: Histogram } {
  return {
    syncDuration: new Histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', exponentialBuckets(0.001, 2, 15)),
    networkProgramming: new Histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds',
      [...linearBuckets(0.25, 0.25, 2), ...linearBuckets(1, 1, 59), ...linearBuckets(60, 5, 12), ...linearBuckets(120, 30, 7)]),
  };
}
