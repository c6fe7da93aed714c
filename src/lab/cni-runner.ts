// Calls CNI plugins the way containerd (through libcni) does: one exec per plugin with CNI_COMMAND,
// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in the environment and the plugin's config
// on stdin; ADD chains each plugin's result into the next one's prevResult, CHECK and DEL hand every plugin
// the cached result of the last ADD, DEL runs the list backwards. Plugins run inside the node's network
// namespace (`ip netns exec <node> <plugin>`), which they take for "the host". Results are cached per
// attachment (libcni's cniCacheV1 layout) so CHECK/DEL get prevResult after a restart.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CNI_PLUGIN_DIR,
  buildCacheRecord,
  cacheFileName,
  formatCniArgs,
  parseCacheRecord,
  parseCniError,
  parseCniResult,
  pluginStdin,
} from './core/cni.ts';
import type { CapabilityArgs, CniResult, NetworkConfigList } from './core/cni.ts';
import { LabError } from './core/errors.ts';
import { SYSTEM_PATH, runRaw } from './exec.ts';

export type CniCommand = 'ADD' | 'CHECK' | 'DEL';

export interface Attachment {
  /** The network namespace the plugins treat as the host (the node). */
  hostNetns: string;
  containerId: string;
  /** CNI_NETNS: /var/run/netns/<pod netns>. */
  netnsPath: string;
  ifname: string;
  cniArgs: [string, string][];
  caps: CapabilityArgs;
}

/** One plugin exec, for timing reports. */
export interface PluginTiming {
  type: string;
  command: CniCommand;
  ms: number;
}

const PLUGIN_TYPE = /^[A-Za-z0-9_-]+$/;

export class CniRunner {
  readonly pluginDir: string;
  readonly cacheDir: string;
  /** The last few plugin execs (bounded), newest last. */
  readonly timings: PluginTiming[] = [];

  constructor(opts: { cacheDir: string; pluginDir?: string }) {
    this.cacheDir = opts.cacheDir;
    this.pluginDir = opts.pluginDir ?? CNI_PLUGIN_DIR;
  }

  /** Runs ADD for every plugin of the list, chaining results; caches and returns the final result. */
  async add(list: NetworkConfigList, at: Attachment): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      const result = await this.exec('ADD', list, plugin.type, pluginStdin(list, plugin, prev, at.caps), at);
      if (result === undefined) throw new LabError('CniFailed', `${plugin.type} ADD printed no result`);
      prev = result;
    }
    if (prev === undefined) throw new LabError('CniFailed', `network ${list.name} has no plugins`);
    await this.writeCache(list, at, prev);
    return prev;
  }

  /** Runs CHECK for every plugin with the cached result as prevResult; throws when any plugin objects. */
  async check(list: NetworkConfigList, at: Attachment): Promise<void> {
    const cached = await this.readCache(list.name, at.containerId, at.ifname);
    if (cached === undefined) throw new LabError('NotFound', `no cached ${list.name} result for container ${at.containerId}`);
    for (const plugin of list.plugins) {
      await this.exec('CHECK', list, plugin.type, pluginStdin(list, plugin, cached.result, cached.caps), { ...at, cniArgs: cached.cniArgs });
    }
  }

  /**
   * Runs DEL for every plugin in reverse order with the cached result (when there is one) and removes the
   * cache. DEL is idempotent: a second call, or one after the netns is gone, succeeds.
   */
  async del(list: NetworkConfigList, at: Attachment): Promise<void> {
    const cached = await this.readCache(list.name, at.containerId, at.ifname).catch(() => undefined);
    const caps = cached?.caps ?? at.caps;
    for (const plugin of [...list.plugins].reverse()) {
      await this.exec('DEL', list, plugin.type, pluginStdin(list, plugin, cached?.result, caps), { ...at, cniArgs: cached?.cniArgs ?? at.cniArgs });
    }
    await rm(this.cachePath(list.name, at.containerId, at.ifname), { force: true });
  }

  /** The cached result of an attachment, or undefined when there is none. */
  async cachedResult(network: string, containerId: string, ifname: string): Promise<CniResult | undefined> {
    return (await this.readCache(network, containerId, ifname))?.result;
  }

  cachePath(network: string, containerId: string, ifname: string): string {
    return join(this.cacheDir, cacheFileName(network, containerId, ifname));
  }

  private async readCache(network: string, containerId: string, ifname: string): Promise<ReturnType<typeof parseCacheRecord> | undefined> {
    let text: string;
    try {
      text = await readFile(this.cachePath(network, containerId, ifname), 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new LabError('Corrupt', `CNI cache ${network}/${containerId}/${ifname} is not JSON`, { cause: err });
    }
    return parseCacheRecord(value);
  }

  private async writeCache(list: NetworkConfigList, at: Attachment, result: CniResult): Promise<void> {
    await mkdir(this.cacheDir, { recursive: true });
    const record = buildCacheRecord({
      list,
      containerId: at.containerId,
      ifName: at.ifname,
      netns: at.netnsPath,
      cniArgs: at.cniArgs,
      caps: at.caps,
      result,
    });
    const path = this.cachePath(list.name, at.containerId, at.ifname);
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, path);
  }

  private async exec(command: CniCommand, list: NetworkConfigList, type: string, stdin: string, at: Attachment): Promise<CniResult | undefined> {
    if (!PLUGIN_TYPE.test(type)) throw new LabError('InvalidArgument', `CNI plugin type ${JSON.stringify(type)} is not a plain name`);
    const env: Record<string, string> = {
      PATH: SYSTEM_PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: at.containerId,
      CNI_NETNS: at.netnsPath,
      CNI_IFNAME: at.ifname,
      CNI_ARGS: formatCniArgs(at.cniArgs),
      CNI_PATH: this.pluginDir,
    };
    const started = performance.now();
    const r = await runRaw('ip', ['netns', 'exec', at.hostNetns, join(this.pluginDir, type)], { env, input: stdin });
    this.timings.push({ type, command, ms: performance.now() - started });
    if (this.timings.length > 64) this.timings.shift();
    if (r.code !== 0) {
      const perr = parseCniError(r.stdout);
      const what = perr === undefined ? (r.stderr.trim() || r.stdout.trim()) : `${perr.msg}${perr.details ? ` (${perr.details})` : ''} [code ${perr.code}]`;
      throw new LabError('CniFailed', `CNI ${type} ${command} for ${list.name}/${at.containerId}/${at.ifname} in ${at.hostNetns} failed: ${what}`);
    }
    if (command !== 'ADD') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(r.stdout);
    } catch (err) {
      throw new LabError('CniFailed', `CNI ${type} ADD printed non-JSON output: ${r.stdout.slice(0, 200)}`, { cause: err });
    }
    return parseCniResult(value);
  }
}
