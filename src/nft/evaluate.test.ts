import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, evaluateHooks, type DynamicSets, type Packet } from './evaluate.ts';
import { NftModelError, type DataType, type Ruleset, type Selector, type Table } from './types.ts';

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

describe('nft evaluator set and map lookups (exact index with ordered fallback)', () => {
  type Key = readonly (string | number)[];
  const KEY3 = ['ip daddr', 'meta l4proto', 'th dport'] as const;
  const KEY2 = ['meta l4proto', 'th dport'] as const;
  // Element i of map @m sends the packet to chain e<i>, which sets meta mark i+1: the mark names the winner.
  function vmapRuleset(elements: readonly Key[], key: readonly Selector[] = KEY3): Ruleset {
    const type: DataType[] = key.map((k) => (k === 'ip daddr' ? 'ipv4_addr' : k === 'meta l4proto' ? 'inet_proto' : 'inet_service'));
    return { tables: [{
      family: 'ip', name: 'lookup', sets: [],
      maps: [{ name: 'm', type, flags: ['interval'], valueType: 'verdict', elements: elements.map((k, i) => ({ key: k, value: { kind: 'goto', chain: `e${i}` } })) }],
      chains: [
        ...elements.map((_, i) => ({ name: `e${i}`, rules: [{ match: [], statements: [{ kind: 'mark' as const, target: 'meta' as const, op: 'set' as const, value: i + 1 }], verdict: { kind: 'accept' as const } }] })),
        { name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: 0 }, rules: [{ match: [], verdict: { kind: 'vmap', key, map: 'm' } }] },
      ],
    }] };
  }
  /** Index of the element the packet hit, or -1 when the vmap missed. */
  const winner = (rs: Ruleset, p: Packet): number => (evaluate(rs, p, 'prerouting').packet.mark ?? 0) - 1;
  const filler = (n: number, third: number): Key[] => Array.from({ length: n }, (_, i) => [`10.${third}.${i >> 8}.${i & 255}`, 'tcp', 80]);
  const to = (daddr: string, p: Partial<Packet> = {}): Packet => pkt({ daddr, ...p });

  const cases: { name: string; elements: readonly Key[]; key?: readonly Selector[]; packet: Packet; want: number | 'Unsupported' }[] = [
    { name: 'finds an exact element among thousands', elements: [...filler(2000, 1), ['10.0.0.1', 'tcp', 80], ...filler(2000, 2)], packet: to('10.0.0.1'), want: 2000 },
    { name: 'misses when no element holds the key', elements: [...filler(2000, 1), ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.2'), want: -1 },
    { name: 'misses when only the port differs', elements: [['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1', { dport: 81 }), want: -1 },
    { name: 'falls back to a prefix element when no exact element has the key', elements: [['10.0.0.1', 'tcp', 80], ...filler(100, 1), ['10.0.0.0/24', 'tcp', 80]], packet: to('10.0.0.7'), want: 101 },
    { name: 'falls back to an address range element', elements: [['10.0.0.1', 'tcp', 80], ['10.0.0.5-10.0.0.9', 'tcp', 80]], packet: to('10.0.0.6'), want: 1 },
    { name: 'falls back to a port range element', elements: [['10.0.0.1', 'tcp', 80], ['10.0.0.1', 'tcp', '8000-8999']], packet: to('10.0.0.1', { dport: 8080 }), want: 1 },
    { name: 'lets an interval element that precedes a matching exact element win', elements: [...filler(10, 1), ['10.0.0.0/24', 'tcp', 80], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 10 },
    { name: 'lets an exact element that precedes a matching interval element win', elements: [['10.0.0.1', 'tcp', 80], ['10.0.0.0/24', 'tcp', 80]], packet: to('10.0.0.1'), want: 0 },
    { name: 'lets a port range element that precedes a matching exact element win', elements: [['10.0.0.1', 'tcp', '1-100'], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 0 },
    { name: 'skips a preceding interval element that does not contain the packet', elements: [['10.0.1.0/24', 'tcp', 80], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 1 },
    { name: 'picks the first of two identical exact elements', elements: [['10.0.0.1', 'tcp', 80], ...filler(5, 1), ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 0 },
    { name: 'matches a protocol given by number against a packet of that protocol', elements: [['10.0.0.1', 6, 80]], packet: to('10.0.0.1'), want: 0 },
    { name: 'does not match a protocol number against another protocol', elements: [['10.0.0.1', 17, 80]], packet: to('10.0.0.1'), want: -1 },
    { name: 'treats a protocol name and its number as the same key (the first element wins)', elements: [['10.0.0.1', 17, 53], ['10.0.0.1', 'udp', 53]], packet: to('10.0.0.1', { l4proto: 'udp', dport: 53 }), want: 0 },
    { name: 'treats a protocol number after its name as a duplicate', elements: [['10.0.0.1', 'udp', 53], ['10.0.0.1', 17, 53]], packet: to('10.0.0.1', { l4proto: 'udp', dport: 53 }), want: 0 },
    { name: 'matches a port written as a string', elements: [['10.0.0.1', 'tcp', '80']], packet: to('10.0.0.1'), want: 0 },
    { name: 'misses when the packet lacks a key component (ICMP has no port)', elements: [['10.0.0.1', 'icmp', 0]], packet: to('10.0.0.1', { l4proto: 'icmp' }), want: -1 },
    { name: 'matches a two-component NodePort key exactly', key: KEY2, elements: [['udp', 30080], ['tcp', 30080], [6, '30000-32767']], packet: to('192.168.50.11', { dport: 30080 }), want: 1 },
    { name: 'falls back to a NodePort range after an exact miss', key: KEY2, elements: [['tcp', 30080], [6, '30000-32767']], packet: to('192.168.50.11', { dport: 30081 }), want: 1 },
    { name: 'throws on a malformed element that precedes the exact hit, as a linear scan does', elements: [['10.0.0.x', 'tcp', 80], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 'Unsupported' },
    { name: 'never reaches a malformed element that follows the exact hit', elements: [['10.0.0.1', 'tcp', 80], ['10.0.0.x', 'tcp', 80]], packet: to('10.0.0.1'), want: 0 },
    { name: 'throws on an unknown protocol name once the address before it matches', elements: [['10.0.0.1', 'bogus', 80], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 'Unsupported' },
    { name: 'does not reach an unknown protocol name when the address before it differs', elements: [['10.9.9.9', 'bogus', 80], ['10.0.0.1', 'tcp', 80]], packet: to('10.0.0.1'), want: 1 },
  ];
  for (const c of cases) {
    it(`a verdict map lookup ${c.name}`, () => {
      const rs = vmapRuleset(c.elements, c.key);
      if (c.want === 'Unsupported') {
        assert.throws(() => winner(rs, c.packet), (e: unknown) => e instanceof NftModelError && e.code === 'Unsupported');
      } else {
        assert.equal(winner(rs, c.packet), c.want);
        assert.equal(winner(rs, c.packet), c.want, 'the cached index answers the same the second time');
      }
    });
  }

  // A set lookup rule: members are dropped, the rest accepted by the policy.
  function setRuleset(type: readonly DataType[], keys: readonly Selector[], elements: readonly Key[]): Ruleset {
    return { tables: [{
      family: 'ip', name: 'sets', maps: [],
      sets: [{ name: 's', type, flags: ['interval'], elements: elements.map((key) => ({ key })) }],
      chains: [{ name: 'in', base: { type: 'filter', hook: 'input', priority: 0, policy: 'accept' }, rules: [{ match: [{ kind: 'lookup', keys, set: 's' }], verdict: { kind: 'drop' } }] }],
    }] };
  }
  const peers: Key[] = [...Array.from({ length: 5000 }, (_, i): Key => [`10.244.${i >> 8}.${i & 255}`]), ['192.168.0.0/16'], ['172.16.0.1-172.16.0.9']];
  const setCases: { name: string; type: readonly DataType[]; keys: readonly Selector[]; elements: readonly Key[]; packet: Packet; member: boolean }[] = [
    { name: 'holds an exact address among thousands', type: ['ipv4_addr'], keys: ['ip saddr'], elements: peers, packet: pkt({ saddr: '10.244.19.135' }), member: true },
    { name: 'does not hold an address outside all its elements', type: ['ipv4_addr'], keys: ['ip saddr'], elements: peers, packet: pkt({ saddr: '10.245.0.1' }), member: false },
    { name: 'holds an address inside a prefix element', type: ['ipv4_addr'], keys: ['ip saddr'], elements: peers, packet: pkt({ saddr: '192.168.7.7' }), member: true },
    { name: 'holds an address inside a range element', type: ['ipv4_addr'], keys: ['ip saddr'], elements: peers, packet: pkt({ saddr: '172.16.0.5' }), member: true },
    { name: 'holds an exact address . protocol . port concatenation', type: ['ipv4_addr', 'inet_proto', 'inet_service'], keys: ['ip saddr', 'meta l4proto', 'th dport'], elements: [['10.244.0.50', 'udp', 80], ['10.244.0.50', 6, 80]], packet: pkt(), member: true },
    { name: 'keeps string components apart even when they contain the separator', type: ['ifname', 'ifname'], keys: ['meta iifname', 'meta oifname'], elements: [['a|b', 'c']], packet: pkt({ iif: 'a', oif: 'b|c' }), member: false },
    { name: 'holds an exact pair of interface names', type: ['ifname', 'ifname'], keys: ['meta iifname', 'meta oifname'], elements: [['a', 'b|c'], ['a|b', 'c']], packet: pkt({ iif: 'a|b', oif: 'c' }), member: true },
  ];
  for (const c of setCases) {
    it(`a set lookup ${c.name}`, () => {
      assert.equal(evaluate(setRuleset(c.type, c.keys, c.elements), c.packet, 'input').verdict, c.member ? 'drop' : 'accept');
    });
  }

  it('answers thousands of lookups in a 20,000-element map without scanning it each time', () => {
    const rs = vmapRuleset([...filler(10_000, 1), ...filler(10_000, 2)]);
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const n = (i * 7919) % 10_000;
      assert.equal(winner(rs, to(`10.2.${n >> 8}.${n & 255}`)), 10_000 + n);
    }
    // A linear scan parsing every literal needs several seconds here; the index needs milliseconds.
    assert.ok(performance.now() - started < 2000, `took ${(performance.now() - started).toFixed(0)} ms`);
  });
});
