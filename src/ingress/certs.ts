// Self-signed certificates made with the `openssl` CLI (asynchronously: callers may host servers in the
// same process). Used for the controller's default certificate when none is given, and by tests/benches.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GeneratedCertificate {
  cert: string;
  key: string;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed: ${stderr || err.message}`, { cause: err }));
      else resolve();
    });
  });
}

/**
 * A self-signed P-256 certificate for `commonName` with `hosts` as DNS subjectAltNames (IP addresses
 * become IP SANs). Valid for `days` (default 365).
 */
export async function generateSelfSigned(commonName: string, hosts: readonly string[] = [], days = 365): Promise<GeneratedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'flatnet-cert-'));
  try {
    const keyPath = join(dir, 'tls.key');
    const certPath = join(dir, 'tls.crt');
    const sans = hosts.map((h) => (/^[0-9.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`));
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
      '-days', String(days), '-subj', `/CN=${commonName}`];
    if (sans.length > 0) args.push('-addext', `subjectAltName=${sans.join(',')}`);
    await run('openssl', args);
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
