// The sending half of sendProbe (send-probe.ts), run inside a network namespace
// (`ip netns exec <netns> node send-probe-worker.ts '<json>'`): one TCP connect or one UDP exchange from a
// known source port, then one JSON line. TCP: a completed handshake is `connected`, a RST or an ICMP port
// unreachable is `refused`, an ICMP host/net unreachable (or no route) is `unreachable`, silence is
// `timeout`. UDP: an answer is `connected`, ICMP port unreachable `refused`. Node builtins only.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

interface Request { protocol: 'TCP' | 'UDP'; dst: string; port: number; srcPort?: number; timeoutMs: number }
export type ProbeOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'error';
export interface WorkerResult { result: ProbeOutcome; localPort: number; error?: string; ms: number }

function outcomeOf(code: string | undefined): ProbeOutcome {
  switch (code) {
    case 'ECONNREFUSED': return 'refused';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'unreachable';
    case 'ETIMEDOUT': return 'timeout';
    default: return 'error';
  }
}

function tcp(req: Request, localPort: number): Promise<WorkerResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: req.dst, port: req.port, localPort });
    const done = (result: ProbeOutcome, error?: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result, localPort, ms: Math.round(performance.now() - t0), ...(error !== undefined ? { error } : {}) });
    };
    const timer = setTimeout(() => done('timeout'), req.timeoutMs);
    sock.once('connect', () => done('connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(outcomeOf(e.code), e.code ?? e.message));
  });
}

function udp(req: Request, localPort: number): Promise<WorkerResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let finished = false;
    const done = (result: ProbeOutcome, error?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(resend);
      try { sock.close(); } catch { /* closed */ }
      resolve({ result, localPort, ms: Math.round(performance.now() - t0), ...(error !== undefined ? { error } : {}) });
    };
    const timer = setTimeout(() => done('timeout'), req.timeoutMs);
    const send = () => sock.send('probe\n', (e) => { if (e) done(outcomeOf((e as NodeJS.ErrnoException).code), (e as NodeJS.ErrnoException).code ?? e.message); });
    const resend = setInterval(send, Math.max(100, Math.floor(req.timeoutMs / 4)));
    sock.on('message', () => done('connected'));
    sock.on('error', (e: NodeJS.ErrnoException) => done(outcomeOf(e.code), e.code ?? e.message));
    sock.bind(localPort, () => sock.connect(req.port, req.dst, send));
  });
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as Request;
  req.timeoutMs = Math.min(Math.max(Number(req.timeoutMs) || 1000, 50), 60_000);
  // Without a given source port, pick one below the kernel's ephemeral range so it is known up front.
  const chosen = req.srcPort !== undefined;
  let res: WorkerResult = { result: 'error', localPort: 0, ms: 0, error: 'not run' };
  for (let attempt = 0; attempt < 8; attempt++) {
    const localPort = req.srcPort ?? 20000 + Math.floor(Math.random() * 10000);
    res = await (req.protocol === 'UDP' ? udp(req, localPort) : tcp(req, localPort));
    if (chosen || res.error !== 'EADDRINUSE') break;
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}

void main();
