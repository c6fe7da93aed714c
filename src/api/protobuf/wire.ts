// The protobuf wire format, read side: a message is a sequence of (tag, value) pairs where the tag is the
// varint `fieldNumber << 3 | wireType`. flatnet only needs the wire types Kubernetes messages use:
// varint (0), 64-bit (1), length-delimited (2) and 32-bit (5); groups (3, 4) are rejected.
import { apiErrors } from '../errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field as it appears on the wire. `varint` for wire type 0, `bytes` for 1, 2 and 5. */
export interface WireField {
  num: number;
  wire: number;
  varint: bigint;
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function protobufError(detail: string): Error {
  return apiErrors.badRequest(`unable to decode the protobuf request body: ${detail}`);
}

/** Reads a varint at `pos` (at most 10 bytes, as protobuf allows); returns the value and the next offset. */
export function readVarint(buf: Uint8Array, pos: number, where: string): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw protobufError(`truncated varint in ${where}`);
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return [value, pos + i + 1];
  }
  throw protobufError(`varint longer than 10 bytes in ${where}`);
}

/** The fields of one message, in wire order. `where` names the message in error messages. */
export function readFields(buf: Uint8Array, where: string): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  // Every iteration consumes at least one byte, so the loop is bounded by the buffer's length.
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos, where);
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (num === 0) throw protobufError(`field number 0 in ${where}`);
    pos = afterTag;
    switch (wire) {
      case WIRE_VARINT: {
        const [v, next] = readVarint(buf, pos, where);
        out.push({ num, wire, varint: v, bytes: EMPTY });
        pos = next;
        break;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wire === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > buf.length) throw protobufError(`truncated field ${num} in ${where}`);
        out.push({ num, wire, varint: 0n, bytes: buf.subarray(pos, pos + size) });
        pos += size;
        break;
      }
      case WIRE_LEN: {
        const [len, next] = readVarint(buf, pos, where);
        if (BigInt(next) + len > BigInt(buf.length)) throw protobufError(`field ${num} in ${where} is longer than its message`);
        const end = next + Number(len);
        out.push({ num, wire, varint: 0n, bytes: buf.subarray(next, end) });
        pos = end;
        break;
      }
      default:
        throw protobufError(`field ${num} in ${where} has wire type ${wire}, which Kubernetes messages do not use`);
    }
  }
  return out;
}

/** Splits a packed repeated varint field into its values. */
export function readPackedVarints(buf: Uint8Array, where: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [v, next] = readVarint(buf, pos, where);
    out.push(v);
    pos = next;
  }
  return out;
}
