import { stringify as toYaml } from 'yaml';
// The shape of a flatnet subcommand.
export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  help: string;
  default?: string | boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, CommandOption>;
  /** Returns the process exit code. Options not given take their default (or undefined). */
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** A failure to report to the user in one line, with the exit code to use (1 failure, 2 usage). */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code = 'CliError';
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function stringOpt(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Prints data as JSON, YAML or (default) the given table text. */
export function printData(data: unknown, output: string | undefined, table: () => string): void {
  if (output === 'json') process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else if (output === 'yaml') process.stdout.write(toYaml(data));
  else if (output === undefined || output === 'table' || output === 'wide') process.stdout.write(table() + '\n');
  else throw new CliError(`unknown output format "${output}" (use json, yaml or table)`, 2);
}

