// The two ways a client call fails. The server answered with an error: an `ApiError` (src/api/errors.ts)
// rebuilt from the returned Status, so callers branch on `reason`/`code` exactly as server code does. The
// request never got a usable answer (refused, reset, TLS failure, timeout, garbled body): a
// `KubeTransportError` whose `code` says which and whose `cause` is the underlying error.
import { ApiError } from '../api/errors.ts';
import type { StatusReason } from '../api/errors.ts';
import type { StatusDetails } from '../api/types.ts';

export type TransportErrorCode =
  /** TCP connect refused/unreachable or DNS failure. */
  | 'ConnectionFailed'
  /** The connection dropped mid-request or mid-stream. */
  | 'ConnectionReset'
  /** Certificate verification or handshake failure. */
  | 'TLS'
  /** The request exceeded its deadline. */
  | 'Timeout'
  /** The caller cancelled the request. */
  | 'Aborted'
  /** The server's answer could not be decoded. */
  | 'Decode';

export class KubeTransportError extends Error {
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'KubeTransportError';
    this.code = code;
  }
}

export function isTransportError(e: unknown): e is KubeTransportError {
  return e instanceof KubeTransportError;
}

const KNOWN_REASONS: ReadonlySet<string> = new Set<StatusReason>([
  'BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'AlreadyExists', 'Conflict', 'Invalid', 'Gone', 'Expired',
  'MethodNotAllowed', 'NotAcceptable', 'UnsupportedMediaType', 'RequestEntityTooLarge', 'TooManyRequests',
  'InternalError', 'ServiceUnavailable', 'Timeout',
]);

function isStatusReason(r: unknown): r is StatusReason {
  return typeof r === 'string' && KNOWN_REASONS.has(r);
}

/** The reason upstream's client assumes for an HTTP code when the body carries none. */
export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Gone';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'BadRequest';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Rebuilds the ApiError a server reported. `body` is the decoded JSON (a Status when the server is
 * Kubernetes-shaped) or the raw text; `httpCode` is used when the Status carries no code.
 */
export function apiErrorFromStatus(httpCode: number, body: unknown): ApiError {
  if (isRecord(body) && body['kind'] === 'Status') {
    const code = typeof body['code'] === 'number' && body['code'] > 0 ? body['code'] : httpCode;
    const reason = isStatusReason(body['reason']) ? body['reason'] : reasonForCode(code);
    const message = typeof body['message'] === 'string' ? body['message'] : `the server reported ${reason} (${code})`;
    const details = isRecord(body['details']) ? (body['details'] as StatusDetails) : undefined;
    return new ApiError(reason, message, details, { code });
  }
  const reason = reasonForCode(httpCode);
  const text = typeof body === 'string' ? body.trim() : '';
  const message = text !== '' ? text.slice(0, 1024) : `the server responded with HTTP ${httpCode} (${reason})`;
  return new ApiError(reason, message, undefined, { code: httpCode });
}

/** Maps a Node socket/TLS error to a transport error code. */
export function transportCodeOf(err: unknown): TransportErrorCode {
  const code = isRecord(err) && typeof err['code'] === 'string' ? err['code'] : '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)) return 'ConnectionFailed';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
    || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'EPROTO') return 'TLS';
  if (code === 'ETIMEDOUT') return 'Timeout';
  if (code === 'ABORT_ERR') return 'Aborted';
  return 'ConnectionReset';
}

/** True for failures worth retrying later: transport errors, 429, 5xx, timeouts. */
export function isRetriable(e: unknown): boolean {
  if (e instanceof KubeTransportError) return e.code !== 'Aborted' && e.code !== 'TLS';
  if (e instanceof ApiError) return e.code === 429 || e.code >= 500 || e.reason === 'Timeout';
  return false;
}
