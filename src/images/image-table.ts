// The image table: which image references flatnet can "run" and what each one runs on this machine.
// There is no registry and no root filesystem: an image is an entrypoint on the host plus a PATH.
// Pure data and resolution (no I/O); the runtime turns the result into a process.
//
// A reference is normalised like Docker's: `nginx` → `docker.io/library/nginx:latest`,
// `nicolaka/netshoot` → `docker.io/nicolaka/netshoot:latest`, `registry.k8s.io/pause:3.9` stays.
// Lookup is by repository: first the full name, then the path without its registry (so mirrors such as
// `mirror.gcr.io/library/nginx` or `k8s.gcr.io/e2e-test-images/agnhost` match too). Tags and digests
// are accepted and ignored.

/**
 * A flatnet program: a stand-in image program (TypeScript under src/images/programs/, run by Node 24), or one
 * of flatnet's own system components (cluster DNS, the ingress controller) run from the source tree.
 */
export type ProgramName = 'nginx' | 'agnhost' | 'http-echo' | 'flatnet-dns' | 'flatnet-ingress';

/** What argv[0] becomes: a flatnet program, a busybox applet, or a file found on PATH / by path. */
export type Executable =
  | { kind: 'program'; program: ProgramName }
  | { kind: 'applet'; applet: string }
  | { kind: 'file'; file: string };

/** PATH entries: `@busybox` stands for the directory of busybox applet links the runtime prepares. */
export const BUSYBOX_PATH_TOKEN = '@busybox';
const HOST_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface ImageSpec {
  /** Canonical repository, e.g. docker.io/library/nginx. */
  repository: string;
  /** Short names a user types, for messages and docs. */
  displayName: string;
  description: string;
  entrypoint: string[];
  cmd: string[];
  /** Image environment (the container's env overrides it). */
  env: Record<string, string>;
  path: string[];
  /** argv[0] values (bare names or absolute paths) that run a flatnet program. */
  programs: Record<string, ProgramName>;
  /** Bare and /bin/x, /usr/bin/x ... argv[0] run busybox applets (busybox-based images). */
  busyboxApplets: boolean;
  /** The image's own port, for docs. */
  ports?: number[];
}

export const IMAGE_TABLE: readonly ImageSpec[] = [
  {
    repository: 'docker.io/library/busybox',
    displayName: 'busybox',
    description: 'busybox applets only (no curl: use wget); default command sh',
    entrypoint: [], cmd: ['sh'], env: {}, path: [BUSYBOX_PATH_TOKEN], programs: {}, busyboxApplets: true,
  },
  {
    repository: 'docker.io/library/nginx',
    displayName: 'nginx',
    description: 'HTTP server on :80 serving the "Welcome to nginx!" page (flatnet program; NGINX_PORT overrides the port)',
    entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'], env: {},
    path: [BUSYBOX_PATH_TOKEN], programs: { '/docker-entrypoint.sh': 'nginx', nginx: 'nginx', '/usr/sbin/nginx': 'nginx' },
    busyboxApplets: true, ports: [80],
  },
  {
    repository: 'docker.io/nicolaka/netshoot',
    displayName: 'nicolaka/netshoot',
    description: 'network toolbox: busybox sh plus the host curl, dig, ping, ip, nc, tcpdump, socat on PATH',
    entrypoint: [], cmd: ['sh'], env: {}, path: [BUSYBOX_PATH_TOKEN, ...HOST_PATH],
    programs: {}, busyboxApplets: false,
  },
  {
    repository: 'registry.k8s.io/e2e-test-images/agnhost',
    displayName: 'registry.k8s.io/e2e-test-images/agnhost',
    description: 'Kubernetes e2e test server: netexec, serve-hostname, porter, connect, pause (flatnet program)',
    entrypoint: ['/agnhost'], cmd: ['pause'], env: {}, path: [BUSYBOX_PATH_TOKEN],
    programs: { '/agnhost': 'agnhost', agnhost: 'agnhost' }, busyboxApplets: true,
  },
  {
    repository: 'docker.io/hashicorp/http-echo',
    displayName: 'hashicorp/http-echo',
    description: 'answers every HTTP request with -text (default -listen :5678) (flatnet program)',
    entrypoint: ['/http-echo'], cmd: [], env: {}, path: [],
    programs: { '/http-echo': 'http-echo', 'http-echo': 'http-echo' }, busyboxApplets: false, ports: [5678],
  },
  {
    repository: 'registry.k8s.io/coredns/coredns',
    displayName: 'registry.k8s.io/coredns/coredns',
    description: 'cluster DNS per the Kubernetes DNS specification (flatnet\'s DNS program; flags as in docs/dns.md)',
    entrypoint: ['/coredns'], cmd: [], env: {}, path: [BUSYBOX_PATH_TOKEN],
    programs: { '/coredns': 'flatnet-dns', coredns: 'flatnet-dns' }, busyboxApplets: true, ports: [53, 9153],
  },
  {
    repository: 'flatnet.dev/ingress-controller',
    displayName: 'flatnet.dev/ingress-controller',
    description: 'flatnet\'s L7 ingress controller (IngressClass flatnet; flags as in docs/ingress.md)',
    entrypoint: ['/ingress-controller'], cmd: [], env: {}, path: [BUSYBOX_PATH_TOKEN],
    programs: { '/ingress-controller': 'flatnet-ingress', 'ingress-controller': 'flatnet-ingress' }, busyboxApplets: true, ports: [80, 443],
  },
  {
    repository: 'registry.k8s.io/pause',
    displayName: 'registry.k8s.io/pause',
    description: 'sleeps until SIGTERM/SIGINT, then exits 0 (busybox sh)',
    entrypoint: ['/pause'], cmd: [], env: {}, path: [BUSYBOX_PATH_TOKEN], programs: {}, busyboxApplets: true,
  },
];

