// Runs the test suite on node's built-in test runner: unit tests beside the code (src/**/*.test.ts) and
// integration tests against real kernels, servers and kubectl (test/**/*.test.ts). Files run one at a time:
// the kernel tests build whole clusters, and clusters share the root namespace's routes and the machine's
// two cores, so running them side by side makes them contend rather than finish sooner.
// Usage: node scripts/run-tests.ts [--unit] [extra node --test args / file globs]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const rest = args.filter((a) => a !== '--unit');
const globs = rest.some((a) => !a.startsWith('-'))
  ? []
  : unitOnly ? ['src/**/*.test.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const result = spawnSync(process.execPath, [
  '--disable-warning=ExperimentalWarning',
  '--test',
  '--test-concurrency=1',
  '--test-timeout=600000',
  ...rest,
  ...globs,
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
