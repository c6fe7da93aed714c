import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { renderRule, renderTable, validateRule } from './render.ts';
import { NftModelError, type Rule, type Table } from './types.ts';

const sampleTable: Table = {
  family: 'ip', name: 'render-test', comment: 'a "quoted" comment',
  sets: [
    { name: 'aff', type: ['ipv4_addr'], flags: ['dynamic', 'timeout'], timeoutSeconds: 30, elements: [] },
    { name: 'nets', type: ['ipv4_addr'], flags: ['interval'], elements: [{ key: ['10.0.0.0/8'] }, { key: ['192.168.1.1-192.168.1.9'] }] },
  ],
  maps: [
    { name: 'svc', type: ['ipv4_addr', 'inet_proto', 'inet_service'], valueType: 'verdict', elements: [{ key: ['10.96.0.1', 'tcp', 443], value: { kind: 'goto', chain: 'svc-a' }, comment: 'ns/a:https' }] },
    { name: 'ports', type: ['inet_proto', 'inet_service'], valueType: 'verdict', elements: [{ key: ['udp', 30053], value: { kind: 'drop' } }] },
  ],
  chains: [
    { name: 'svc-a', rules: [{ match: [], verdict: { kind: 'vmap-inline', key: [{ numgen: 'random', mod: 2 }], entries: [{ key: [0], verdict: { kind: 'goto', chain: 'ep-1' } }, { key: [1], verdict: { kind: 'goto', chain: 'ep-2' } }] } }] },
    { name: 'ep-1', rules: [
      { match: [{ kind: 'cmp', left: 'ip saddr', right: '10.244.1.2' }], statements: [{ kind: 'mark', target: 'meta', op: 'or', value: 0x4000 }] },
      { match: [], statements: [{ kind: 'set-update', op: 'update', set: 'aff', keys: ['ip saddr'] }] },
      { match: [{ kind: 'cmp', left: 'meta l4proto', right: 'tcp' }], statements: [{ kind: 'dnat', addr: '10.244.1.2', port: 8443 }] },
    ] },
    { name: 'ep-2', rules: [{ match: [{ kind: 'cmp', left: 'meta l4proto', right: 'tcp' }], statements: [{ kind: 'dnat', addr: '10.244.2.2', port: 8443 }] }] },
    { name: 'pre', base: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ match: [], verdict: { kind: 'vmap', key: ['ip daddr', 'meta l4proto', 'th dport'], map: 'svc' } }] },
    { name: 'post', base: { type: 'nat', hook: 'postrouting', priority: 100 }, rules: [
      { match: [{ kind: 'masked', left: 'meta mark', mask: 0x4000, value: 0 }], verdict: { kind: 'return' } },
      { match: [], statements: [{ kind: 'masquerade', fullyRandom: true }] },
    ] },
    { name: 'filter-forward', base: { type: 'filter', hook: 'forward', priority: -110, policy: 'accept' }, rules: [
      { match: [{ kind: 'cmp', left: 'ct state', right: ['established', 'related'] }], verdict: { kind: 'accept' } },
      { match: [{ kind: 'cmp', left: 'ct state', right: 'new' }], verdict: { kind: 'vmap', key: ['meta l4proto', 'th dport'], map: 'ports' } },
      { match: [{ kind: 'lookup', keys: ['ip saddr'], set: 'nets', negate: true }, { kind: 'cmp', left: 'meta iifname', right: 'eth0' }], statements: [{ kind: 'counter' }, { kind: 'log', prefix: 'bye ' }, { kind: 'nftrace' }], verdict: { kind: 'drop' }, comment: 'outsiders' },
      { match: [{ kind: 'cmp', left: 'fib daddr type', right: 'local' }, { kind: 'cmp', left: 'tcp dport', op: '!=', right: [22, '8000-8999'] }], verdict: { kind: 'reject', with: { icmp: 'admin-prohibited' } } },
      { match: [{ kind: 'cmp', left: 'tcp dport', right: 9 }], verdict: { kind: 'reject', with: { tcpReset: true } } },
    ] },
  ],
};

