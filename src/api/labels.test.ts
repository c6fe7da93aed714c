import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from './errors.ts';
import {
  describeLabelSelector,
  formatLabelSelector,
  formatRequirements,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  labelSelectorMatches,
  matchesLabels,
  newLabelRequirement,
  parseLabelSelector,
  requirementsFromLabelSelector,
  requirementsFromSet,
  validateLabelSelector,
} from './labels.ts';
import type { LabelSelector } from './types.ts';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail('expected a 400 ApiError');
}

describe('parseLabelSelector', () => {
  const valid: { name: string; input: string; printed: string }[] = [
    { name: 'an empty string selects everything', input: '', printed: '' },
    { name: 'whitespace alone selects everything', input: '  \t ', printed: '' },
    { name: 'equality with = keeps the operator', input: 'app=web', printed: 'app=web' },
    { name: 'equality with == keeps the operator', input: 'app==web', printed: 'app==web' },
    { name: 'inequality is parsed', input: 'app!=web', printed: 'app!=web' },
    { name: 'a bare key means the key exists', input: 'app', printed: 'app' },
    { name: 'a leading ! means the key does not exist', input: '!app', printed: '!app' },
    { name: 'set membership sorts its values', input: 'tier in (z,a, m)', printed: 'tier in (a,m,z)' },
    { name: 'set exclusion is parsed', input: 'tier notin (a)', printed: 'tier notin (a)' },
    { name: 'numeric comparisons are parsed', input: 'n>1,m<10', printed: 'm<10,n>1' },
    { name: 'requirements are sorted by key', input: 'b=1, a=2 ,c', printed: 'a=2,b=1,c' },
    { name: 'an empty value after = is allowed', input: 'a=', printed: 'a=' },
    { name: 'empty parentheses hold the empty value', input: 'a in ()', printed: 'a in ()' },
    { name: 'the keyword in may be used as a key and a value', input: 'in in (in)', printed: 'in in (in)' },
    { name: 'a prefixed key is accepted', input: 'example.com/role=db', printed: 'example.com/role=db' },
    { name: 'repeated values in a set collapse', input: 'a in (x,x,y)', printed: 'a in (x,y)' },
  ];
  for (const c of valid) {
    it(c.name, () => assert.equal(formatRequirements(parseLabelSelector(c.input)), c.printed));
  }

  const invalid: { name: string; input: string; message: string | RegExp }[] = [
    { name: 'two words without an operator are rejected with the expected operators', input: 'a b',
      message: "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt" },
    { name: 'a trailing comma is rejected', input: 'a=b,', message: "found '', expected: identifier after ','" },
    { name: 'a leading operator is rejected', input: '=a', message: "found '=', expected: !, identifier, or 'end of string'" },
    { name: 'an in without parentheses is rejected', input: 'a in b', message: "unable to parse requirement: found 'b' expected: '('" },
    { name: 'a negated key with a value is rejected after the requirement', input: '!a=b', message: "found '=', expected: ',' or 'end of string'" },
    { name: 'a non-integer comparison value is rejected with its field', input: 'a>x',
      message: `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer` },
    { name: 'an invalid key is reported like upstream with a nil path', input: 'a@b=c', message: /^unable to parse requirement: <nil>: Invalid value: "a@b": name part must consist of/ },
    { name: 'an invalid value is reported under values[i][key]', input: 'a=-x', message: /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "-x": a valid label must be an empty string/ },
  ];
  for (const c of invalid) {
    it(c.name, () => {
      const msg = badRequestMessage(() => parseLabelSelector(c.input));
      if (typeof c.message === 'string') assert.equal(msg, c.message);
      else assert.match(msg, c.message);
    });
  }
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const cases: { name: string; selector: string; labels: Record<string, string> | undefined; want: boolean }[] = [
    { name: 'equality matches an equal value', selector: 'app=web', labels, want: true },
    { name: 'equality fails on a different value', selector: 'app=db', labels, want: false },
    { name: 'equality fails when the key is absent', selector: 'zone=a', labels, want: false },
    { name: 'inequality matches objects lacking the key', selector: 'zone!=a', labels, want: true },
    { name: 'a selector with notin includes objects lacking the key', selector: 'zone notin (a)', labels, want: true },
    { name: 'notin excludes a listed value', selector: 'tier notin (front,back)', labels, want: false },
    { name: 'in matches a listed value', selector: 'tier in (back,front)', labels, want: true },
    { name: 'exists requires the key', selector: 'tier', labels, want: true },
    { name: 'does-not-exist rejects a present key', selector: '!tier', labels, want: false },
    { name: 'greater-than compares as integers', selector: 'n>4', labels, want: true },
    { name: 'less-than compares as integers, not strings', selector: 'n<10', labels, want: true },
    { name: 'a comparison fails on a non-numeric label', selector: 'app>1', labels, want: false },
    { name: 'all requirements must hold', selector: 'app=web,tier=back', labels, want: false },
    { name: 'undefined labels satisfy only negative requirements', selector: '!app,zone notin (a)', labels: undefined, want: true },
    { name: 'undefined labels fail an exists requirement', selector: 'app', labels: undefined, want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(matchesLabels(parseLabelSelector(c.selector), c.labels), c.want));
  }
});

