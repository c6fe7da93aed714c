// Request bodies for the readers that take JSON or YAML text (object bodies, DeleteOptions): a Kubernetes
// protobuf body (`application/vnd.kubernetes.protobuf`, which kubectl >= 1.32 sends for its typed
// `create` subcommands and does not retry as JSON) is decoded by src/api/protobuf and handed on as the
// equivalent JSON text, so everything downstream (parsing, field validation, admission) is unchanged.
import type { IncomingMessage } from 'node:http';
import { decodeKubernetesProtobuf, isProtobufMediaType } from '../api/protobuf/index.ts';
import { readBodyBytes } from './http-util.ts';

export interface TextBody {
  text: string;
  /** The media type of `text`: the request's Content-Type, or application/json for a decoded protobuf body. */
  contentType: string | undefined;
}

export async function readBodyAsText(req: IncomingMessage): Promise<TextBody> {
  const contentType = req.headers['content-type'];
  const bytes = await readBodyBytes(req);
  if (isProtobufMediaType(contentType)) {
    return { text: bytes.length === 0 ? '' : JSON.stringify(decodeKubernetesProtobuf(bytes)), contentType: 'application/json' };
  }
  return { text: bytes.toString('utf8'), contentType };
}
