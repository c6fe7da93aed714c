import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterClient, parseIngressArgs } from './main.ts';

describe('ingress command line', () => {
  it('defaults to ports 80/443 on 0.0.0.0 for the flatnet class', () => {
    const o = parseIngressArgs([]);
    assert.deepEqual([o.listen, o.httpPort, o.httpsPort, o.className, o.controllerName, o.http2], ['0.0.0.0', 80, 443, 'flatnet', 'flatnet.dev/ingress', true]);
  });

  it('reads ports, class, publish service, addresses and certificate flags', () => {
    const o = parseIngressArgs(['--http-port', '8080', '--https-port=off', '--class', '*', '--publish-service', 'ingress/flatnet-ingress',
      '--lb-address', '192.0.2.1', '--lb-address', 'lb.example.com', '--default-cert', 'c.pem', '--default-key', 'k.pem', '--no-http2']);
    assert.equal(o.httpPort, 8080);
    assert.equal(o.httpsPort, null);
    assert.equal(o.className, null);
    assert.deepEqual(o.publishService, { namespace: 'ingress', name: 'flatnet-ingress' });
    assert.deepEqual(o.lbAddresses, [{ ip: '192.0.2.1' }, { hostname: 'lb.example.com' }]);
    assert.equal(o.http2, false);
    assert.equal(o.serviceAccountDir, '/var/run/secrets/kubernetes.io/serviceaccount');
  });

  it('takes the in-cluster credentials from --service-account-dir when given', () => {
    assert.equal(parseIngressArgs(['--service-account-dir', '/run/flatnet/x/serviceaccount']).serviceAccountDir, '/run/flatnet/x/serviceaccount');
  });

  const bad: [string, string[], RegExp][] = [
    ['a port out of range', ['--http-port', '70000'], /not a port/],
    ['a publish service without a namespace', ['--publish-service', 'svc'], /NAMESPACE\/NAME/],
    ['a certificate without its key', ['--default-cert', 'c.pem'], /go together/],
    ['an unknown flag', ['--bogus'], /Unknown option/],
    ['an empty service-account directory', ['--service-account-dir='], /expected a directory/],
  ];
  for (const [name, args, re] of bad) it(`rejects ${name}`, () => assert.throws(() => parseIngressArgs(args), re));

  it('builds an in-cluster client from KUBERNETES_SERVICE_HOST/PORT and the service account files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-sa-'));
    try {
      writeFileSync(join(dir, 'token'), 'tok\n');
      writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      writeFileSync(join(dir, 'namespace'), 'ingress\n');
      const c = inClusterClient({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
      assert.equal(c.server, 'https://10.96.0.1:443');
      assert.equal(c.namespace, 'ingress');
      c.close();
      assert.throws(() => inClusterClient({}, dir), /not in a cluster/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
