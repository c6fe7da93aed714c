// The cluster's PKI: a CA generated per cluster, a serving certificate for the API server (SANs for
// loopback, the `kubernetes` Service names and its ClusterIP, and any lab address), and an admin client
// certificate (O=system:masters). Uses the machine's `openssl` (Debian package), so keys never leave the
// data directory. Idempotent: existing material is reused; the serving certificate is re-issued when the
// requested SANs change.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

export class PkiError extends Error {
  readonly code = 'PkiError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
  }
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (cause) {
    throw new PkiError(`openssl ${args[0]} failed`, { cause });
  }
}

export interface PkiOptions {
  dir: string;
  clusterName: string;
  ipSans: readonly string[];
  dnsSans: readonly string[];
}

export function ensurePki(options: PkiOptions): Pki {
  const dir = options.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  if (!existsSync(p('ca.crt')) || !existsSync(p('ca.key'))) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
      '-days', '3650', '-subj', `/CN=flatnet-ca-${options.clusterName}`, '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'], dir);
  }
  const sans = [...options.dnsSans.map((d) => `DNS:${d}`), ...options.ipSans.map((ip) => `IP:${ip}`)].join(',');
  const sanFile = p('server.sans');
  const previousSans = existsSync(sanFile) ? readFileSync(sanFile, 'utf8') : '';
  if (previousSans !== sans || !existsSync(p('server.crt'))) {
    issue(dir, 'server', '/CN=kube-apiserver', ['serverAuth'], sans);
    writeFileSync(sanFile, sans);
  }
  if (!existsSync(p('admin.crt'))) {
    issue(dir, 'admin', '/O=system:masters/CN=flatnet-admin', ['clientAuth'], undefined);
  }
  for (const f of ['ca.key', 'server.key', 'admin.key']) chmodSync(p(f), 0o600);
  return {
    dir,
    caCertPem: readFileSync(p('ca.crt'), 'utf8'),
    serverCertPem: readFileSync(p('server.crt'), 'utf8'),
    serverKeyPem: readFileSync(p('server.key'), 'utf8'),
    adminCertPem: readFileSync(p('admin.crt'), 'utf8'),
    adminKeyPem: readFileSync(p('admin.key'), 'utf8'),
  };
}

function issue(dir: string, name: string, subject: string, usages: string[], sans: string | undefined): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usages.join(',')}`,
    ...(sans ? [`subjectAltName=${sans}`] : []),
  ].join('\n');
  writeFileSync(join(dir, `${name}.ext`), ext + '\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`,
    '-days', '3650', '-extfile', `${name}.ext`], dir);
}
