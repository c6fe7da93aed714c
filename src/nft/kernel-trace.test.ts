import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, evaluateHooks, type Packet, type TraceStep } from './evaluate.ts';
import {
  compareWithModel, findPacket, handleIndexFromNftJson, KernelTraceError, parseKernelTrace, parseTraceLine, splitPackets,
  TRACE_MARK_PRIORITY, traceMarkTable, type HandleIndex, type KernelTraceEvent,
} from './kernel-trace.ts';
import { renderTable } from './render.ts';
import type { Match, Table } from './types.ts';

// The table the samples below were captured with (rendered by render.ts, applied with `nft -f` in a test
// namespace on Linux 6.18 / nft 1.0.6), and the trace marks: `meta l4proto tcp meta nftrace set 1`.
const dport = (p: number | number[]): Match => ({ kind: 'cmp', left: 'tcp dport', right: p });
const T: Table = {
  family: 'ip', name: 'fnkt-t', sets: [],
  maps: [{ name: 'ports', type: ['inet_service'], valueType: 'verdict', elements: [
    { key: [84], value: { kind: 'goto', chain: 'g' } }, { key: [85], value: { kind: 'jump', chain: 'j' } }] }],
  chains: [
    { name: 'g', rules: [{ match: [dport(84)], statements: [{ kind: 'counter' }] }] },
    { name: 'j', rules: [{ match: [], statements: [{ kind: 'counter' }], verdict: { kind: 'return' } }] },
    { name: 'reg', rules: [{ match: [dport(81)], verdict: { kind: 'drop' } }, { match: [], statements: [{ kind: 'counter' }] }] },
    { name: 'reg2', rules: [{ match: [dport(82)], verdict: { kind: 'return' } }] },
    { name: 'pre', base: { type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' }, rules: [
      { match: [dport(80)], statements: [{ kind: 'dnat', addr: '10.99.0.2', port: 8080 }] }] },
    { name: 'in', base: { type: 'filter', hook: 'input', priority: 0, policy: 'accept' }, rules: [
      { match: [dport(8080)], statements: [{ kind: 'counter' }] },
      { match: [], verdict: { kind: 'vmap', key: ['tcp dport'], map: 'ports' } },
      { match: [dport([81, 82, 8080])], verdict: { kind: 'jump', chain: 'reg' } },
      { match: [], verdict: { kind: 'jump', chain: 'reg2' } },
      { match: [dport(83)], verdict: { kind: 'drop' } },
      { match: [dport(86)], verdict: { kind: 'reject', with: { tcpReset: true } } },
      { match: [dport(87)], statements: [{ kind: 'mark', target: 'meta', op: 'set', value: 5 }] },
      { match: [dport(88)], verdict: { kind: 'vmap-inline', key: ['ip daddr'], entries: [{ key: ['10.99.0.2'], verdict: { kind: 'accept' } }] } },
    ] },
  ],
};

// `nft -a -j list table ip fnkt-t` of that table (the rules; expressions left out).
const LISTING = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'fnkt-t', handle: 6 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'g', handle: 8 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'j', handle: 9 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'reg', handle: 10 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'reg', handle: 11 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'reg2', handle: 12 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'pre', handle: 13 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 14 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 15 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 17 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 18 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 19 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 20 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 21 } },
    { rule: { family: 'ip', table: 'fnkt-t', chain: 'in', handle: 23 } },
  ],
};

