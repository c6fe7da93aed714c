// Loads a kubeconfig file (the YAML kubectl reads) and resolves one context into what a client needs to
// connect: the server URL, the CA bundle, and the user's credentials (bearer token, client certificate and
// key, or basic auth). File references (`certificate-authority`, `client-certificate`, `client-key`,
// `tokenFile`) are read relative to the kubeconfig's directory, as kubectl does; inline `*-data` fields are
// base64 and win over the file form.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export type KubeconfigErrorCode = 'Unreadable' | 'Malformed' | 'ContextNotFound' | 'ClusterNotFound' | 'UserNotFound' | 'NoCurrentContext';

export class KubeconfigError extends Error {
  readonly code: KubeconfigErrorCode;
  constructor(code: KubeconfigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'KubeconfigError';
    this.code = code;
  }
}

/** One context of a kubeconfig, resolved: everything a client needs to connect and authenticate. */
export interface ResolvedKubeconfig {
  contextName: string;
  clusterName: string;
  userName: string;
  /** The API server's base URL, e.g. `https://127.0.0.1:6443` (no trailing slash). */
  server: string;
  /** The context's namespace, or `default`. */
  namespace: string;
  /** PEM CA bundle that signs the server's certificate, when the kubeconfig names one. */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  /** SNI / verification name to use instead of the URL's host. */
  tlsServerName?: string;
  token?: string;
  /** PEM client certificate (chain) and key, for mutual TLS. */
  clientCertificate?: string;
  clientKey?: string;
  username?: string;
  password?: string;
}

export interface ParseKubeconfigOptions {
  /** Context to resolve; default: `current-context`. */
  context?: string;
  /** Directory that relative file references are resolved against (default: the process's cwd). */
  baseDir?: string;
  /** Reads a referenced file as UTF-8 (default: node:fs). Injectable for tests. */
  readFile?: (path: string) => string;
}

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(d: Dict, key: string): string | undefined {
  const v = d[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The `{name, <field>: {...}}` entry called `name` in a named list such as `clusters`. */
function named(doc: Dict, list: string, field: string, name: string): Dict | undefined {
  const entries = doc[list];
  if (entries === undefined || entries === null) return undefined;
  if (!Array.isArray(entries)) throw new KubeconfigError('Malformed', `kubeconfig: ${list} must be a list`);
  for (const e of entries) {
    if (isDict(e) && e['name'] === name) {
      const inner = e[field];
      if (inner === undefined || inner === null) return {};
      if (!isDict(inner)) throw new KubeconfigError('Malformed', `kubeconfig: ${list}[${name}].${field} must be a mapping`);
      return inner;
    }
  }
  return undefined;
}

function decodeBase64(value: string, what: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new KubeconfigError('Malformed', `kubeconfig: ${what} is not valid base64`);
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** Resolves a context from kubeconfig YAML text. */
export function parseKubeconfig(text: string, options: ParseKubeconfigOptions = {}): ResolvedKubeconfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new KubeconfigError('Malformed', 'kubeconfig: not valid YAML', { cause });
  }
  if (!isDict(doc)) throw new KubeconfigError('Malformed', 'kubeconfig: the document must be a mapping');

  const baseDir = options.baseDir ?? process.cwd();
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const readRef = (ref: string, what: string): string => {
    const path = isAbsolute(ref) ? ref : resolve(baseDir, ref);
    try {
      return read(path);
    } catch (cause) {
      throw new KubeconfigError('Unreadable', `kubeconfig: cannot read ${what} ${path}`, { cause });
    }
  };

  const contextName = options.context ?? str(doc, 'current-context');
  if (contextName === undefined) throw new KubeconfigError('NoCurrentContext', 'kubeconfig: no context given and current-context is not set');
  const context = named(doc, 'contexts', 'context', contextName);
  if (context === undefined) throw new KubeconfigError('ContextNotFound', `kubeconfig: context "${contextName}" not found`);

  const clusterName = str(context, 'cluster');
  if (clusterName === undefined) throw new KubeconfigError('Malformed', `kubeconfig: context "${contextName}" names no cluster`);
  const cluster = named(doc, 'clusters', 'cluster', clusterName);
  if (cluster === undefined) throw new KubeconfigError('ClusterNotFound', `kubeconfig: cluster "${clusterName}" not found`);
  const server = str(cluster, 'server');
  if (server === undefined) throw new KubeconfigError('Malformed', `kubeconfig: cluster "${clusterName}" has no server`);
  try {
    new URL(server);
  } catch (cause) {
    throw new KubeconfigError('Malformed', `kubeconfig: cluster "${clusterName}" server is not a URL`, { cause });
  }

  // A context may name no user (anonymous access); a named user must exist.
  const userName = str(context, 'user') ?? '';
  let user: Dict = {};
  if (userName !== '') {
    const found = named(doc, 'users', 'user', userName);
    if (found === undefined) throw new KubeconfigError('UserNotFound', `kubeconfig: user "${userName}" not found`);
    user = found;
  }

  const resolved: ResolvedKubeconfig = {
    contextName,
    clusterName,
    userName,
    server: server.replace(/\/+$/, ''),
    namespace: str(context, 'namespace') ?? 'default',
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };

  const caData = str(cluster, 'certificate-authority-data');
  const caFile = str(cluster, 'certificate-authority');
  if (caData !== undefined) resolved.ca = decodeBase64(caData, `cluster "${clusterName}" certificate-authority-data`);
  else if (caFile !== undefined) resolved.ca = readRef(caFile, 'certificate-authority');
  const tlsServerName = str(cluster, 'tls-server-name');
  if (tlsServerName !== undefined) resolved.tlsServerName = tlsServerName;

  const token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  if (token !== undefined) resolved.token = token;
  else if (tokenFile !== undefined) resolved.token = readRef(tokenFile, 'tokenFile').trim();

  const certData = str(user, 'client-certificate-data');
  const certFile = str(user, 'client-certificate');
  if (certData !== undefined) resolved.clientCertificate = decodeBase64(certData, `user "${userName}" client-certificate-data`);
  else if (certFile !== undefined) resolved.clientCertificate = readRef(certFile, 'client-certificate');

  const keyData = str(user, 'client-key-data');
  const keyFile = str(user, 'client-key');
  if (keyData !== undefined) resolved.clientKey = decodeBase64(keyData, `user "${userName}" client-key-data`);
  else if (keyFile !== undefined) resolved.clientKey = readRef(keyFile, 'client-key');

  if ((resolved.clientCertificate === undefined) !== (resolved.clientKey === undefined)) {
    throw new KubeconfigError('Malformed', `kubeconfig: user "${userName}" has a client certificate without a key, or a key without a certificate`);
  }

  const username = str(user, 'username');
  const password = str(user, 'password');
  if (username !== undefined) resolved.username = username;
  if (password !== undefined) resolved.password = password;
  return resolved;
}

/** Reads and resolves a kubeconfig file; relative file references resolve against its directory. */
export function loadKubeconfig(path: string, context?: string): ResolvedKubeconfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new KubeconfigError('Unreadable', `kubeconfig: cannot read ${path}`, { cause });
  }
  return parseKubeconfig(text, { baseDir: dirname(resolve(path)), ...(context !== undefined ? { context } : {}) });
}

/** The kubeconfig path kubectl would use: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env['KUBECONFIG']?.split(':').find((p) => p !== '');
  if (fromEnv !== undefined) return fromEnv;
  return resolve(env['HOME'] ?? '.', '.kube', 'config');
}
