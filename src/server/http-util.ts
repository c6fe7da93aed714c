// Small HTTP helpers for the API server: body reading with a size cap, content negotiation for Table
// output, and JSON/Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, apiErrors } from '../api/errors.ts';
import type { Status } from '../api/types.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The request body as bytes, refusing bodies over MAX_BODY_BYTES with 413. */
export async function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBytes(req)).toString('utf8');
}

export interface MediaRange {
  type: string; // e.g. application/json
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: type.toLowerCase(), params: p };
  });
}

export type Negotiated = { as: 'object' } | { as: 'Table' } | { as: 'APIGroupDiscoveryList'; version: 'v2' | 'v2beta1' };

const jsonish = (t: string) => t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/yaml';

/** Chooses the response form from Accept, as kube-apiserver does for the forms flatnet serves. */
export function negotiate(header: string | undefined): Negotiated | undefined {
  for (const m of parseAccept(header)) {
    if (!jsonish(m.type)) continue;
    const as = m.params['as'];
    if (as === undefined) return { as: 'object' };
    if (as === 'Table' && m.params['g'] === 'meta.k8s.io' && (m.params['v'] === 'v1' || m.params['v'] === 'v1beta1')) return { as: 'Table' };
    if (as === 'APIGroupDiscoveryList' && m.params['g'] === 'apidiscovery.k8s.io' && (m.params['v'] === 'v2' || m.params['v'] === 'v2beta1')) {
      return { as: 'APIGroupDiscoveryList', version: m.params['v'] };
    }
  }
  return undefined;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return apiErrors.internal(e instanceof Error ? e.message : String(e), e);
}
