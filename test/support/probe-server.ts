// A long-lived `flatnet probe` worker for tests that probe many times from the same network namespace
// (`ip netns exec <netns> node probe-server.ts`): one JSON request per stdin line
// `{id, timeoutMs, targets: [{ip, port, protocol}]}`, one JSON answer per stdout line `{id, results}`.
// Each connection attempt is classified by src/netpol/probe-connect.ts, as `flatnet probe`'s worker does (so a
// differential test can use it in place of one worker process per probe): TCP connected / refused (RST) / timeout / error
// (with the errno code); UDP connected (an answer) / refused (ICMP port unreachable) / timeout / error. One
// deviation, where the worker crashes: a UDP target whose connect() fails (no route) is an `error` with the
// errno. Exits when stdin closes. Node builtins only.
import { createInterface } from 'node:readline';
import { probeTcp, probeUdp, type ProbeResult } from '../../src/netpol/probe-connect.ts';

interface Target { ip: string; port: number; protocol: 'TCP' | 'UDP' }
interface Request { id: number; timeoutMs: number; targets: Target[] }

async function handle(req: Request): Promise<void> {
  const timeoutMs = Math.min(Math.max(Number(req.timeoutMs) || 1000, 50), 30_000);
  const targets = Array.isArray(req.targets) ? req.targets.slice(0, 10_000) : [];
  const results: ProbeResult[] = [];
  // Bounded parallelism, as the worker: 256 sockets at a time.
  for (let i = 0; i < targets.length; i += 256) {
    const batch = targets.slice(i, i + 256);
    results.push(...await Promise.all(batch.map((t) => (t.protocol === 'UDP' ? probeUdp(t.ip, t.port, timeoutMs) : probeTcp(t.ip, t.port, timeoutMs)))));
  }
  process.stdout.write(JSON.stringify({ id: req.id, results }) + '\n');
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    process.stdout.write(JSON.stringify({ id: -1, error: 'unreadable request' }) + '\n');
    return;
  }
  void handle(req);
});
rl.on('close', () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ready: true }) + '\n');
