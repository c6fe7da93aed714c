// Domain errors of the API layer. Every failure a client can see is an ApiError carrying the HTTP code,
// the Kubernetes `reason`, and the Status `details`; callers branch on `reason`/`code`, never on text.
// Field errors render exactly as upstream's field.ErrorList so kubectl prints the familiar messages, e.g.
//   The Service "x" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive
import type { Status, StatusCause, StatusDetails } from './types.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'InternalError';

export interface FieldError {
  type: FieldErrorType;
  /** Path in upstream notation: `spec.ports[0].port`, `metadata.labels[app]`. */
  field: string;
  value?: unknown;
  detail?: string;
  /** For NotSupported: the accepted values. */
  supported?: readonly string[];
}

export const fieldErrors = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, ...(detail ? { detail } : {}) }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({ type: 'FieldValueNotSupported', field, value, supported }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field, value, detail: `may not be more than ${max} bytes` }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field, value: actual, detail: `must have at most ${max} items` }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value }),
};

/** Go's %v of a value, as upstream prints field values (strings quoted, numbers bare). */
function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The error body as upstream's field.Error.ErrorBody(). */
export function fieldErrorBody(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return e.detail ? `Required value: ${e.detail}` : 'Required value';
    case 'FieldValueInvalid':
      return `Invalid value: ${goValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotSupported': {
      const supported = (e.supported ?? []).map((s) => JSON.stringify(s)).join(', ');
      return `Unsupported value: ${goValue(e.value)}${supported ? `: supported values: ${supported}` : ''}`;
    }
    case 'FieldValueDuplicate':
      return `Duplicate value: ${goValue(e.value)}`;
    case 'FieldValueForbidden':
      return e.detail ? `Forbidden: ${e.detail}` : 'Forbidden';
    case 'FieldValueTooLong':
      return `Too long: ${e.detail ?? ''}`;
    case 'FieldValueTooMany':
      return `Too many: ${goValue(e.value)}: ${e.detail ?? ''}`;
    case 'FieldValueNotFound':
      return `Not found: ${goValue(e.value)}`;
    case 'InternalError':
      return `Internal error: ${e.detail ?? ''}`;
  }
}

export function fieldErrorMessage(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

const reasonCodes: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** A failure the API reports to its client as a `Status`. */
export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails, options?: { cause?: unknown; code?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = options?.code ?? reasonCodes[reason];
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) status.details = this.details;
    return status;
  }
}

export interface ResourceRef {
  group: string;
  /** Plural resource name, as Status.details.kind carries it upstream for NotFound/AlreadyExists. */
  resource: string;
  name?: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}

export const apiErrors = {
  notFound: (ref: ResourceRef) =>
    new ApiError('NotFound', `${qualified(ref)} "${ref.name ?? ''}" not found`, { name: ref.name ?? '', group: ref.group, kind: ref.resource }),
  alreadyExists: (ref: ResourceRef) =>
    new ApiError('AlreadyExists', `${qualified(ref)} "${ref.name ?? ''}" already exists`, { name: ref.name ?? '', group: ref.group, kind: ref.resource }),
  conflict: (ref: ResourceRef, why: string) =>
    new ApiError('Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${why}`, { name: ref.name ?? '', group: ref.group, kind: ref.resource }),
  /** 422 with one cause per field error; `kind` is the object's Kind (e.g. "Service"). */
  invalid: (group: string, kind: string, name: string, errors: readonly FieldError[]) => {
    const messages = errors.map(fieldErrorMessage);
    const summary = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
    const gk = group === '' ? kind : `${kind}.${group}`;
    const causes: StatusCause[] = errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
    return new ApiError('Invalid', `${gk} "${name}" is invalid: ${summary}`, { name, group, kind, causes });
  },
  badRequest: (message: string, cause?: unknown) => new ApiError('BadRequest', message, undefined, { cause }),
  gone: (message: string) => new ApiError('Expired', message),
  unauthorized: () => new ApiError('Unauthorized', 'Unauthorized'),
  forbidden: (message: string) => new ApiError('Forbidden', message),
  methodNotAllowed: (message: string) => new ApiError('MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError('NotAcceptable', message),
  unsupportedMediaType: (contentType: string) => new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`),
  internal: (message: string, cause?: unknown) => new ApiError('InternalError', `Internal error occurred: ${message}`, undefined, { cause }),
  serviceUnavailable: (message: string) => new ApiError('ServiceUnavailable', message),
};

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
