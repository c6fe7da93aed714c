// bin/flatnet: the command-line entry. Each subcommand has --help; exit codes: 0 ok, 1 failure, 2 usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, type Command } from './command.ts';
import { serverCommand } from './server-command.ts';
import { matrixCommand } from './matrix-command.ts';
import { upCommand, downCommand, listCommand, statusCommand, demoCommand, rulesCommand } from './cluster-commands.ts';
import { agentsCommand } from '../agent/agents-command.ts';
import { probeCommand } from './probe-command.ts';
import { traceCommand } from './trace-command.ts';
import { externalDnsCommand } from '../dns/external-resolver.ts';

const commands: Command[] = [upCommand, downCommand, statusCommand, listCommand, demoCommand, serverCommand, agentsCommand, rulesCommand, matrixCommand, externalDnsCommand, probeCommand, traceCommand];

function usage(): string {
  const lines = ['flatnet: Kubernetes networking, real on one Linux machine', '', 'Usage: flatnet <command> [options]', '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `flatnet <command> --help` for the options of a command.');
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  const lines = [`flatnet ${c.name}: ${c.summary}`, '', `Usage: flatnet ${c.usage}`, ''];
  for (const [name, opt] of Object.entries(c.options)) {
    const flag = `--${name}${opt.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(26)} ${opt.help}${opt.default !== undefined ? ` (default ${String(opt.default)})` : ''}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write('flatnet 0.1.0\n');
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`flatnet: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return 0;
  }
  const config: ParseArgsConfig = { args: rest, allowPositionals: true, strict: true, options: {} };
  for (const [optName, opt] of Object.entries(cmd.options)) {
    (config.options ??= {})[optName] = { type: opt.type, ...(opt.short ? { short: opt.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    process.stderr.write(`flatnet ${name}: ${e instanceof Error ? e.message : String(e)}\n\n${commandHelp(cmd)}\n`);
    return 2;
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [k, opt] of Object.entries(cmd.options)) {
    const v = (parsed.values as Record<string, string | boolean | undefined>)[k];
    values[k] = v ?? opt.default;
  }
  try {
    return await cmd.run(values, parsed.positionals);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`flatnet ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`flatnet ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`flatnet: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
