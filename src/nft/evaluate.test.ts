import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, evaluateHooks, type DynamicSets, type Packet } from './evaluate.ts';
import { NftModelError, type Ruleset, type Table } from './types.ts';

const t: Table = {
  family: 'ip', name: 'evaltest',
  sets: [
    { name: 'aff', type: ['ipv4_addr'], flags: ['dynamic', 'timeout'], timeoutSeconds: 60, elements: [] },
    { name: 'blocked', type: ['ipv4_addr'], flags: ['interval'], elements: [{ key: ['203.0.113.0/24'] }] },
  ],
  maps: [
    { name: 'svc', type: ['ipv4_addr', 'inet_proto', 'inet_service'], valueType: 'verdict', elements: [
      { key: ['10.96.0.1', 'tcp', 80], value: { kind: 'goto', chain: 'svc-a' } },
      { key: ['10.96.0.2', 'udp', 53], value: { kind: 'goto', chain: 'svc-b' } },
    ] },
    { name: 'noep', type: ['ipv4_addr', 'inet_proto', 'inet_service'], valueType: 'verdict', elements: [{ key: ['10.96.0.9', 'tcp', 80], value: { kind: 'goto', chain: 'rej' } }] },
  ],
  chains: [
    { name: 'svc-a', rules: [
      { match: [{ kind: 'lookup', keys: ['ip saddr'], set: 'aff' }], verdict: { kind: 'goto', chain: 'ep-2' } },
      { match: [], verdict: { kind: 'vmap-inline', key: [{ numgen: 'random', mod: 3 }], entries: [0, 1, 2].map((i) => ({ key: [i], verdict: { kind: 'goto' as const, chain: `ep-${i}` } })) } },
    ] },
    ...[0, 1, 2].map((i) => ({ name: `ep-${i}`, rules: [
      { match: [{ kind: 'cmp' as const, left: 'ip saddr' as const, right: `10.244.0.${i + 2}` }], verdict: { kind: 'jump' as const, chain: 'mark-masq' } },
      { match: [], statements: [{ kind: 'set-update' as const, op: 'update' as const, set: 'aff', keys: ['ip saddr' as const] }] },
      { match: [{ kind: 'cmp' as const, left: 'meta l4proto' as const, right: 'tcp' }], statements: [{ kind: 'dnat' as const, addr: `10.244.0.${i + 2}`, port: 8080 }] },
    ] })),
    { name: 'svc-b', rules: [{ match: [{ kind: 'cmp', left: 'meta l4proto', right: 'udp' }], statements: [{ kind: 'dnat', addr: '10.244.9.9', port: 5353 }] }] },
    { name: 'mark-masq', rules: [{ match: [], statements: [{ kind: 'mark', target: 'meta', op: 'or', value: 0x4000 }] }] },
    { name: 'rej', rules: [{ match: [], verdict: { kind: 'reject', with: { icmp: 'port-unreachable' } } }] },
    { name: 'loop', rules: [{ match: [], verdict: { kind: 'jump', chain: 'loop' } }] },
    { name: 'pre', base: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ match: [], verdict: { kind: 'vmap', key: ['ip daddr', 'meta l4proto', 'th dport'], map: 'svc' } }] },
    { name: 'fwd-early', base: { type: 'filter', hook: 'forward', priority: -110 }, rules: [
      { match: [{ kind: 'cmp', left: 'ct state', right: 'new' }], verdict: { kind: 'vmap', key: ['ip daddr', 'meta l4proto', 'th dport'], map: 'noep' } },
      { match: [{ kind: 'lookup', keys: ['ip saddr'], set: 'blocked' }], verdict: { kind: 'drop' } },
      { match: [{ kind: 'cmp', left: 'fib daddr type', right: 'local' }], verdict: { kind: 'accept' } },
    ] },
    { name: 'fwd-late', base: { type: 'filter', hook: 'forward', priority: 10, policy: 'drop' }, rules: [
      { match: [{ kind: 'cmp', left: 'th dport', right: '8000-8999' }], verdict: { kind: 'accept' } },
    ] },
    { name: 'post', base: { type: 'nat', hook: 'postrouting', priority: 100 }, rules: [
      { match: [{ kind: 'masked', left: 'meta mark', mask: 0x4000, value: 0 }], verdict: { kind: 'return' } },
      { match: [], statements: [{ kind: 'masquerade' }] },
    ] },
    { name: 'out', base: { type: 'filter', hook: 'output', priority: 0 }, rules: [{ match: [], verdict: { kind: 'jump', chain: 'loop' } }] },
  ],
};
const rs: Ruleset = { tables: [t] };
const pkt = (p: Partial<Packet> = {}): Packet => ({ saddr: '10.244.0.50', daddr: '10.96.0.1', l4proto: 'tcp', sport: 40000, dport: 80, ...p });
const fixed = (x: number) => () => x;

