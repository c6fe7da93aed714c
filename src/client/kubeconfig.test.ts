import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeconfigError, defaultKubeconfigPath, loadKubeconfig, parseKubeconfig } from './kubeconfig.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n';

/** A two-context kubeconfig: `admin` (inline data) is current; `files` uses file references. */
const config = `
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: flatnet
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64(CA)}
- name: by-file
  cluster:
    server: https://10.0.0.1:443
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes
- name: insecure
  cluster:
    server: http://localhost:8080
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: s3cret
    client-certificate-data: ${b64(CERT)}
    client-key-data: ${b64(KEY)}
- name: file-user
  user:
    tokenFile: /abs/token
    client-certificate: pki/client.crt
    client-key: pki/client.key
- name: half
  user:
    client-certificate-data: ${b64(CERT)}
- name: basic
  user:
    username: alice
    password: pw
contexts:
- name: admin
  context: { cluster: flatnet, user: admin }
- name: files
  context: { cluster: by-file, user: file-user, namespace: kube-system }
- name: half-user
  context: { cluster: flatnet, user: half }
- name: anonymous
  context: { cluster: insecure }
- name: ghost-cluster
  context: { cluster: nowhere, user: admin }
- name: ghost-user
  context: { cluster: flatnet, user: nobody }
- name: basic
  context: { cluster: insecure, user: basic }
`;

const files: Record<string, string> = {
  '/base/pki/ca.crt': CA,
  '/base/pki/client.crt': CERT,
  '/base/pki/client.key': KEY,
  '/abs/token': 'file-token\n',
};
const readFile = (p: string): string => {
  const v = files[p];
  if (v === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
  return v;
};

describe('parseKubeconfig', () => {
  it('resolves the current context with inline CA, token and client certificate data decoded from base64', () => {
    const r = parseKubeconfig(config, { readFile });
    assert.equal(r.contextName, 'admin');
    assert.equal(r.clusterName, 'flatnet');
    assert.equal(r.userName, 'admin');
    assert.equal(r.server, 'https://127.0.0.1:6443');
    assert.equal(r.namespace, 'default');
    assert.equal(r.ca, CA);
    assert.equal(r.token, 's3cret');
    assert.equal(r.clientCertificate, CERT);
    assert.equal(r.clientKey, KEY);
    assert.equal(r.insecureSkipTlsVerify, false);
  });

  it('resolves a named context with file references relative to the base directory and an absolute tokenFile', () => {
    const r = parseKubeconfig(config, { context: 'files', baseDir: '/base', readFile });
    assert.equal(r.server, 'https://10.0.0.1:443');
    assert.equal(r.namespace, 'kube-system');
    assert.equal(r.ca, CA);
    assert.equal(r.tlsServerName, 'kubernetes');
    assert.equal(r.token, 'file-token');
    assert.equal(r.clientCertificate, CERT);
    assert.equal(r.clientKey, KEY);
  });

  it('allows a context without a user and honours insecure-skip-tls-verify', () => {
    const r = parseKubeconfig(config, { context: 'anonymous', readFile });
    assert.equal(r.userName, '');
    assert.equal(r.token, undefined);
    assert.equal(r.ca, undefined);
    assert.equal(r.insecureSkipTlsVerify, true);
  });

  it('reads basic-auth credentials', () => {
    const r = parseKubeconfig(config, { context: 'basic', readFile });
    assert.equal(r.username, 'alice');
    assert.equal(r.password, 'pw');
  });

  const failures: { name: string; text: string; context?: string; code: string }[] = [
    { name: 'an unknown context', text: config, context: 'nope', code: 'ContextNotFound' },
    { name: 'a context naming a missing cluster', text: config, context: 'ghost-cluster', code: 'ClusterNotFound' },
    { name: 'a context naming a missing user', text: config, context: 'ghost-user', code: 'UserNotFound' },
    { name: 'a client certificate without a key', text: config, context: 'half-user', code: 'Malformed' },
    { name: 'no current-context and no context asked for', text: config.replace('current-context: admin', ''), code: 'NoCurrentContext' },
    { name: 'a document that is not a mapping', text: '- a\n- b\n', code: 'Malformed' },
    { name: 'text that is not YAML', text: 'a: [b\n', code: 'Malformed' },
    { name: 'a cluster without a server', text: config.replace('server: https://127.0.0.1:6443/', 'foo: bar'), code: 'Malformed' },
    { name: 'certificate data that is not base64', text: config.replace(`certificate-authority-data: ${b64(CA)}`, 'certificate-authority-data: "%%%"'), code: 'Malformed' },
    { name: 'a referenced file that cannot be read', text: config.replace('pki/ca.crt', 'pki/missing.crt'), context: 'files', code: 'Unreadable' },
  ];
  for (const f of failures) {
    it(`rejects ${f.name} with KubeconfigError ${f.code}`, () => {
      assert.throws(
        () => parseKubeconfig(f.text, { baseDir: '/base', readFile, ...(f.context !== undefined ? { context: f.context } : {}) }),
        (e: unknown) => e instanceof KubeconfigError && e.code === f.code,
      );
    });
  }

  it('prefers inline data over a file reference for the same credential', () => {
    const text = config.replace('certificate-authority: pki/ca.crt', `certificate-authority: pki/missing.crt\n    certificate-authority-data: ${b64('INLINE')}`);
    assert.equal(parseKubeconfig(text, { context: 'files', baseDir: '/base', readFile }).ca, 'INLINE');
  });
});

describe('loadKubeconfig', () => {
  it('reads a kubeconfig file and resolves relative references against its own directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
    try {
      mkdirSync(join(dir, 'pki'));
      writeFileSync(join(dir, 'pki', 'ca.crt'), CA);
      writeFileSync(join(dir, 'pki', 'client.crt'), CERT);
      writeFileSync(join(dir, 'pki', 'client.key'), KEY);
      writeFileSync(join(dir, 'config'), config.replace('tokenFile: /abs/token', 'token: t'));
      const r = loadKubeconfig(join(dir, 'config'), 'files');
      assert.equal(r.ca, CA);
      assert.equal(r.clientKey, KEY);
      assert.equal(r.token, 't');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with Unreadable for a missing file', () => {
    assert.throws(() => loadKubeconfig('/nonexistent/kubeconfig'), (e: unknown) => e instanceof KubeconfigError && e.code === 'Unreadable');
  });
});

describe('defaultKubeconfigPath', () => {
  const cases: { env: Record<string, string | undefined>; want: string }[] = [
    { env: { KUBECONFIG: '/a/config:/b/config', HOME: '/home/x' }, want: '/a/config' },
    { env: { KUBECONFIG: ':/b/config', HOME: '/home/x' }, want: '/b/config' },
    { env: { HOME: '/home/x' }, want: '/home/x/.kube/config' },
  ];
  for (const c of cases) {
    it(`uses ${c.want} when KUBECONFIG is ${JSON.stringify(c.env['KUBECONFIG'])}`, () => {
      assert.equal(defaultKubeconfigPath(c.env), c.want);
    });
  }
});
