import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, MAX_RECORD_CONTENT, formatRecord, parseRecord, renderForClient, rfc3339Nano } from './cri-log.ts';

describe('CRI log format', () => {
  it('prints RFC3339Nano with trailing zeros trimmed', () => {
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), '2024-01-02T03:04:05.12Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 0)), '2024-01-02T03:04:05Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 1), 7), '2024-01-02T03:04:05.001000007Z');
  });

  it('splits chunks into full lines and keeps an unterminated tail for later', () => {
    const s = new LineSplitter('stdout');
    assert.deepEqual(s.push('a\nb', 'T1').map((r) => [r.content, r.partial]), [['a', false]]);
    assert.deepEqual(s.push('c\n\n', 'T2').map((r) => [r.content, r.partial]), [['bc', false], ['', false]]);
    assert.deepEqual(s.flush('T3').length, 0);
    s.push('tail', 'T4');
    assert.deepEqual(s.flush('T5').map((r) => r.content), ['tail']);
  });

  it('cuts an over-long line into partial records', () => {
    const s = new LineSplitter('stderr');
    const recs = s.push('x'.repeat(MAX_RECORD_CONTENT + 10) + '\n', 'T');
    assert.deepEqual(recs.map((r) => [r.content.length, r.partial]), [[MAX_RECORD_CONTENT, true], [10, false]]);
    assert.equal(renderForClient(recs, false), 'x'.repeat(MAX_RECORD_CONTENT + 10) + '\n');
  });

  it('round-trips records through the file format', () => {
    const r = { time: '2024-01-02T03:04:05.1Z', stream: 'stderr' as const, partial: false, content: 'hello world' };
    const line = formatRecord(r);
    assert.equal(line, '2024-01-02T03:04:05.1Z stderr F hello world\n');
    assert.deepEqual(parseRecord(line.slice(0, -1)), r);
    assert.equal(parseRecord('garbage'), undefined);
    assert.equal(renderForClient([r], true), '2024-01-02T03:04:05.1Z hello world\n');
  });
});
