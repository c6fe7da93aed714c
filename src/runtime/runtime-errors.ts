// Errors the pod runtime raises to its caller (the node agent maps them to API errors/HTTP codes).
export type RuntimeErrorCode =
  | 'PodNotFound'
  | 'ContainerNotFound'
  | 'ContainerNotRunning'
  | 'ExecFailed'
  | 'LogNotFound'
  | 'SandboxNotFound';

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.code = code;
  }
}
