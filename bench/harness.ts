// The benchmark harness: each bench/*.bench.ts exports a default Benchmark. `npm run bench [name...]` runs
// them, prints one table per benchmark (the figure that matters last) and writes bench/results/<name>.json.
export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** A baseline measured in the same run, and what it is. */
  baseline?: { name: string; value: number };
  /** A published anchor or our goal, for the reader. */
  goal?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<Metric[]>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function renderTable(b: Benchmark, metrics: readonly Metric[]): string {
  const rows = [['metric', 'value', 'unit', 'baseline (same run)', 'ratio', 'goal / anchor']];
  for (const m of metrics) {
    rows.push([m.name, fmt(m.value), m.unit, m.baseline ? `${m.baseline.name}: ${fmt(m.baseline.value)}` : '', m.baseline && m.baseline.value !== 0 ? `${fmt(m.value / m.baseline.value)}x` : '', m.goal ?? '']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [`## ${b.name}: ${b.description}`, line(rows[0] ?? []), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}
