// The truth table of `flatnet matrix`: the compiled matrix for one port, every cell's explanation from the
// explaining evaluator (which must agree with the matrix), and its renderings — a cyclonus-like grid
// (`.` allowed, `X` denied), markdown, and JSON. Pure.
import type { Protocol } from '../../api/types.ts';
import { computeMatrix, type CompiledPolicies, type PolicyMatrix } from './compile.ts';
import { evaluateConnection, type DirectionVerdict, type RuleRef } from './evaluate.ts';

export interface MatrixDirection {
  allowed: boolean;
  isolated: boolean;
  isolatingPolicies: string[];
  allowedBy: RuleRef[];
  explanation: string;
}

export interface MatrixCell {
  from: string;
  to: string;
  allowed: boolean;
  /** True when allowed only because allowLoopback counts a pod's traffic to itself as allowed. */
  loopback: boolean;
  egress: MatrixDirection;
  ingress: MatrixDirection;
  explanation: string;
}

export interface MatrixReport {
  port: number;
  protocol: Protocol;
  allowLoopback: boolean;
  pods: string[];
  /** Row-major: cells[from * pods.length + to]. */
  cells: MatrixCell[];
  allowedCount: number;
  deniedCount: number;
}

function direction(d: DirectionVerdict): MatrixDirection {
  return { allowed: d.allowed, isolated: d.isolated, isolatingPolicies: d.isolatingPolicies, allowedBy: d.allowedBy, explanation: d.explanation };
}

/**
 * Computes the matrix and explains every cell. Throws an Error if the compiled matrix and the explaining
 * evaluator ever disagree (a bug, never a property of the input).
 */
export function buildMatrixReport(compiled: CompiledPolicies, options: { port: number; protocol: Protocol; allowLoopback?: boolean }): MatrixReport {
  const matrix: PolicyMatrix = computeMatrix(compiled, options);
  const pods = [...matrix.pods];
  const n = pods.length;
  const cells: MatrixCell[] = [];
  let allowedCount = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const from = pods[i] ?? '';
      const to = pods[j] ?? '';
      const v = evaluateConnection(compiled.model, { from: { pod: from }, to: { pod: to }, port: options.port, protocol: options.protocol });
      const k = i * n + j;
      if ((matrix.egress[k] === 1) !== v.egress.allowed || (matrix.ingress[k] === 1) !== v.ingress.allowed) {
        throw new Error(`internal: compiled matrix and evaluator disagree on ${from} -> ${to}`);
      }
      const allowed = matrix.allowed[k] === 1;
      const loopback = allowed && !v.allowed;
      if (allowed) allowedCount++;
      cells.push({
        from, to, allowed, loopback, egress: direction(v.egress), ingress: direction(v.ingress),
        explanation: loopback ? `allowed as loopback (a pod's traffic to itself stays in its network namespace); policies alone: ${v.explanation}` : v.explanation,
      });
    }
  }
  return {
    port: options.port, protocol: options.protocol, allowLoopback: matrix.allowLoopback, pods, cells,
    allowedCount, deniedCount: n * n - allowedCount,
  };
}

function cell(report: MatrixReport, i: number, j: number): MatrixCell | undefined {
  return report.cells[i * report.pods.length + j];
}

/** The grid (rows: sources, columns: destinations; `.` allowed, `X` denied), then one line per denied cell. */
export function renderMatrixTable(report: MatrixReport): string {
  const title = `${report.protocol}/${report.port}`;
  const width = Math.max(title.length, ...report.pods.map((p) => p.length));
  const lines: string[] = [];
  lines.push([title.padEnd(width), ...report.pods.map((p) => p)].join(' '));
  report.pods.forEach((from, i) => {
    const marks = report.pods.map((to, j) => (cell(report, i, j)?.allowed ? '.' : 'X').padEnd(to.length));
    lines.push([from.padEnd(width), ...marks].join(' ').trimEnd());
  });
  lines.push('', `${report.allowedCount} allowed, ${report.deniedCount} denied (rows: from, columns: to)`);
  const denied = report.cells.filter((c) => !c.allowed);
  if (denied.length > 0) {
    lines.push('');
    for (const c of denied) lines.push(`X ${c.from} -> ${c.to}: ${c.explanation}`);
  }
  return lines.join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** A markdown table of the grid and a list of the denied cells with their explanations. */
export function renderMatrixMarkdown(report: MatrixReport): string {
  const lines: string[] = [];
  lines.push(`| ${report.protocol}/${report.port} (from \\ to) | ${report.pods.map(mdEscape).join(' | ')} |`);
  lines.push(`|---|${report.pods.map(() => ':-:').join('|')}|`);
  report.pods.forEach((from, i) => {
    lines.push(`| **${mdEscape(from)}** | ${report.pods.map((_, j) => (cell(report, i, j)?.allowed ? '.' : 'X')).join(' | ')} |`);
  });
  lines.push('', `${report.allowedCount} allowed, ${report.deniedCount} denied.`);
  const denied = report.cells.filter((c) => !c.allowed);
  if (denied.length > 0) {
    lines.push('', '**Denied:**', '');
    for (const c of denied) lines.push(`- \`${c.from}\` → \`${c.to}\`: ${mdEscape(c.explanation)}`);
  }
  return lines.join('\n');
}
