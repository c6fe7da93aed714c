// One connection attempt from this network namespace, classified the way `flatnet probe` reports it: TCP
// connected (handshake done) / refused (RST) / timeout (no answer: what a policy drop looks like) / error (the
// errno); UDP connected (the target answered the datagram) / refused (ICMP port unreachable) / timeout / error
// (a failed connect, e.g. no route: the errno). Shared by the probe worker and the tests' long-lived probe
// server. Node builtins only.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

export interface ProbeResult {
  ip: string;
  port: number;
  connected: boolean;
  result: 'connected' | 'refused' | 'timeout' | 'error';
  ms: number;
  error?: string;
}

export function probeTcp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
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

export function probeUdp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let finished = false;
    const done = (result: ProbeResult['result'], error?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (resend !== undefined) clearInterval(resend);
      try { sock.close(); } catch { /* closed */ }
      resolve({ ip, port, connected: result === 'connected', result, ms: Math.round((performance.now() - t0) * 10) / 10, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    const send = () => sock.send('hostname', (e) => { if (e) done((e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'error', (e as NodeJS.ErrnoException).code ?? e.message); });
    let resend: NodeJS.Timeout | undefined;
    sock.on('message', () => done('connected'));
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code ?? e.message));
    // A failed connect() (no route: ENETUNREACH) is this target's `error`: sending on the unconnected socket
    // would throw ERR_SOCKET_BAD_PORT.
    sock.connect(port, ip, (e?: Error) => {
      if (e) return done('error', (e as NodeJS.ErrnoException).code ?? e.message);
      if (finished) return;
      send();
      resend = setInterval(send, Math.max(100, Math.floor(timeoutMs / 4)));
    });
  });
}