// Real `nft -a monitor trace` output for TCP SYNs from 10.99.0.1:400xx to 10.99.0.2:xx (port 80 is
// DNATed to :8080 where a listener answers), in capture order: the SYN to 80 and, reusing its trace id,
// the handshake's ACK; the SYNs to 81, 82, 84, 85, 86 (whose reset, traced in postrouting, interleaves
// with the reject rule's event), 87 and 88.
const SAMPLE = `
trace id a0c214dd ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 8121 ip length 60 tcp sport 40080 tcp dport 80 tcp flags == syn tcp window 64240 
trace id a0c214dd ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id a0c214dd ip fnkt-mark trace-prerouting policy accept 
trace id a0c214dd ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 8121 ip length 60 tcp sport 40080 tcp dport 80 tcp flags == syn tcp window 64240 
trace id a0c214dd ip fnkt-t pre rule tcp dport 80 dnat to 10.99.0.2:8080 # handle 13 (verdict accept)
trace id a0c214dd ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 8121 ip length 60 tcp sport 40080 tcp dport 8080 tcp flags == syn tcp window 64240 
trace id a0c214dd ip fnkt-t in rule tcp dport 8080 counter packets 0 bytes 0 # handle 14 (verdict continue)
trace id a0c214dd ip fnkt-t in rule tcp dport { 81, 82, 8080 } jump reg # handle 17 (verdict jump reg)
trace id a0c214dd ip fnkt-t reg rule counter packets 0 bytes 0 # handle 11 (verdict continue)
trace id a0c214dd ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id a0c214dd ip fnkt-t in policy accept 
trace id a0c214dd ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 8123 ip length 52 tcp sport 40080 tcp dport 80 tcp flags == 0x11 tcp window 63 
trace id a0c214dd ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id a0c214dd ip fnkt-mark trace-prerouting policy accept 
trace id a0c214dd ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 8123 ip length 52 tcp sport 40080 tcp dport 8080 tcp flags == 0x11 tcp window 63 
trace id a0c214dd ip fnkt-t in rule tcp dport 8080 counter packets 0 bytes 0 # handle 14 (verdict continue)
trace id a0c214dd ip fnkt-t in rule tcp dport { 81, 82, 8080 } jump reg # handle 17 (verdict jump reg)
trace id a0c214dd ip fnkt-t reg rule counter packets 0 bytes 0 # handle 11 (verdict continue)
trace id a0c214dd ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id a0c214dd ip fnkt-t in policy accept 
trace id 4f29f0c0 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 13457 ip length 60 tcp sport 40081 tcp dport 81 tcp flags == syn tcp window 64240 
trace id 4f29f0c0 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id 4f29f0c0 ip fnkt-mark trace-prerouting policy accept 
trace id 4f29f0c0 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 13457 ip length 60 tcp sport 40081 tcp dport 81 tcp flags == syn tcp window 64240 
trace id 4f29f0c0 ip fnkt-t pre policy accept 
trace id 4f29f0c0 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 13457 ip length 60 tcp sport 40081 tcp dport 81 tcp flags == syn tcp window 64240 
trace id 4f29f0c0 ip fnkt-t in rule tcp dport { 81, 82, 8080 } jump reg # handle 17 (verdict jump reg)
trace id 4f29f0c0 ip fnkt-t reg rule tcp dport 81 drop # handle 10 (verdict drop)
trace id 932eaaa9 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 45529 ip length 60 tcp sport 40082 tcp dport 82 tcp flags == syn tcp window 64240 
trace id 932eaaa9 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id 932eaaa9 ip fnkt-mark trace-prerouting policy accept 
trace id 932eaaa9 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 45529 ip length 60 tcp sport 40082 tcp dport 82 tcp flags == syn tcp window 64240 
trace id 932eaaa9 ip fnkt-t pre policy accept 
trace id 932eaaa9 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 45529 ip length 60 tcp sport 40082 tcp dport 82 tcp flags == syn tcp window 64240 
trace id 932eaaa9 ip fnkt-t in rule tcp dport { 81, 82, 8080 } jump reg # handle 17 (verdict jump reg)
trace id 932eaaa9 ip fnkt-t reg rule counter packets 0 bytes 0 # handle 11 (verdict continue)
trace id 932eaaa9 ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id 932eaaa9 ip fnkt-t reg2 rule tcp dport 82 return # handle 12 (verdict return)
trace id 932eaaa9 ip fnkt-t in policy accept 
trace id ddacfe62 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 23914 ip length 60 tcp sport 40084 tcp dport 84 tcp flags == syn tcp window 64240 
trace id ddacfe62 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id ddacfe62 ip fnkt-mark trace-prerouting policy accept 
trace id ddacfe62 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 23914 ip length 60 tcp sport 40084 tcp dport 84 tcp flags == syn tcp window 64240 
trace id ddacfe62 ip fnkt-t pre policy accept 
trace id ddacfe62 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 23914 ip length 60 tcp sport 40084 tcp dport 84 tcp flags == syn tcp window 64240 
trace id ddacfe62 ip fnkt-t in rule tcp dport vmap @ports # handle 15 (verdict goto g)
trace id ddacfe62 ip fnkt-t g rule tcp dport 84 counter packets 0 bytes 0 # handle 8 (verdict continue)
trace id ddacfe62 ip fnkt-t in policy accept 
trace id 91c8f246 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 35189 ip length 60 tcp sport 40085 tcp dport 85 tcp flags == syn tcp window 64240 
trace id 91c8f246 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id 91c8f246 ip fnkt-mark trace-prerouting policy accept 
trace id 91c8f246 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 35189 ip length 60 tcp sport 40085 tcp dport 85 tcp flags == syn tcp window 64240 
trace id 91c8f246 ip fnkt-t pre policy accept 
trace id 91c8f246 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 35189 ip length 60 tcp sport 40085 tcp dport 85 tcp flags == syn tcp window 64240 
trace id 91c8f246 ip fnkt-t in rule tcp dport vmap @ports # handle 15 (verdict jump j)
trace id 91c8f246 ip fnkt-t j rule counter packets 0 bytes 0 return # handle 9 (verdict return)
trace id 91c8f246 ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id 91c8f246 ip fnkt-t in policy accept 
trace id 5baed990 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 41267 ip length 60 tcp sport 40086 tcp dport 86 tcp flags == syn tcp window 64240 
trace id 5baed990 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id 5baed990 ip fnkt-mark trace-prerouting policy accept 
trace id 5baed990 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 41267 ip length 60 tcp sport 40086 tcp dport 86 tcp flags == syn tcp window 64240 
trace id 5baed990 ip fnkt-t pre policy accept 
trace id 5baed990 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 41267 ip length 60 tcp sport 40086 tcp dport 86 tcp flags == syn tcp window 64240 
trace id 5baed990 ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id 061e9b55 ip fnkt-mark trace-output packet: oif "veth0" ip saddr 10.99.0.2 ip daddr 10.99.0.1 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 0 ip length 40 tcp sport 86 tcp dport 40086 tcp flags == 0x14 tcp window 0 
trace id 061e9b55 ip fnkt-mark trace-output rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 4 (verdict continue)
trace id 061e9b55 ip fnkt-mark trace-output policy accept 
trace id 5baed990 ip fnkt-t in rule tcp dport 86 reject with tcp reset # handle 20 (verdict drop)
trace id e06846cd ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 57419 ip length 60 tcp sport 40087 tcp dport 87 tcp flags == syn tcp window 64240 
trace id e06846cd ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id e06846cd ip fnkt-mark trace-prerouting policy accept 
trace id e06846cd ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 57419 ip length 60 tcp sport 40087 tcp dport 87 tcp flags == syn tcp window 64240 
trace id e06846cd ip fnkt-t pre policy accept 
trace id e06846cd ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 57419 ip length 60 tcp sport 40087 tcp dport 87 tcp flags == syn tcp window 64240 
trace id e06846cd ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id e06846cd ip fnkt-t in rule tcp dport 87 meta mark set 0x00000005 # handle 21 (verdict continue)
trace id e06846cd ip fnkt-t in policy accept meta mark 0x00000005 
trace id a9eb3a78 ip fnkt-mark trace-prerouting packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 37632 ip length 60 tcp sport 40088 tcp dport 88 tcp flags == syn tcp window 64240 
trace id a9eb3a78 ip fnkt-mark trace-prerouting rule meta l4proto tcp meta nftrace set 1 comment "flatnet trace --live" # handle 3 (verdict continue)
trace id a9eb3a78 ip fnkt-mark trace-prerouting policy accept 
trace id a9eb3a78 ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 37632 ip length 60 tcp sport 40088 tcp dport 88 tcp flags == syn tcp window 64240 
trace id a9eb3a78 ip fnkt-t pre policy accept 
trace id a9eb3a78 ip fnkt-t in packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 37632 ip length 60 tcp sport 40088 tcp dport 88 tcp flags == syn tcp window 64240 
trace id a9eb3a78 ip fnkt-t in rule jump reg2 # handle 18 (verdict jump reg2)
trace id a9eb3a78 ip fnkt-t in rule tcp dport 88 ip daddr vmap { 10.99.0.2 : accept } # handle 23 (verdict accept)
`;

