import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  byteLength,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNSSubdomain,
} from './names.ts';

type Check = (v: string) => string[];
const cases: { fn: string; check: Check; valid: string[]; invalid: string[] }[] = [
  { fn: 'isDNS1123Label', check: isDNS1123Label, valid: ['a', 'my-name', '123-abc', 'a'.repeat(63)], invalid: ['', 'A', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)] },
  { fn: 'isDNS1123Subdomain', check: isDNS1123Subdomain, valid: ['example.com', 'a-b.c', '1.2'], invalid: ['', 'Example.com', 'a..b', '.a', 'a.', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`] },
  { fn: 'isDNS1035Label', check: isDNS1035Label, valid: ['a', 'my-svc', 'abc-123'], invalid: ['1abc', 'a_b', 'a-', 'Abc'] },
  { fn: 'isQualifiedName', check: isQualifiedName, valid: ['app', 'MyName', 'my.name', 'example.com/MyName', 'a_b'], invalid: ['', '/a', 'a/', 'a/b/c', '-a', 'Ex.com/a', `${'a'.repeat(64)}`] },
  { fn: 'isValidLabelValue', check: isValidLabelValue, valid: ['', 'MyValue', 'my_value', '12345'], invalid: ['-a', 'a b', 'a'.repeat(64)] },
  { fn: 'isConfigMapKey', check: isConfigMapKey, valid: ['key.name', 'KEY_NAME', 'key-name', '.hidden'], invalid: ['', 'a/b', '.', '..', '..x', 'a b'] },
  { fn: 'isEnvVarName', check: isEnvVarName, valid: ['MY_ENV', 'my.env-name', '_x'], invalid: ['1A', 'A=B', '', '..'] },
  { fn: 'isValidPortName', check: isValidPortName, valid: ['http', 'h2c', 'web-8080'], invalid: ['', '8080', 'a--b', '-http', 'http-', 'HTTP', 'abcdefghijklmnop'] },
  { fn: 'isValidPercent', check: isValidPercent, valid: ['0%', '25%', '100%'], invalid: ['25', '%', '2.5%', '-1%'] },
  { fn: 'isWildcardDNS1123Subdomain', check: isWildcardDNS1123Subdomain, valid: ['*.example.com'], invalid: ['*', 'example.com', '*.*.example.com', 'a.*.com'] },
];

describe('name validators', () => {
  for (const c of cases) {
    for (const v of c.valid) it(`${c.fn} accepts ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`, () => assert.deepEqual(c.check(v), []));
    for (const v of c.invalid) it(`${c.fn} rejects ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`, () => assert.notDeepEqual(c.check(v), []));
  }

  it('a DNS-1123 label error carries the upstream message with examples and regex', () => {
    assert.deepEqual(isDNS1123Label('Bad_Name'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('a dotted name is rejected as a label with "must not contain dots"', () => {
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  });

  it('an over-long subdomain reports the length before the syntax', () => {
    const errs = isDNS1123Subdomain(`${'a'.repeat(254)}`);
    assert.equal(errs[0], 'must be no more than 253 characters');
  });

  it('a qualified name with an empty prefix says which part is wrong', () => {
    assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
  });

  it('port numbers are valid only from 1 to 65535', () => {
    assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
    assert.deepEqual(isValidPortNum(65536), ['must be between 1 and 65535, inclusive']);
    assert.deepEqual(isValidPortNum(65535), []);
  });

  it('a generateName prefix may end in a dash', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.notDeepEqual(nameIsDNSSubdomain('web-', false), []);
  });
});

describe('shared rules, upstream wording', () => {
  it('a qualified name part over 63 bytes reports the length in characters, as upstream', () => {
    assert.equal(isQualifiedName(`example.com/${'a'.repeat(64)}`)[0], 'name part must be no more than 63 characters');
    assert.equal(isValidLabelValue('a'.repeat(64))[0], 'must be no more than 63 characters');
  });
  const lengths: [string, string, number][] = [
    ['ASCII', 'abc', 3],
    ['two-byte characters', 'é', 2],
    ['a surrogate pair', '\u{1F600}', 4],
    ['a lone high surrogate (U+FFFD when decoded)', '\ud800', 3],
    ['two high surrogates', '\ud800\ud800', 6],
  ];
  for (const [what, s, want] of lengths) it(`byteLength counts ${what} as ${want} bytes`, () => assert.equal(byteLength(s), want));
});
