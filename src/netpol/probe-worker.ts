// The connecting half of `flatnet probe`, run inside one pod's network namespace
// (`ip netns exec <pod netns> node probe-worker.ts '<json>'`): tries every target at once, each with a
// deadline, and prints one JSON array of results. TCP: a completed handshake is a connection (refused =
// RST, timeout = no answer: what a policy drop looks like). UDP: the target must answer the datagram
// (agnhost netexec / serve-hostname do); an ICMP port unreachable is `refused`, silence is `timeout`.
// Node builtins only.
import { probeTcp, probeUdp, type ProbeResult } from './probe-connect.ts';

export type { ProbeResult };

interface Request {
  protocol: 'TCP' | 'UDP';
  timeoutMs: number;
  targets: { ip: string; port: number }[];
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as Request;
  const timeoutMs = Math.min(Math.max(Number(req.timeoutMs) || 1000, 50), 30_000);
  const targets = Array.isArray(req.targets) ? req.targets.slice(0, 10_000) : [];
  const results: ProbeResult[] = [];
  // Bounded parallelism inside one source: 256 sockets at a time.
  for (let i = 0; i < targets.length; i += 256) {
    const batch = targets.slice(i, i + 256);
    results.push(...await Promise.all(batch.map((t) => (req.protocol === 'UDP' ? probeUdp(t.ip, t.port, timeoutMs) : probeTcp(t.ip, t.port, timeoutMs)))));
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

void main();