const MARK_TABLE = 'fnkt-mark';
const index = handleIndexFromNftJson(LISTING);
const events = parseKernelTrace(SAMPLE);
const packets = splitPackets(events);
const syn = (port: number) => findPacket(packets, { sport: 40000 + port, dport: port }) ?? assert.fail(`no SYN to ${port} in the sample`);
const pkt = (port: number, x: Partial<Packet> = {}): Packet => ({ saddr: '10.99.0.1', daddr: '10.99.0.2', l4proto: 'tcp', sport: 40000 + port, dport: port, ...x });
const modelPath = (t: Table, p: Packet): TraceStep[] => evaluateHooks({ tables: [t] }, p, ['prerouting', 'input']).flatMap((h) => h.path);
const withoutMark = { ignoreTables: [MARK_TABLE] };

describe('parsing nft monitor trace lines', () => {
  const cases: { name: string; line: string; want: KernelTraceEvent | undefined }[] = [
    {
      name: 'a packet event gives interface, addresses, ports and protocol',
      line: 'trace id a0c214dd ip fnkt-t pre packet: iif "veth0" ether saddr b6:c9:9e:f6:fd:59 ether daddr ba:58:be:2a:40:31 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 9 ip length 60 tcp sport 40080 tcp dport 80 tcp flags == syn tcp window 64240 ',
      want: { id: 'a0c214dd', family: 'ip', table: 'fnkt-t', chain: 'pre', kind: 'packet', packet: { iif: 'veth0', saddr: '10.99.0.1', daddr: '10.99.0.2', sport: 40080, dport: 80, l4proto: 'tcp' } },
    },
    {
      name: 'an ICMP packet leaving has an out interface and no ports',
      line: 'trace id 0fcf3f5b ip c out packet: oif "veth0" ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 38990 ip length 84 icmp type echo-request icmp code net-unreachable icmp id 6195 icmp sequence 1 @th,64,96 0xe774026b00000000d0590a00 ',
      want: { id: '0fcf3f5b', family: 'ip', table: 'c', chain: 'out', kind: 'packet', packet: { oif: 'veth0', saddr: '10.99.0.1', daddr: '10.99.0.2', l4proto: 'icmp' } },
    },
    {
      name: 'a rule without a verdict continues, and its handle is split from its text',
      line: 'trace id a0c214dd ip fnkt-t in rule tcp dport 8080 counter packets 0 bytes 0 # handle 14 (verdict continue)',
      want: { id: 'a0c214dd', family: 'ip', table: 'fnkt-t', chain: 'in', kind: 'rule', handle: 14, verdict: 'continue', ruleText: 'tcp dport 8080 counter packets 0 bytes 0' },
    },
    {
      name: 'a vmap rule carries the verdict of the element found',
      line: 'trace id ddacfe62 ip fnkt-t in rule tcp dport vmap @ports # handle 15 (verdict goto g)',
      want: { id: 'ddacfe62', family: 'ip', table: 'fnkt-t', chain: 'in', kind: 'rule', handle: 15, verdict: 'goto g', ruleText: 'tcp dport vmap @ports' },
    },
    {
      name: 'an inline vmap with braces and a colon in the rule text still yields its verdict',
      line: 'trace id a9eb3a78 ip fnkt-t in rule tcp dport 88 ip daddr vmap { 10.99.0.2 : accept } # handle 23 (verdict accept)',
      want: { id: 'a9eb3a78', family: 'ip', table: 'fnkt-t', chain: 'in', kind: 'rule', handle: 23, verdict: 'accept', ruleText: 'tcp dport 88 ip daddr vmap { 10.99.0.2 : accept }' },
    },
    {
      name: 'a reject is a drop to the kernel',
      line: 'trace id 5baed990 ip fnkt-t in rule tcp dport 86 reject with tcp reset # handle 20 (verdict drop)',
      want: { id: '5baed990', family: 'ip', table: 'fnkt-t', chain: 'in', kind: 'rule', handle: 20, verdict: 'drop', ruleText: 'tcp dport 86 reject with tcp reset' },
    },
    {
      name: 'a rule printed without -a has its text but no handle',
      line: 'trace id 4fe74dc1 ip t pre rule tcp dport 80 dnat to 10.99.0.2:8080 (verdict accept)',
      want: { id: '4fe74dc1', family: 'ip', table: 't', chain: 'pre', kind: 'rule', verdict: 'accept', ruleText: 'tcp dport 80 dnat to 10.99.0.2:8080' },
    },
    {
      name: 'a rule the monitor did not know gives its handle and verdict only',
      line: 'trace id 8884d018 ip t in unknown rule handle 28 (verdict jump newc)',
      want: { id: '8884d018', family: 'ip', table: 't', chain: 'in', kind: 'rule', handle: 28, verdict: 'jump newc' },
    },
    {
      name: 'a policy event gives the policy and the packet mark',
      line: 'trace id 0c610b68 ip c out policy drop meta mark 0x00000010 ',
      want: { id: '0c610b68', family: 'ip', table: 'c', chain: 'out', kind: 'policy', verdict: 'drop', mark: 16 },
    },
    {
      name: 'a return event (as older kernels print at the end of a regular chain) is kind return',
      line: 'trace id 932eaaa9 ip fnkt-t reg verdict continue ',
      want: { id: '932eaaa9', family: 'ip', table: 'fnkt-t', chain: 'reg', kind: 'return', verdict: 'continue' },
    },
    { name: 'a line that is not a trace event is ignored', line: 'nc: can\'t connect to remote host (10.99.0.2): Connection refused', want: undefined },
    { name: 'an empty line is ignored', line: '', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseTraceLine(c.line), c.want));

  it('parses every line of a real capture and keeps their order', () => {
    const lines = SAMPLE.split('\n').filter((l) => l.trim() !== '');
    assert.equal(events.length, lines.length);
    assert.deepEqual(events.map((e) => e.id), lines.map((l) => l.split(' ')[2]));
  });
});

