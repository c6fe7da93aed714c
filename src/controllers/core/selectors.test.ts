import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector } from '../../api/types.ts';
import { labelSelectorMatcher, matchesSelectorMap } from './selectors.ts';

describe('labelSelectorMatcher', () => {
  const web = { app: 'web', tier: 'front' };
  const cases: { name: string; selector: LabelSelector | null | undefined; labels: Record<string, string> | undefined; want: boolean }[] = [
    { name: 'a missing selector selects nothing', selector: undefined, labels: web, want: false },
    { name: 'a null selector selects nothing', selector: null, labels: web, want: false },
    { name: 'an empty selector selects everything, unlabelled objects included', selector: {}, labels: undefined, want: true },
    { name: 'matchLabels needs every pair', selector: { matchLabels: { app: 'web', tier: 'back' } }, labels: web, want: false },
    { name: 'In matches a listed value', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels: web, want: true },
    { name: 'NotIn matches objects lacking the key', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels: web, want: true },
    { name: 'DoesNotExist rejects objects having the key', selector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels: web, want: false },
    { name: 'an unknown operator selects nothing', selector: { matchExpressions: [{ key: 'app', operator: 'Gt' as 'In', values: ['1'] }] }, labels: web, want: false },
    { name: 'NotIn without values does not convert and selects nothing', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: [] }] }, labels: web, want: false },
    { name: 'an invalid label key selects nothing', selector: { matchLabels: { 'bad key': 'web' } }, labels: { 'bad key': 'web' }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(labelSelectorMatcher(c.selector)(c.labels), c.want));
});

describe('matchesSelectorMap', () => {
  it('an empty or missing map selects everything', () => {
    assert.equal(matchesSelectorMap(undefined, { a: 'b' }), true);
    assert.equal(matchesSelectorMap({}, undefined), true);
  });
  it('every pair must be present with its value', () => {
    assert.equal(matchesSelectorMap({ a: 'b', c: 'd' }, { a: 'b', c: 'd', e: 'f' }), true);
    assert.equal(matchesSelectorMap({ a: 'b', c: 'd' }, { a: 'b' }), false);
    assert.equal(matchesSelectorMap({ a: 'b' }, { a: 'c' }), false);
  });
});
