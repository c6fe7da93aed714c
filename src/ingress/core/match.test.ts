import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PathType } from '../../api/types.ts';
import { hostMatches, matchKindOf, matchPath, normalizeHost, pathMatches, requestPathOf } from './match.ts';

function matches(pathType: PathType, rulePath: string, requestPath: string): boolean {
  const kind = matchKindOf(pathType);
  return pathMatches(matchPath(rulePath, kind), kind, requestPath);
}

describe('path matching (the Ingress documentation examples, one rule each)', () => {
  const cases: [PathType, string, string, boolean][] = [
    ['Prefix', '/', '/', true],
    ['Prefix', '/', '/anything/at/all', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['Prefix', '/aaa', '/ccc', false],
    ['Prefix', '/foo', '/foobar', false],
    ['Prefix', '/foo', '/foo/bar', true],
    ['Prefix', '/foo', '/Foo', false],
    ['ImplementationSpecific', '/foo', '/foo/bar', true],
    ['ImplementationSpecific', '/foo', '/foobar', false],
  ];
  for (const [type, rule, request, want] of cases) {
    it(`a ${type} rule ${rule} ${want ? 'matches' : 'does not match'} the request path ${request}`, () => {
      assert.equal(matches(type, rule, request), want);
    });
  }
});

describe('host matching', () => {
  const cases: [string, string, boolean][] = [
    ['foo.bar.com', 'foo.bar.com', true],
    ['foo.bar.com', 'bar.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.example.com', 'aexample.com', false],
    ['', 'whatever.org', true],
    ['Foo.Bar.com', 'foo.bar.com', true],
  ];
  for (const [rule, request, want] of cases) {
    it(`the rule host "${rule}" ${want ? 'matches' : 'does not match'} the request host "${request}"`, () => {
      assert.equal(hostMatches(rule, request), want);
    });
  }

  const normal: [string | undefined, string][] = [
    ['Example.COM:8443', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:443', '[::1]'],
    [undefined, ''],
  ];
  for (const [raw, want] of normal) {
    it(`the request host ${JSON.stringify(raw)} normalizes to "${want}" (case, port and trailing dot dropped)`, () => {
      assert.equal(normalizeHost(raw), want);
    });
  }
});

describe('request paths', () => {
  const cases: [string | undefined, string][] = [
    ['/a/b?x=1', '/a/b'],
    ['/a#frag', '/a'],
    ['', '/'],
    ['*', '/'],
    ['http://h.example/x/y?z', '/x/y'],
    ['http://h.example', '/'],
  ];
  for (const [url, want] of cases) {
    it(`the request target ${JSON.stringify(url)} has the path ${want}`, () => {
      assert.equal(requestPathOf(url), want);
    });
  }
});
