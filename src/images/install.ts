// Prepares the "images" on this machine (shell): a directory of busybox applet links (the PATH of
// busybox-based images) and the flatnet programs type-stripped to plain .mjs (Node running stripped
// JavaScript uses ~12 MB less private memory per process than Node stripping TypeScript at start).
// Idempotent; everything lands under one root (default /run/flatnet/images), readable by any uid.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProgramName } from './image-table.ts';

export interface PreparedImages {
  root: string;
  busyboxBin: string;
  nodeBin: string;
  applets: ReadonlySet<string>;
  /** argv prefix that runs a program (node, flags, script). */
  programArgv(program: ProgramName): string[];
}

/** Flags that keep a Node image program small (measured: heap caps change little; stripping matters most). */
export const NODE_PROGRAM_FLAGS = ['--max-old-space-size=24', '--max-semi-space-size=1', '--no-warnings'];

const PROGRAMS: readonly ProgramName[] = ['nginx', 'agnhost', 'http-echo'];

/** flatnet's system components run from the source tree (they span many modules, so they are not stripped to one file). */
const SYSTEM_PROGRAMS: Partial<Record<ProgramName, string>> = {
  'flatnet-dns': join('src', 'dns', 'main.ts'),
  'flatnet-ingress': join('src', 'ingress', 'main.ts'),
};
const here = dirname(fileURLToPath(import.meta.url));

function defaultNodeBin(): string {
  // The Node 24 that runs us is the one the programs need.
  return process.execPath;
}

const cache = new Map<string, PreparedImages>();

export function prepareImages(root = '/run/flatnet/images', busybox = '/usr/bin/busybox'): PreparedImages {
  const hit = cache.get(root);
  if (hit !== undefined) return hit;
  const busyboxBin = join(root, 'busybox', 'bin');
  const programsDir = join(root, 'programs');
  mkdirSync(busyboxBin, { recursive: true, mode: 0o755 });
  mkdirSync(programsDir, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  const list = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').map((s) => s.trim()).filter((s) => /^[\w.[\]-]+$/.test(s));
  const applets = new Set(list);
  for (const applet of applets) {
    const link = join(busyboxBin, applet);
    let current: string | undefined;
    try { current = readlinkSync(link); } catch { current = undefined; }
    if (current !== busybox) {
      const tmp = `${link}.tmp${process.pid}`;
      symlinkSync(busybox, tmp);
      renameSync(tmp, link);
    }
  }
  for (const program of PROGRAMS) {
    const source = readFileSync(resolve(here, 'programs', `${program}.ts`), 'utf8');
    const js = stripTypeScriptTypes(source, { mode: 'strip' });
    const target = join(programsDir, `${program}.mjs`);
    if (!existsSync(target) || readFileSync(target, 'utf8') !== js) {
      const tmp = `${target}.tmp${process.pid}`;
      writeFileSync(tmp, js, { mode: 0o644 });
      renameSync(tmp, target);
    }
  }
  const nodeBin = defaultNodeBin();
  const prepared: PreparedImages = {
    root,
    busyboxBin,
    nodeBin,
    applets,
    programArgv: (program) => {
      const system = SYSTEM_PROGRAMS[program];
      if (system !== undefined) return [nodeBin, '--disable-warning=ExperimentalWarning', '--max-old-space-size=256', resolve(here, '..', '..', system)];
      return [nodeBin, ...NODE_PROGRAM_FLAGS, join(programsDir, `${program}.mjs`)];
    },
  };
  cache.set(root, prepared);
  return prepared;
}