describe('nft evaluator', () => {
  const picks: { random: number; endpoint: string }[] = [
    { random: 0.0, endpoint: '10.244.0.2' },
    { random: 0.5, endpoint: '10.244.0.3' },
    { random: 0.99, endpoint: '10.244.0.4' },
  ];
  for (const p of picks) {
    it(`DNATs a ClusterIP packet to ${p.endpoint} when numgen draws ${p.random}`, () => {
      const r = evaluate(rs, pkt(), 'prerouting', { random: fixed(p.random) });
      assert.equal(r.verdict, 'accept');
      assert.equal(r.packet.daddr, p.endpoint);
      assert.equal(r.packet.dport, 8080);
      assert.deepEqual(r.nat.map((n) => n.kind), ['dnat']);
      const ep = `ep-${picks.indexOf(p)}`;
      assert.deepEqual(r.path.map((s) => `${s.chain}#${s.rule}:${s.action}`), ['pre#0:vmap', 'svc-a#1:vmap', `${ep}#1:match`, `${ep}#2:match`]);
    });
  }

  it('leaves a packet for no service untouched (the vmap misses and the policy accepts)', () => {
    const r = evaluate(rs, pkt({ daddr: '10.96.0.7' }), 'prerouting');
    assert.equal(r.packet.daddr, '10.96.0.7');
    assert.equal(r.nat.length, 0);
    assert.equal(r.path.at(-1)?.action, 'policy');
  });

  it('matches the protocol in a concatenated key (UDP service port does not match TCP)', () => {
    assert.equal(evaluate(rs, pkt({ daddr: '10.96.0.2', dport: 53, l4proto: 'udp' }), 'prerouting').packet.daddr, '10.244.9.9');
    assert.equal(evaluate(rs, pkt({ daddr: '10.96.0.2', dport: 53, l4proto: 'tcp' }), 'prerouting').packet.daddr, '10.96.0.2');
  });

  it('skips NAT chains for packets of established connections', () => {
    const r = evaluate(rs, pkt({ ctState: 'established' }), 'prerouting');
    assert.equal(r.packet.daddr, '10.96.0.1');
    assert.equal(r.path[0]?.action, 'skip-nat-chain');
  });

  it('marks a hairpin packet and masquerades it in postrouting', () => {
    const [pre, post] = evaluateHooks(rs, pkt({ saddr: '10.244.0.2', masqueradeAddr: '10.244.0.1' }), ['prerouting', 'postrouting'], { random: fixed(0) });
    assert.equal(pre?.packet.mark, 0x4000);
    assert.equal(post?.packet.saddr, '10.244.0.1');
    assert.equal(post?.nat[0]?.kind, 'masquerade');
  });

  it('does not masquerade an unmarked packet', () => {
    const post = evaluate(rs, pkt({ masqueradeAddr: '10.244.0.1' }), 'postrouting');
    assert.equal(post.packet.saddr, '10.244.0.50');
    assert.equal(post.path[0]?.action, 'return');
  });

  it('rejects a new connection to a service without endpoints with ICMP port unreachable', () => {
    const r = evaluate(rs, pkt({ daddr: '10.96.0.9', fibDaddrType: 'unicast' }), 'forward');
    assert.equal(r.verdict, 'reject');
    assert.deepEqual(r.rejectWith, { icmp: 'port-unreachable' });
  });

  it('runs base chains in priority order: accept in the early chain still meets the later chain', () => {
    const ok = evaluate(rs, pkt({ daddr: '10.244.5.5', dport: 8080, fibDaddrType: 'local' }), 'forward');
    assert.equal(ok.verdict, 'accept');
    assert.deepEqual(ok.path.map((s) => s.chain), ['fwd-early', 'fwd-late']);
    const dropped = evaluate(rs, pkt({ daddr: '10.244.5.5', dport: 22, fibDaddrType: 'local' }), 'forward');
    assert.equal(dropped.verdict, 'drop');
    assert.equal(dropped.path.at(-1)?.action, 'policy');
  });

  it('matches interval set elements by prefix', () => {
    assert.equal(evaluate(rs, pkt({ saddr: '203.0.113.77', daddr: '10.244.5.5', fibDaddrType: 'unicast' }), 'forward').verdict, 'drop');
  });

  it('fails loudly when a rule needs a fact the packet does not give', () => {
    assert.throws(() => evaluate(rs, pkt({ daddr: '10.244.5.5' }), 'forward'), (e: unknown) => e instanceof NftModelError && e.code === 'MissingFact');
  });

  it('detects a jump loop instead of running forever', () => {
    assert.throws(() => evaluate(rs, pkt(), 'output', { maxSteps: 1000 }), (e: unknown) => e instanceof NftModelError && e.code === 'LoopDetected');
  });

  it('keeps a source in a dynamic set while updates refresh it, and forgets it after the timeout', () => {
    const dyn: DynamicSets = new Map();
    const first = evaluate(rs, pkt(), 'prerouting', { random: fixed(0.5), dynamicSets: dyn, now: 100 });
    assert.equal(first.packet.daddr, '10.244.0.3', 'numgen picked ep-1, which adds the source to @aff (expires 160)');
    const second = evaluate(rs, pkt({ sport: 40001 }), 'prerouting', { random: fixed(0), dynamicSets: dyn, now: 150 });
    assert.equal(second.packet.daddr, '10.244.0.4', 'the @aff lookup matched (this table sends members to ep-2), refreshed to 210');
    const third = evaluate(rs, pkt({ sport: 40002 }), 'prerouting', { random: fixed(0), dynamicSets: dyn, now: 205 });
    assert.equal(third.packet.daddr, '10.244.0.4');
    const expired = evaluate(rs, pkt({ sport: 40003 }), 'prerouting', { random: fixed(0), dynamicSets: dyn, now: 300 });
    assert.equal(expired.packet.daddr, '10.244.0.2', 'after the timeout numgen decides again');
  });
});