describe('splitting a capture into packets', () => {
  it('separates two packets that reuse one trace id', () => {
    const reused = packets.filter((p) => p.id === 'a0c214dd');
    assert.equal(reused.length, 2);
    assert.deepEqual(reused.map((p) => p.events.some((e) => e.table === 'fnkt-t' && e.chain === 'pre')), [true, false], 'only the first packet of the connection meets the NAT chain');
    assert.deepEqual(reused.map((p) => p.packet?.dport), [80, 80]);
  });

  it('keeps a packet together when another packet\'s events come in between', () => {
    const rejected = syn(86);
    assert.deepEqual(rejected.events.at(-1), { id: '5baed990', family: 'ip', table: 'fnkt-t', chain: 'in', kind: 'rule', handle: 20, verdict: 'drop', ruleText: 'tcp dport 86 reject with tcp reset' });
    const reset = packets.find((p) => p.id === '061e9b55');
    assert.equal(reset?.packet?.sport, 86);
    assert.ok(reset?.events.every((e) => e.id === '061e9b55'));
  });

  it('finds a packet by its headers and nothing for headers not in the capture', () => {
    assert.equal(syn(85).id, '91c8f246');
    assert.equal(findPacket(packets, { sport: 40083, dport: 83 }), undefined);
  });
});