describe('LabelSelector objects', () => {
  it('matchLabels and matchExpressions print sorted by key, as Scale status.selector carries them', () => {
    const sel: LabelSelector = {
      matchLabels: { tier: 'web', app: 'nginx' },
      matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'legacy', operator: 'DoesNotExist' }],
    };
    assert.equal(formatLabelSelector(sel), 'app=nginx,env in (dev,prod),!legacy,tier=web');
  });

  it('an empty selector matches everything', () => {
    assert.equal(labelSelectorMatches({}, { a: 'b' }), true);
    assert.equal(labelSelectorMatches({}, undefined), true);
  });

  it('a missing selector matches nothing unless asked to match everything', () => {
    assert.equal(labelSelectorMatches(undefined, { a: 'b' }), false);
    assert.equal(labelSelectorMatches(null, { a: 'b' }), false);
    assert.equal(labelSelectorMatches(undefined, { a: 'b' }, { whenNil: 'everything' }), true);
  });

  it('matchExpressions select by operator', () => {
    const sel: LabelSelector = { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }, { key: 'app', operator: 'Exists' }] };
    assert.equal(labelSelectorMatches(sel, { app: 'x', env: 'dev' }), true);
    assert.equal(labelSelectorMatches(sel, { app: 'x', env: 'prod' }), false);
    assert.equal(labelSelectorMatches(sel, { env: 'dev' }), false);
  });

  const invalid: { name: string; sel: LabelSelector; message: string }[] = [
    { name: 'In without values names the values field', sel: { matchExpressions: [{ key: 'a', operator: 'In' }] },
      message: "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'" },
    { name: 'Exists with values names the values field', sel: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      message: "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" },
    { name: 'an unknown operator names the operator field', sel: { matchExpressions: [{ key: 'a', operator: 'Gt' as 'In', values: ['1'] }] },
      message: 'spec.selector.matchExpressions[0].operator: Invalid value: "Gt": not a valid selector operator' },
  ];
  for (const c of invalid) {
    it(c.name, () => assert.equal(badRequestMessage(() => requirementsFromLabelSelector(c.sel, 'spec.selector')), c.message));
  }

  it('validateLabelSelector reports bad matchLabels keys and values under matchLabels', () => {
    const errs = validateLabelSelector({ matchLabels: { 'a/b/c': 'ok', good: '-bad' } }, 'spec.selector');
    assert.deepEqual(errs.map((e) => [e.field, e.value]), [['spec.selector.matchLabels', 'a/b/c'], ['spec.selector.matchLabels', '-bad']]);
  });

  it('printers show <none> for an empty selector and <error> for an invalid one', () => {
    assert.equal(describeLabelSelector({}), '<none>');
    assert.equal(describeLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }), '<error>');
    assert.equal(describeLabelSelector({ matchLabels: { a: 'b' } }), 'a=b');
  });

  it('a set selector requires every pair', () => {
    const reqs = requirementsFromSet({ b: '2', a: '1' });
    assert.equal(formatRequirements(reqs), 'a=1,b=2');
    assert.equal(matchesLabels(reqs, { a: '1', b: '2', c: '3' }), true);
    assert.equal(matchesLabels(reqs, { a: '1' }), false);
  });

  it('newLabelRequirement rejects an equality without exactly one value', () => {
    assert.match(badRequestMessage(() => newLabelRequirement('a', '=', [])), /^values: Invalid value: \[\]string\{\}: exact-match compatibility requires one single value$/);
  });
});

describe('syntax validators', () => {
  const dns1123Label = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  const cases: { name: string; fn: (s: string) => string[]; input: string; want: string[] }[] = [
    { name: 'a DNS-1123 label accepts lowercase with dashes', fn: isDNS1123Label, input: 'my-name-1', want: [] },
    { name: 'a DNS-1123 label rejects uppercase with the upstream message', fn: isDNS1123Label, input: 'My', want: [dns1123Label] },
    { name: 'a DNS-1123 label that is a valid subdomain is told it must not contain dots', fn: isDNS1123Label, input: 'a.b', want: ['must not contain dots'] },
    { name: 'a DNS-1123 label over 63 bytes reports the length', fn: isDNS1123Label, input: 'a'.repeat(64), want: ['must be no more than 63 bytes'] },
    { name: 'a DNS-1123 subdomain accepts dots', fn: isDNS1123Subdomain, input: 'a.b-c.d', want: [] },
    { name: 'a DNS-1123 subdomain rejects a trailing dot', fn: isDNS1123Subdomain, input: 'a.', want: [
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"] },
    { name: 'a DNS-1035 label must start with a letter', fn: isDNS1035Label, input: '1abc', want: [
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"] },
    { name: 'a qualified name accepts a DNS prefix', fn: isQualifiedName, input: 'kubernetes.io/Role_1', want: [] },
    { name: 'a qualified name with an empty prefix says so', fn: isQualifiedName, input: '/name', want: ['prefix part must be non-empty'] },
    { name: 'a qualified name with an empty name part says so and shows the regex', fn: isQualifiedName, input: 'x/', want: [
      'name part must be non-empty',
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"] },
    { name: 'a qualified name with two slashes is rejected whole', fn: isQualifiedName, input: 'a/b/c', want: [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"] },
    { name: 'a label value may be empty', fn: isValidLabelValue, input: '', want: [] },
    { name: 'a label value may not end with a dash', fn: isValidLabelValue, input: 'a-', want: [
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"] },
    { name: 'a label value over 63 bytes reports the length', fn: isValidLabelValue, input: 'a'.repeat(64), want: ['must be no more than 63 bytes'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(c.fn(c.input), c.want));
  }
});
