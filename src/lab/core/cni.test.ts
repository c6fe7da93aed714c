import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabError } from './errors.ts';
import {
  buildCacheRecord,
  cacheFileName,
  formatCniArgs,
  kubernetesCniArgs,
  parseCacheRecord,
  parseCniError,
  parseCniResult,
  parseConfigList,
  podAttachment,
  podNetworkConfigList,
  pluginStdin,
} from './cni.ts';

const list = podNetworkConfigList({ podCIDR: '10.244.1.0/24', dataDir: '/run/x/networks', mtu: 1450 });
// A result as the reference bridge plugin prints it.
const bridgeOut = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: 'd6:be:d2:2e:a9:05' },
    { name: 'veth02d440cf', mac: 'ce:82:19:76:01:a2' },
    { name: 'eth0', mac: 'da:d7:33:2b:c1:4c', sandbox: '/var/run/netns/p1' },
  ],
  ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

const parse = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text);
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value));
  return value as Record<string, unknown>;
};

describe('lab CNI data', () => {
  it('the pod network list is bridge on cni0 (gateway, hairpin, no masquerade) with host-local IPAM, then portmap', () => {
    assert.equal(list.cniVersion, '1.0.0');
    assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
    const bridge = list.plugins[0];
    assert.equal(bridge?.bridge, 'cni0');
    assert.equal(bridge?.isGateway, true);
    assert.equal(bridge?.hairpinMode, true);
    assert.equal(bridge?.ipMasq, false);
    assert.equal(bridge?.mtu, 1450);
    assert.deepEqual(bridge?.ipam, {
      type: 'host-local',
      ranges: [[{ subnet: '10.244.1.0/24' }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: '/run/x/networks',
    });
    assert.deepEqual(parseConfigList(JSON.parse(JSON.stringify(list))), list);
  });

  it('each plugin gets the list name and version, and no prevResult on the first ADD', () => {
    const conf = parse(pluginStdin(list, list.plugins[0]!, undefined, {}));
    assert.equal(conf.name, 'flatnet');
    assert.equal(conf.cniVersion, '1.0.0');
    assert.equal(conf.type, 'bridge');
    assert.equal('prevResult' in conf, false);
    assert.equal('runtimeConfig' in conf, false);
  });

  it('a chained plugin gets the previous result and the port mappings its capability asks for', () => {
    const prev = parseCniResult(bridgeOut);
    const caps = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }] };
    const conf = parse(pluginStdin(list, list.plugins[1]!, prev, caps));
    assert.deepEqual(conf.prevResult, bridgeOut);
    assert.deepEqual(conf.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    // The bridge plugin declares no capability, so it never sees runtimeConfig.
    assert.equal('runtimeConfig' in parse(pluginStdin(list, list.plugins[0]!, prev, caps)), false);
  });

  it('CNI_ARGS carry the Kubernetes pod identity the way containerd sets them', () => {
    const args = kubernetesCniArgs({ podNamespace: 'default', podName: 'web', containerId: 'uid1', podUid: 'uid1' });
    assert.equal(formatCniArgs(args), 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=uid1;K8S_POD_UID=uid1');
  });

  it('the pod attachment is the IPv4 on the sandbox eth0, its gateway, and the node-side veth', () => {
    assert.deepEqual(podAttachment(parseCniResult(bridgeOut), 'eth0'), {
      ip: '10.244.1.2',
      prefixLength: 24,
      gateway: '10.244.1.1',
      mac: 'da:d7:33:2b:c1:4c',
      hostVeth: 'veth02d440cf',
    });
    const noSandbox = { ...bridgeOut, interfaces: bridgeOut.interfaces.slice(0, 2) };
    assert.throws(() => podAttachment(parseCniResult(noSandbox), 'eth0'), (e: unknown) => e instanceof LabError && e.code === 'CniFailed');
  });

  it('a cache record round-trips the config, args, capabilities and result (libcni cniCacheV1 layout)', () => {
    const cniArgs = kubernetesCniArgs({ podNamespace: 'ns', podName: 'p', containerId: 'c1', podUid: 'c1' });
    const caps = { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'udp' as const }] };
    const record = buildCacheRecord({ list, containerId: 'c1', ifName: 'eth0', netns: '/var/run/netns/p1', cniArgs, caps, result: parseCniResult(bridgeOut) });
    assert.equal(record.kind, 'cniCacheV1');
    assert.deepEqual(JSON.parse(atob(record.config)), list);
    const back = parseCacheRecord(JSON.parse(JSON.stringify(record)));
    assert.deepEqual(back.list, list);
    assert.deepEqual(back.cniArgs, cniArgs);
    assert.deepEqual(back.caps, caps);
    assert.deepEqual(back.result.raw, bridgeOut);
    assert.equal(back.netns, '/var/run/netns/p1');
    assert.equal(cacheFileName('flatnet', 'c1', 'eth0'), 'flatnet-c1-eth0');
    assert.throws(() => parseCacheRecord({ kind: 'other' }), (e: unknown) => e instanceof LabError && e.code === 'Corrupt');
  });

  it('a plugin error document is recognised and anything else is not', () => {
    assert.deepEqual(parseCniError('{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"why"}'), { code: 7, msg: 'bad', details: 'why' });
    assert.equal(parseCniError('not json'), undefined);
    assert.equal(parseCniError(JSON.stringify(bridgeOut)), undefined);
  });
});