describe('rule handles to rule indexes', () => {
  it('counts a rule\'s position in its chain in listing order, not by handle', () => {
    const idx = handleIndexFromNftJson({ nftables: [
      { rule: { family: 'ip', table: 't', chain: 'in', handle: 28 } },
      { rule: { family: 'ip', table: 't', chain: 'in', handle: 16 } },
      { rule: { family: 'ip', table: 't', chain: 'other', handle: 3 } },
      { rule: { family: 'ip', table: 't', chain: 'in', handle: 17 } },
    ] });
    assert.deepEqual([idx('t', 'in', 28), idx('t', 'in', 16), idx('t', 'in', 17), idx('t', 'other', 3)], [0, 1, 2, 0]);
    assert.equal(idx('t', 'in', 3), undefined);
    assert.equal(idx('u', 'in', 28), undefined);
  });

  it('refuses something that is not nft JSON with BadListing', () => {
    for (const bad of [null, [], { nftables: 3 }, { nftables: [{ rule: { table: 't', chain: 'c' } }] }]) {
      assert.throws(() => handleIndexFromNftJson(bad), (e: unknown) => e instanceof KernelTraceError && e.code === 'BadListing');
    }
  });
});

describe('the trace-marking table', () => {
  const match: Match[] = [{ kind: 'cmp', left: 'ip daddr', right: '10.96.0.10' }, { kind: 'cmp', left: 'th dport', right: 80 }];
  const mark = traceMarkTable('fntrace-test', match);

  it('marks in base chains on prerouting and output that run before conntrack', () => {
    assert.deepEqual(mark.chains.map((c) => [c.base?.hook, c.base?.priority, c.base?.type]), [['prerouting', TRACE_MARK_PRIORITY, 'filter'], ['output', TRACE_MARK_PRIORITY, 'filter']]);
    assert.ok(TRACE_MARK_PRIORITY < -300, 'before raw (-300) and conntrack (-200)');
    const text = renderTable(mark);
    assert.match(text, /type filter hook prerouting priority -350; policy accept;\n\t\tip daddr 10\.96\.0\.10 th dport 80 meta nftrace set 1/);
    assert.match(text, /type filter hook output priority -350; policy accept;\n\t\tip daddr 10\.96\.0\.10 th dport 80 meta nftrace set 1/);
  });

  it('sets the trace mark only on packets its match selects and lets every packet through', () => {
    for (const hook of ['prerouting', 'output'] as const) {
      const hit = evaluate({ tables: [mark] }, { saddr: '10.244.1.2', daddr: '10.96.0.10', l4proto: 'tcp', sport: 1, dport: 80 }, hook);
      const miss = evaluate({ tables: [mark] }, { saddr: '10.244.1.2', daddr: '10.96.0.10', l4proto: 'tcp', sport: 1, dport: 81 }, hook);
      assert.deepEqual([hit.verdict, hit.logs.length, miss.verdict, miss.logs.length], ['accept', 1, 'accept', 0]);
    }
  });
});