/** Argv the pause image runs (busybox sh waiting on a sleeping child, exiting 0 on TERM/INT). */
export const PAUSE_ARGV = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

export interface ImageReference {
  /** As written in the pod spec. */
  raw: string;
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
  /** `domain/path`. */
  repository: string;
  /** What the kubelet reports as `image`: repository with tag (latest by default) or digest. */
  normalized: string;
}

export function parseImageReference(raw: string): ImageReference | undefined {
  const ref = raw.trim();
  if (ref === '' || /\s/.test(ref) || ref !== ref.replace(/[^A-Za-z0-9._\-/:@+]/g, '')) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    parts.shift();
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  const path = parts.join('/').toLowerCase();
  if (path === '' || parts.some((p) => p === '')) return undefined;
  const repository = `${domain}/${path}`;
  const normalized = digest !== undefined ? `${repository}@${digest}` : `${repository}:${tag ?? 'latest'}`;
  return { raw, domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), repository, normalized };
}

function pathOf(repository: string): string {
  return repository.slice(repository.indexOf('/') + 1);
}

/** Extra names that mean an entry: legacy registries and mirrors. */
const REPOSITORY_ALIASES: Record<string, string> = {
  'k8s.gcr.io/pause': 'registry.k8s.io/pause',
  'gcr.io/google-containers/pause': 'registry.k8s.io/pause',
  'gcr.io/google_containers/pause': 'registry.k8s.io/pause',
  'k8s.gcr.io/e2e-test-images/agnhost': 'registry.k8s.io/e2e-test-images/agnhost',
  'gcr.io/kubernetes-e2e-test-images/agnhost': 'registry.k8s.io/e2e-test-images/agnhost',
  'ghcr.io/nicolaka/netshoot': 'docker.io/nicolaka/netshoot',
};

export function lookupImage(ref: ImageReference): ImageSpec | undefined {
  const canonical = REPOSITORY_ALIASES[ref.repository] ?? ref.repository;
  const exact = IMAGE_TABLE.find((e) => e.repository === canonical);
  if (exact !== undefined) return exact;
  return IMAGE_TABLE.find((e) => pathOf(e.repository) === ref.path);
}

export function supportedImagesText(): string {
  return IMAGE_TABLE.map((e) => e.displayName).join(', ');
}

export interface ResolvedLaunch {
  ok: true;
  /** Null for an image outside the table that runs its command as given. */
  image: ImageSpec | null;
  reference: ImageReference;
  executable: Executable;
  args: string[];
  /** PATH entries (may contain BUSYBOX_PATH_TOKEN). */
  path: string[];
  env: Record<string, string>;
}

export interface LaunchError {
  ok: false;
  reason: 'ErrImagePull' | 'InvalidImageName' | 'RunContainerError';
  message: string;
}

function executableFor(image: ImageSpec | null, argv0: string): Executable {
  if (image !== null) {
    const program = image.programs[argv0];
    if (program !== undefined) return { kind: 'program', program };
    if (image.busyboxApplets) {
      const m = /^(?:\/usr)?\/s?bin\/([^/]+)$/.exec(argv0);
      const applet = m !== null ? m[1] : (argv0.includes('/') ? undefined : argv0);
      if (applet !== undefined) return { kind: 'applet', applet };
    }
  }
  return { kind: 'file', file: argv0 };
}

/**
 * Resolve what a container runs: Kubernetes' command/args rules (command replaces the entrypoint and drops
 * cmd; args replace cmd) over the image's entrypoint/cmd, then argv[0] mapped to a program, applet or file.
 * `isApplet` tells whether a busybox applet of that name exists (the shell knows the list).
 */
export function resolveLaunch(
  imageRaw: string | undefined,
  command: readonly string[] | undefined,
  args: readonly string[] | undefined,
  isApplet: (name: string) => boolean = () => true,
): ResolvedLaunch | LaunchError {
  const reference = parseImageReference(imageRaw ?? '');
  if (reference === undefined) {
    return { ok: false, reason: 'InvalidImageName', message: `Failed to apply default image tag "${imageRaw ?? ''}": couldn't parse image name "${imageRaw ?? ''}": invalid reference format` };
  }
  const image = lookupImage(reference);
  const hasCommand = command !== undefined && command.length > 0;
  if (image === null || image === undefined) {
    if (!hasCommand) {
      return {
        ok: false,
        reason: 'ErrImagePull',
        message: `Failed to pull image "${reference.raw}": flatnet has no registry; image ${reference.normalized} is not in the image table ` +
          `(supported: ${supportedImagesText()}); give the container a command to run it from the host PATH`,
      };
    }
    const argv = [...command, ...(args ?? [])];
    return { ok: true, image: null, reference, executable: { kind: 'file', file: argv[0] ?? '' }, args: argv.slice(1), path: HOST_PATH, env: {} };
  }
  let argv: string[];
  if (hasCommand) argv = [...command, ...(args ?? [])];
  else if (args !== undefined && args.length > 0) argv = [...image.entrypoint, ...args];
  else argv = [...image.entrypoint, ...image.cmd];
  if (image.repository === 'registry.k8s.io/pause' && argv[0] === '/pause') argv = [...PAUSE_ARGV];
  if (argv.length === 0) {
    return { ok: false, reason: 'RunContainerError', message: `failed to create containerd task: no command specified for image ${reference.normalized}` };
  }
  const argv0 = argv[0] ?? '';
  let executable = executableFor(image, argv0);
  if (executable.kind === 'applet' && !isApplet(executable.applet)) executable = { kind: 'file', file: argv0 };
  return { ok: true, image, reference, executable, args: argv.slice(1), path: image.path, env: { ...image.env } };
}
