// The lab's one error type. Callers branch on `code`, never on message text.

export type LabErrorCode =
  | 'InvalidArgument' // a name, CIDR or option that cannot be used
  | 'AlreadyExists' // a cluster, node or pod sandbox of that name is already there
  | 'NotFound' // no such cluster, node or pod sandbox
  | 'NoFreeSlot' // every underlay subnet index is taken
  | 'CommandFailed' // an `ip`/`bridge`/`nft`/`sysctl` command exited non-zero
  | 'CniFailed' // a CNI plugin returned an error result
  | 'Corrupt'; // a state or cache file could not be understood

export class LabError extends Error {
  readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
