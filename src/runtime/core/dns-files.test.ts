import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from '../../api/types.ts';
import { parseResolvConf, podResolvConf, renderHostsFile, renderResolvConf, utsHostname } from './dns-files.ts';

const host = parseResolvConf('# host\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example\noptions edns0 timeout:2\n');
const ctx = { namespace: 'shop', clusterDomain: 'cluster.local', clusterDNS: ['10.96.0.10'], host };
const base: PodSpec = { containers: [{ name: 'c' }] };

describe('pod resolv.conf', () => {
  const table: { name: string; spec: PodSpec; clusterDNS?: string[]; text: string }[] = [
    { name: 'ClusterFirst uses the cluster DNS, the namespace search path, host searches and ndots:5', spec: base,
      text: 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n' },
    { name: 'Default copies the host resolv.conf', spec: { ...base, dnsPolicy: 'Default' },
      text: 'search corp.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions edns0 timeout:2\n' },
    { name: 'None takes everything from dnsConfig', spec: { ...base, dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }] } },
      text: 'search a.example\nnameserver 9.9.9.9\noptions ndots:2\n' },
    { name: 'dnsConfig appends nameservers and searches and overrides options by name', spec: { ...base, dnsConfig: { nameservers: ['10.96.0.10', '9.9.9.9'], searches: ['x.example'], options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } },
      text: 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example x.example\nnameserver 10.96.0.10\nnameserver 9.9.9.9\noptions ndots:1 edns0\n' },
    { name: 'ClusterFirst without cluster DNS falls back to the host', spec: base, clusterDNS: [],
      text: 'search corp.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions edns0 timeout:2\n' },
    { name: 'at most three nameservers are kept', spec: { ...base, dnsPolicy: 'None', dnsConfig: { nameservers: ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4'] } },
      text: 'nameserver 1.0.0.1\nnameserver 1.0.0.2\nnameserver 1.0.0.3\n' },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.equal(renderResolvConf(podResolvConf(row.spec, { ...ctx, clusterDNS: row.clusterDNS ?? ctx.clusterDNS })), row.text);
    });
  }
});

describe('pod hosts file', () => {
  it('maps the pod IP to the pod name when no hostname/subdomain is set', () => {
    const text = renderHostsFile(['10.244.1.5'], 'web-0', base, 'shop', 'cluster.local');
    assert.match(text, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(text, /\n10\.244\.1\.5\tweb-0\n$/);
  });
  it('adds the FQDN with a subdomain and the hostAliases section', () => {
    const spec: PodSpec = { ...base, hostname: 'db', subdomain: 'dbs', hostAliases: [{ ip: '1.2.3.4', hostnames: ['foo.local', 'bar.local'] }] };
    const text = renderHostsFile(['10.244.1.6'], 'pod-x', spec, 'shop', 'cluster.local');
    assert.match(text, /\n10\.244\.1\.6\tdb\.dbs\.shop\.svc\.cluster\.local\tdb\n/);
    assert.match(text, /\n# Entries added by HostAliases\.\n1\.2\.3\.4\tfoo\.local\tbar\.local\n$/);
  });
  it('uses the FQDN as UTS hostname only with setHostnameAsFQDN', () => {
    const spec: PodSpec = { ...base, hostname: 'db', subdomain: 'dbs' };
    assert.equal(utsHostname('p', spec, 'shop', 'cluster.local'), 'db');
    assert.equal(utsHostname('p', { ...spec, setHostnameAsFQDN: true }, 'shop', 'cluster.local'), 'db.dbs.shop.svc.cluster.local');
  });
});