describe('comparing the model\'s path with the kernel\'s trace', () => {
  const ports: { port: number; what: string }[] = [
    { port: 80, what: 'a DNAT in the NAT chain, then continue rules, a jump, an implicit return and the policy' },
    { port: 81, what: 'a drop inside a jumped-to chain' },
    { port: 82, what: 'an explicit return from a jumped-to chain' },
    { port: 84, what: 'a vmap goto whose chain runs out into the base chain\'s policy' },
    { port: 85, what: 'a vmap jump and a return' },
    { port: 86, what: 'a reject (a drop to the kernel)' },
    { port: 87, what: 'a mark statement (continue) and the policy' },
    { port: 88, what: 'an inline vmap accept' },
  ];
  for (const { port, what } of ports) {
    it(`agrees with the kernel on port ${port}: ${what}`, () => {
      const r = compareWithModel(modelPath(T, pkt(port)), syn(port).events, index, withoutMark);
      assert.ok(r.agree, JSON.stringify(r.rows, null, 1));
      assert.ok(r.rows.some((row) => row.kernel !== undefined && row.model !== undefined), 'rows pair model steps with kernel events');
    });
  }

  it('agrees on a later packet of a connection: the kernel skips the NAT chain as the model does', () => {
    const ack = packets.filter((p) => p.id === 'a0c214dd')[1] ?? assert.fail('no second packet');
    const est = { ctState: 'established' as const };
    const path = [...evaluate({ tables: [T] }, pkt(80, est), 'prerouting').path, ...evaluate({ tables: [T] }, pkt(80, { ...est, dport: 8080 }), 'input').path];
    assert.ok(path.some((s) => s.action === 'skip-nat-chain'));
    const r = compareWithModel(path, ack.events, index, withoutMark);
    assert.ok(r.agree, JSON.stringify(r.rows, null, 1));
  });

  it('flags a model whose rule gives another verdict, pairing the two sides', () => {
    const lenient: Table = { ...T, chains: T.chains.map((c) => (c.name === 'reg' ? { ...c, rules: [{ match: [dport(81)], verdict: { kind: 'accept' as const } }, ...c.rules.slice(1)] } : c)) };
    const r = compareWithModel(modelPath(lenient, pkt(81)), syn(81).events, index, withoutMark);
    assert.equal(r.agree, false);
    const bad = r.rows.filter((row) => !row.agree);
    assert.equal(bad.length, 1, JSON.stringify(r.rows, null, 1));
    assert.match(bad[0]?.model ?? '', /reg rule #0 match: accept/);
    assert.match(bad[0]?.kernel ?? '', /reg rule #0 \(handle 10\) verdict drop/);
  });

  it('flags the trace of another packet (a different path through the same rules)', () => {
    const r = compareWithModel(modelPath(T, pkt(84)), syn(85).events, index, withoutMark);
    assert.equal(r.agree, false);
    assert.ok(r.rows.some((row) => !row.agree && /goto g/.test(row.model ?? '') && /jump j/.test(row.kernel ?? '')), JSON.stringify(r.rows, null, 1));
  });

  it('flags kernel events of a table the model does not have, unless told to ignore that table', () => {
    const path = modelPath(T, pkt(82));
    const strict = compareWithModel(path, syn(82).events, index);
    assert.equal(strict.agree, false);
    assert.ok(strict.rows.filter((row) => !row.agree).every((row) => row.model === undefined && (row.kernel ?? '').includes(MARK_TABLE)));
    assert.equal(compareWithModel(path, syn(82).events, index, withoutMark).agree, true);
  });

  it('flags a kernel rule whose handle the listing does not know', () => {
    const stale: HandleIndex = (table, chain, handle) => (handle === 12 ? undefined : index(table, chain, handle));
    const r = compareWithModel(modelPath(T, pkt(82)), syn(82).events, stale, withoutMark);
    assert.equal(r.agree, false);
    assert.ok(r.rows.some((row) => !row.agree && /handle 12 \(not in the listed rules\)/.test(row.kernel ?? '')));
  });

  it('accepts a return event at the end of a regular chain (older kernels) but not one the model does not reach', () => {
    const events82 = [...syn(82).events];
    const at = events82.findIndex((e) => e.chain === 'reg' && e.kind === 'rule');
    const ret = parseTraceLine('trace id 932eaaa9 ip fnkt-t reg verdict continue ') ?? assert.fail('unparsed');
    events82.splice(at + 1, 0, ret);
    assert.equal(compareWithModel(modelPath(T, pkt(82)), events82, index, withoutMark).agree, true);
    const wrong = parseTraceLine('trace id 932eaaa9 ip fnkt-t g verdict continue ') ?? assert.fail('unparsed');
    events82.splice(at + 1, 1, wrong);
    assert.equal(compareWithModel(modelPath(T, pkt(82)), events82, index, withoutMark).agree, false);
  });

  it('flags a model that expects events the kernel never printed', () => {
    const r = compareWithModel(modelPath(T, pkt(85)), [], index);
    assert.equal(r.agree, false);
    assert.ok(r.rows.every((row) => row.kernel === undefined));
  });
});
