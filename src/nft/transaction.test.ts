import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { diffRulesets, fullReplaceCommands, renderCommands } from './transaction.ts';
import type { Chain, Ruleset, Table } from './types.ts';

function table(services: readonly { ip: string; eps: readonly string[] }[], extraSet = false): Table {
  const chains: Chain[] = [
    { name: 'pre', base: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ match: [], verdict: { kind: 'vmap', key: ['ip daddr', 'meta l4proto', 'th dport'], map: 'svc' } }] },
  ];
  for (const s of services) {
    chains.push({ name: `svc-${s.ip}`, rules: [{ match: [], verdict: { kind: 'vmap-inline', key: [{ numgen: 'random', mod: s.eps.length }], entries: s.eps.map((e, i) => ({ key: [i], verdict: { kind: 'goto' as const, chain: `ep-${e}` } })) } }] });
    for (const e of s.eps) {
      if (!chains.some((c) => c.name === `ep-${e}`)) chains.push({ name: `ep-${e}`, rules: [{ match: [{ kind: 'cmp', left: 'meta l4proto', right: 'tcp' }], statements: [{ kind: 'dnat', addr: e, port: 8080 }] }] });
    }
  }
  return {
    family: 'ip', name: 'difftest', sets: extraSet ? [{ name: 'extra', type: ['ipv4_addr'], elements: [{ key: ['1.2.3.4'] }] }] : [],
    maps: [{ name: 'svc', type: ['ipv4_addr', 'inet_proto', 'inet_service'], valueType: 'verdict', elements: services.map((s) => ({ key: [s.ip, 'tcp', 80], value: { kind: 'goto' as const, chain: `svc-${s.ip}` } })) }],
    chains,
  };
}

const rs = (t: Table): Ruleset => ({ tables: [t] });
const base = [{ ip: '10.96.0.1', eps: ['10.244.1.2', '10.244.1.3'] }, { ip: '10.96.0.2', eps: ['10.244.2.2'] }];

describe('nft diff', () => {
  it('yields no commands when nothing changed', () => {
    assert.deepEqual(diffRulesets(rs(table(base)), rs(table(base))).commands, []);
  });

  it('adds one element and the new chains for one new service, without touching the others', () => {
    const d = diffRulesets(rs(table(base)), rs(table([...base, { ip: '10.96.0.3', eps: ['10.244.3.2'] }])));
    const ops = d.commands.map((c) => c.op);
    assert.deepEqual(ops.filter((o) => o === 'add-chain').length, 2);
    assert.equal(ops.filter((o) => o === 'add-element').length, 1);
    assert.ok(!ops.includes('flush-chain') && !ops.includes('delete-element') && !ops.includes('delete-table'));
    assert.equal(d.stats.elementsAdded, 1);
  });

  it('deletes the element before flushing and deleting the chains of a removed service', () => {
    const d = diffRulesets(rs(table(base)), rs(table([base[0]!])));
    const text = renderCommands(d.commands);
    const del = text.indexOf('delete element ip difftest svc { 10.96.0.2 . tcp . 80 }');
    const delChain = text.indexOf('delete chain ip difftest svc-10.96.0.2');
    assert.ok(del >= 0 && delChain > del, text);
    assert.match(text, /flush chain ip difftest ep-10\.244\.2\.2\ndelete chain|delete chain ip difftest ep-10\.244\.2\.2/);
  });

  it('flushes and refills a chain whose rules changed (an endpoint added)', () => {
    const d = diffRulesets(rs(table(base)), rs(table([{ ip: '10.96.0.1', eps: ['10.244.1.2', '10.244.1.3', '10.244.1.4'] }, base[1]!])));
    const text = renderCommands(d.commands);
    assert.match(text, /flush chain ip difftest svc-10\.96\.0\.1\n/);
    assert.match(text, /add rule ip difftest svc-10\.96\.0\.1 numgen random mod 3/);
    assert.equal(d.stats.chainsChanged, 1);
    assert.equal(d.stats.chainsAdded, 1);
  });

  it('falls back to replacing the table when a set declaration changes', () => {
    const a = table(base, true);
    const b: Table = { ...a, sets: [{ name: 'extra', type: ['ipv4_addr'], flags: ['interval'], elements: [] }] };
    const ops = diffRulesets(rs(a), rs(b)).commands.map((c) => c.op);
    assert.deepEqual(ops, ['add-table', 'delete-table', 'define-table']);
  });

  it('defines a new table whole and deletes a table no longer wanted', () => {
    const other: Table = { family: 'ip', name: 'other', sets: [], maps: [], chains: [] };
    const ops = diffRulesets({ tables: [other] }, rs(table(base))).commands.map((c) => c.op);
    assert.deepEqual(ops, ['delete-table', 'add-table', 'delete-table', 'define-table']);
  });
});

describe('nft diff applied to the kernel equals a full load of the desired table', () => {
  const ns = `nftdiff-${Math.random().toString(16).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  after(() => { spawnSync('ip', ['netns', 'del', ns]); });
  const nft = (script: string) => spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  const list = () => execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'difftest'], { encoding: 'utf8' });

  const steps: { name: string; services: { ip: string; eps: string[] }[] }[] = [
    { name: 'add a service', services: [...base.map((s) => ({ ...s, eps: [...s.eps] })), { ip: '10.96.0.3', eps: ['10.244.3.2', '10.244.3.3'] }] },
    { name: 'remove an endpoint and a service', services: [{ ip: '10.96.0.1', eps: ['10.244.1.3'] }, { ip: '10.96.0.3', eps: ['10.244.3.2', '10.244.3.3'] }] },
    { name: 'scale a service to one endpoint and add another', services: [{ ip: '10.96.0.1', eps: ['10.244.1.3'] }, { ip: '10.96.0.3', eps: ['10.244.3.3'] }, { ip: '10.96.0.4', eps: ['10.244.4.2'] }] },
  ];

  it('for a sequence of partial syncs', () => {
    let current = rs(table(base));
    const load = nft(renderCommands(fullReplaceCommands(current)));
    assert.equal(load.status, 0, load.stderr);
    for (const step of steps) {
      const desired = rs(table(step.services));
      const r = nft(renderCommands(diffRulesets(current, desired).commands));
      assert.equal(r.status, 0, `${step.name}: ${r.stderr}`);
      const afterDiff = list();
      const full = nft(renderCommands(fullReplaceCommands(desired)));
      assert.equal(full.status, 0, full.stderr);
      assert.equal(afterDiff, list(), `after '${step.name}' the diffed table differs from a fresh load`);
      current = desired;
    }
  });
});
