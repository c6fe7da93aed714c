import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicies } from './compile.ts';
import { buildMatrixReport, renderMatrixMarkdown, renderMatrixTable } from './matrix-report.ts';
import { buildPolicyModel } from './model.ts';
import { ns, pod, policy } from './testing.ts';

// Three pods; x/b admits only x/a, so c->b and b->b are the denied cells.
function compiled(): ReturnType<typeof compilePolicies> {
  return compilePolicies(buildPolicyModel({
    namespaces: [ns('x')],
    pods: [pod('x/a', { labels: { pod: 'a' }, ip: '10.0.0.1' }), pod('x/b', { labels: { pod: 'b' }, ip: '10.0.0.2' }), pod('x/c', { labels: { pod: 'c' }, ip: '10.0.0.3' })],
    policies: [policy('x/only-a', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] })],
  }));
}

describe('matrix reports', () => {
  it('explains every cell in row-major order and counts allowed and denied', () => {
    const r = buildMatrixReport(compiled(), { port: 80, protocol: 'TCP' });
    assert.deepEqual(r.pods, ['x/a', 'x/b', 'x/c']);
    assert.deepEqual(r.cells.map((c) => `${c.from}>${c.to}:${c.allowed ? 1 : 0}`), [
      'x/a>x/a:1', 'x/a>x/b:1', 'x/a>x/c:1', 'x/b>x/a:1', 'x/b>x/b:0', 'x/b>x/c:1', 'x/c>x/a:1', 'x/c>x/b:0', 'x/c>x/c:1',
    ]);
    assert.equal(r.allowedCount, 7);
    assert.equal(r.deniedCount, 2);
    assert.deepEqual(r.cells[1]?.ingress.allowedBy, [{ policy: 'x/only-a', policyName: 'only-a', rule: 0, peer: 0, port: null }]);
  });

  it('renders a grid with . for allowed and X for denied, then one line per denied cell', () => {
    const text = renderMatrixTable(buildMatrixReport(compiled(), { port: 80, protocol: 'TCP' }));
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'TCP/80 x/a x/b x/c',
      'x/a    .   .   .',
      'x/b    .   X   .',
      'x/c    .   X   .',
    ]);
    assert.ok(lines.includes('7 allowed, 2 denied (rows: from, columns: to)'));
    assert.ok(lines.includes('X x/c -> x/b: denied: pod x/b is isolated for ingress by policies [only-a]; no ingress rule allows TCP/80 from x/c: policy only-a rule 0 peer 0 requires pod=a in namespace x'));
    assert.equal(lines.filter((l) => l.startsWith('X ')).length, 2);
  });

  it('renders markdown with a header row, an alignment row and one row per source', () => {
    const md = renderMatrixMarkdown(buildMatrixReport(compiled(), { port: 81, protocol: 'UDP' })).split('\n');
    assert.equal(md[0], '| UDP/81 (from \\ to) | x/a | x/b | x/c |');
    assert.equal(md[1], '|---|:-:|:-:|:-:|');
    assert.equal(md[3], '| **x/b** | . | X | . |');
    assert.ok(md.some((l) => l.startsWith('- `x/c` → `x/b`: denied:')));
  });

  it('marks a loopback cell allowed under allowLoopback and keeps what the policies alone say', () => {
    const r = buildMatrixReport(compiled(), { port: 80, protocol: 'TCP', allowLoopback: true });
    const self = r.cells[4];
    assert.equal(self?.allowed, true);
    assert.equal(self?.loopback, true);
    assert.match(self?.explanation ?? '', /^allowed as loopback .*policies alone: denied: pod x\/b is isolated for ingress/);
    assert.equal(r.deniedCount, 1);
  });
});
