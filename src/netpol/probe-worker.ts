// The connecting half of `flatnet probe`, run inside one pod's network namespace
// (`ip netns exec <pod netns> node probe-worker.ts '<json>'`): tries every target at once, each with a
// deadline, and prints one JSON array of results. TCP: a completed handshake is a connection (refused =
// RST, timeout = no answer: what a policy drop looks like). UDP: the target must answer the datagram
// (agnhost netexec / serve-hostname do); an ICMP port unreachable is `refused`, silence is `timeout`.
// Node builtins only.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

interface Request {
  protocol: 'TCP' | 'UDP';
  timeoutMs: number;
  targets: { ip: string; port: number }[];
}

export interface ProbeResult {
  ip: string;
  port: number;
  connected: boolean;
  result: 'connected' | 'refused' | 'timeout' | 'error';
  ms: number;
  error?: string;
}

function tcp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (result: ProbeResult['result'], error?: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ip, port, connected: result === 'connected', result, ms: Math.round((performance.now() - t0) * 10) / 10, ...(error ? { error } : {}) });
    };
    const sock = connect({ host: ip, port });
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.once('connect', () => done('connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' ? 'timeout' : 'error', e.code ?? e.message));
  });
}

function udp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let finished = false;
    const done = (result: ProbeResult['result'], error?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(resend);
      try { sock.close(); } catch { /* closed */ }
      resolve({ ip, port, connected: result === 'connected', result, ms: Math.round((performance.now() - t0) * 10) / 10, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    // A datagram can be lost (e.g. while ARP resolves): send again a few times within the deadline.
    const send = () => sock.send('hostname', (e) => { if (e) done(e.message.includes('ECONNREFUSED') ? 'refused' : 'error', e.message); });
    const resend = setInterval(send, Math.max(100, Math.floor(timeoutMs / 4)));
    sock.on('message', () => done('connected'));
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code ?? e.message));
    sock.connect(port, ip, send);
  });
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as Request;
  const timeoutMs = Math.min(Math.max(Number(req.timeoutMs) || 1000, 50), 30_000);
  const targets = Array.isArray(req.targets) ? req.targets.slice(0, 10_000) : [];
  const results: ProbeResult[] = [];
  // Bounded parallelism inside one source: 256 sockets at a time.
  for (let i = 0; i < targets.length; i += 256) {
    const batch = targets.slice(i, i + 256);
    results.push(...await Promise.all(batch.map((t) => (req.protocol === 'UDP' ? udp(t.ip, t.port, timeoutMs) : tcp(t.ip, t.port, timeoutMs)))));
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

void main();
