// `flatnet matrix -f DIR_OR_FILES [--port P] [--protocol TCP|UDP|SCTP] [-o table|json|md]`: the offline
// NetworkPolicy truth table. Loads YAML/JSON manifests (multi-document files, or the *.yaml/*.yml/*.json files
// of a directory), builds the cluster they describe (src/netpol/core/scenario.ts: defaulting, validation,
// Deployments expanded, absent namespaces created, pod IPs assigned) and prints pods x pods for one port
// with an explanation of every denied cell. No root, no cluster.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  buildMatrixReport, buildPolicyModel, compilePolicies, NetpolError, renderMatrixMarkdown, renderMatrixTable, scenarioFromObjects,
} from '../netpol/core/index.ts';
import type { Protocol } from '../api/types.ts';
import { CliError, stringOpt, type Command } from './command.ts';

function manifestFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`${p}: no such file or directory`, 1);
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
      for (const n of names) out.push(join(p, n));
    } else {
      out.push(p);
    }
  }
  return out;
}

function loadDocuments(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new CliError(`${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`, 1);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export const matrixCommand: Command = {
  name: 'matrix',
  summary: 'print the NetworkPolicy truth table (pods x pods) of manifests, offline',
  usage: 'matrix -f DIR_OR_FILES [--port P] [--protocol TCP|UDP|SCTP] [-o table|json|md] [--allow-loopback] [--pod-cidr CIDR]',
  options: {
    filename: { type: 'string', short: 'f', help: 'manifest file or directory; several separated by commas (more as arguments)' },
    port: { type: 'string', help: 'destination port', default: '80' },
    protocol: { type: 'string', help: 'TCP, UDP or SCTP', default: 'TCP' },
    output: { type: 'string', short: 'o', help: 'table, json or md', default: 'table' },
    'allow-loopback': { type: 'boolean', help: "count a pod's traffic to itself as allowed (it never leaves the pod)", default: false },
    'pod-cidr': { type: 'string', help: 'block for pods without status.podIP', default: '10.244.0.0/16' },
  },
  async run(values, positionals) {
    const given = [...(stringOpt(values, 'filename') ?? '').split(','), ...positionals].filter((s) => s !== '');
    if (given.length === 0) throw new CliError('-f DIR_OR_FILES is required', 2);
    const portText = stringOpt(values, 'port') ?? '80';
    const port = Number(portText);
    if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) throw new CliError(`--port ${portText}: must be a number 1-65535`, 2);
    const protocol = (stringOpt(values, 'protocol') ?? 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') throw new CliError(`--protocol ${protocol}: use TCP, UDP or SCTP`, 2);
    const output = stringOpt(values, 'output') ?? 'table';
    if (output !== 'table' && output !== 'json' && output !== 'md') throw new CliError(`-o ${output}: use table, json or md`, 2);
    const objects = manifestFiles(given).flatMap(loadDocuments);
    try {
      const scenario = scenarioFromObjects(objects, { podCIDR: stringOpt(values, 'pod-cidr') ?? '10.244.0.0/16' });
      const compiled = compilePolicies(buildPolicyModel(scenario.state));
      const report = buildMatrixReport(compiled, { port, protocol: protocol as Protocol, allowLoopback: values['allow-loopback'] === true });
      if (output === 'json') {
        const ips = Object.fromEntries(compiled.model.pods.map((p) => [p.key, p.ips[0] ?? '']));
        process.stdout.write(JSON.stringify({
          ...report, podIPs: ips, assignedIPs: scenario.assignedIPs, createdNamespaces: scenario.createdNamespaces, ignored: scenario.ignored,
        }, null, 2) + '\n');
      } else {
        process.stdout.write((output === 'md' ? renderMatrixMarkdown(report) : renderMatrixTable(report)) + '\n');
      }
      return 0;
    } catch (e) {
      if (e instanceof NetpolError) throw new CliError(e.message, 1, { cause: e });
      throw e;
    }
  },
};
