import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector } from '../types.ts';
import { formatLabelSelector, formatLabels, selectorString } from './selector-format.ts';

describe('formatLabels', () => {
  it('joins labels as k=v sorted by key', () => {
    assert.equal(formatLabels({ tier: 'web', app: 'shop', 'a.b/c': 'x' }), 'a.b/c=x,app=shop,tier=web');
  });
  it('prints <none> for a missing or empty map', () => {
    assert.equal(formatLabels(undefined), '<none>');
    assert.equal(formatLabels({}), '<none>');
  });
});

describe('formatLabelSelector', () => {
  const cases: [string, LabelSelector | undefined, string][] = [
    ['a missing selector', undefined, '<none>'],
    ['an empty selector', {}, '<none>'],
    ['matchLabels sorted by key', { matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    ['In with sorted values in parentheses', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, 'env in (dev,prod)'],
    ['NotIn', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['qa'] }] }, 'env notin (qa)'],
    ['Exists as the bare key', { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, 'canary'],
    ['DoesNotExist with a bang', { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, '!canary'],
    [
      'labels and expressions interleaved by key',
      { matchLabels: { m: 'x' }, matchExpressions: [{ key: 'z', operator: 'Exists' }, { key: 'a', operator: 'In', values: ['1'] }] },
      'a in (1),m=x,z',
    ],
    ['In without values as an error', { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }, '<error>'],
    ['Exists with values as an error', { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] }, '<error>'],
  ];
  for (const [what, sel, want] of cases) {
    it(`formats ${what} as ${want}`, () => assert.equal(formatLabelSelector(sel), want));
  }
  it('gives the raw string without placeholders, and undefined for an invalid selector', () => {
    assert.equal(selectorString({}), '');
    assert.equal(selectorString({ matchLabels: { app: 'web' } }), 'app=web');
    assert.equal(selectorString({ matchExpressions: [{ key: 'k', operator: 'NotIn' }] }), undefined);
  });
});