describe('nft renderer', () => {
  const cases: { name: string; rule: Rule; expected: string }[] = [
    { name: 'a concatenated vmap lookup', rule: { match: [], verdict: { kind: 'vmap', key: ['ip daddr', 'meta l4proto', 'th dport'], map: 'service-ips' } }, expected: 'ip daddr . meta l4proto . th dport vmap @service-ips' },
    { name: 'a negated prefix with a jump', rule: { match: [{ kind: 'cmp', left: 'ip saddr', op: '!=', right: '10.244.0.0/16' }], verdict: { kind: 'jump', chain: 'mark-for-masquerade' } }, expected: 'ip saddr != 10.244.0.0/16 jump mark-for-masquerade' },
    { name: 'a numgen inline vmap', rule: { match: [], verdict: { kind: 'vmap-inline', key: [{ numgen: 'random', mod: 3 }], entries: [0, 1, 2].map((i) => ({ key: [i], verdict: { kind: 'goto' as const, chain: `e${i}` } })) } }, expected: 'numgen random mod 3 vmap { 0 : goto e0, 1 : goto e1, 2 : goto e2 }' },
    { name: 'a mark or-statement', rule: { match: [], statements: [{ kind: 'mark', target: 'meta', op: 'or', value: 0x4000 }] }, expected: 'meta mark set meta mark or 0x4000' },
    { name: 'a dnat after an l4 match', rule: { match: [{ kind: 'cmp', left: 'meta l4proto', right: 'udp' }], statements: [{ kind: 'dnat', addr: '10.0.0.1', port: 53 }] }, expected: 'meta l4proto udp dnat to 10.0.0.1:53' },
    { name: 'a reject with an icmp type and a comment', rule: { match: [], verdict: { kind: 'reject', with: { icmp: 'port-unreachable' } }, comment: 'no "endpoints"' }, expected: 'reject with icmp type port-unreachable comment "no endpoints"' },
    { name: 'an interface name, quoted', rule: { match: [{ kind: 'cmp', left: 'meta oifname', right: 'cni0' }], verdict: { kind: 'accept' } }, expected: 'meta oifname "cni0" accept' },
  ];
  for (const c of cases) {
    it(`renders ${c.name}`, () => assert.equal(renderRule(c.rule), c.expected));
  }

  it('refuses a dnat with a port that has no L4 protocol match before it', () => {
    assert.throws(() => validateRule({ match: [{ kind: 'cmp', left: 'ip daddr', right: '10.0.0.1' }], statements: [{ kind: 'dnat', addr: '10.0.0.2', port: 80 }] }), (e: unknown) => e instanceof NftModelError && e.code === 'InvalidRule');
  });

  it('refuses a tcp reset without a TCP match, as nft would', () => {
    assert.throws(() => validateRule({ match: [{ kind: 'cmp', left: 'udp dport', right: 9 }], verdict: { kind: 'reject', with: { tcpReset: true } } }), NftModelError);
  });

  it('refuses a verdict after a terminal NAT statement', () => {
    assert.throws(() => validateRule({ match: [], statements: [{ kind: 'masquerade' }], verdict: { kind: 'accept' } }), NftModelError);
  });

  it('refuses a chain named like an nft keyword, which nft 1.0.6 could not parse', () => {
    assert.throws(() => renderTable({ ...sampleTable, chains: [{ name: 'fwd', rules: [] }] }), (e: unknown) => e instanceof NftModelError && /keyword/.test(e.message));
  });

  it('puts a base chain type and policy on a line of their own with a numeric priority', () => {
    const text = renderTable(sampleTable);
    assert.match(text, /\n\t\ttype nat hook prerouting priority -100; policy accept;\n/);
    assert.match(text, /\n\t\ttype filter hook forward priority -110; policy accept;\n/);
  });
});

describe('nft renderer output is accepted by the real nft (kernel check in a scratch netns)', () => {
  const ns = `nftchk-${Math.random().toString(16).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  after(() => { spawnSync('ip', ['netns', 'del', ns]); });

  it('nft -c accepts the rendered sample table', () => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: renderTable(sampleTable), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('nft -c rejects a broken script (the check can fail)', () => {
    const broken = renderTable(sampleTable).replace('vmap @svc', 'vmap @no-such-map');
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: broken, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  });

  it('the loaded table lists back with the same chains, map elements and dnat targets', () => {
    const load = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: renderTable(sampleTable), encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
    const listed = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'render-test'], { encoding: 'utf8' });
    for (const c of sampleTable.chains) assert.match(listed, new RegExp(`chain ${c.name} \\{`));
    assert.match(listed, /10\.96\.0\.1 \. tcp \. 443 comment "ns\/a:https" : goto svc-a/);
    assert.match(listed, /dnat to 10\.244\.2\.2:8443/);
    assert.match(listed, /update @aff \{ ip saddr \}/);
  });
});
