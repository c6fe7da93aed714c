// DNS wire format (RFC 1035, 3596, 2782, 6891) for the cluster DNS server: decoding queries defensively
// (compression pointers may only point backwards, names stay within 255 octets, every read is bounds
// checked), encoding responses from the core's record model with name compression and UDP truncation,
// and scanning/rewriting raw upstream responses for the forwarder and its cache without re-encoding them.
import { RRType } from './core/dns-types.ts';
import type { RecordData, ResourceRecord } from './core/dns-types.ts';

export type WireErrorCode = 'Short' | 'BadPointer' | 'NameTooLong' | 'BadLabel' | 'BadRecord' | 'BadEdns';

export class WireError extends Error {
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}

export const CLASS_IN = 1;
export const HEADER_SIZE = 12;
const MAX_NAME_OCTETS = 255;
const MAX_POINTER_HOPS = 127;

export interface WireQuestion {
  /** Presentation format without the trailing dot, case preserved. */
  name: string;
  type: number;
  class: number;
}

export interface Edns {
  udpPayloadSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface DecodedQuery {
  id: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
  cd: boolean;
  question: WireQuestion | undefined;
  /** The question section's bytes (offset 12 to its end), for echoing it verbatim. */
  questionBytes: Uint8Array | undefined;
  edns: Edns | undefined;
}

// ------------------------------------------------------------------------------------------------ names

function labelToText(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i] ?? 0;
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

/**
 * Reads a possibly compressed name at `offset`. Pointers must point strictly before the label that
 * holds them (so no loop can form) and the expanded name must fit 255 octets.
 */
export function readName(buf: Uint8Array, offset: number): { name: string; end: number; compressed: boolean } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let octets = 1;
  let hops = 0;
  let floor = offset;
  for (;;) {
    if (pos >= buf.length) throw new WireError('Short', 'name runs past the message');
    const len = buf[pos] ?? 0;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireError('Short', 'pointer runs past the message');
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] ?? 0);
      if (target >= floor || ++hops > MAX_POINTER_HOPS) throw new WireError('BadPointer', 'compression pointer does not point backwards');
      if (end < 0) end = pos + 2;
      floor = target;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new WireError('BadLabel', `unsupported label type 0x${kind.toString(16)}`);
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) throw new WireError('NameTooLong', 'name longer than 255 octets');
    if (pos + 1 + len > buf.length) throw new WireError('Short', 'label runs past the message');
    labels.push(labelToText(buf, pos + 1, len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end, compressed: hops > 0 };
}

/** Wire labels of a presentation-format name (escapes `\.`, `\\`, `\DDD` understood). */
export function nameToLabels(name: string): Uint8Array[] {
  const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  if (text === '') return [];
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  let total = 1;
  const finish = () => {
    if (cur.length === 0 || cur.length > 63) throw new WireError('BadLabel', `bad label length ${cur.length} in ${JSON.stringify(name)}`);
    total += cur.length + 1;
    labels.push(Uint8Array.from(cur));
    cur = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d) && Number(d) < 256) {
        cur.push(Number(d));
        i += 3;
      } else {
        cur.push(text.charCodeAt(i + 1) & 0xff);
        i += 1;
      }
    } else if (ch === 0x2e) finish();
    else cur.push(ch & 0xff);
  }
  finish();
  if (total > MAX_NAME_OCTETS) throw new WireError('NameTooLong', `name longer than 255 octets: ${name.slice(0, 40)}...`);
  return labels;
}

/** Offsets in a presentation-format name where each label starts (escaped dots do not split). */
function labelStarts(text: string): number[] {
  const starts = [0];
  if (!text.includes('\\')) {
    for (let i = text.indexOf('.'); i >= 0; i = text.indexOf('.', i + 1)) starts.push(i + 1);
    return starts;
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c) i += /^[0-9]{3}$/.test(text.slice(i + 1, i + 4)) ? 3 : 1;
    else if (ch === 0x2e) starts.push(i + 1);
  }
  return starts;
}

// ----------------------------------------------------------------------------------------------- writer

class Writer {
  buf: Buffer;
  len = 0;
  /** Exact-spelling suffix -> offset, for compression. */
  readonly names = new Map<string, number>();

  constructor(size = 512) {
    this.buf = Buffer.allocUnsafe(size);
  }

  #ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.#ensure(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.#ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.#ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, at);
  }

  /**
   * Writes a name, compressing against earlier names with the same spelling. Compression keys are the
   * presentation-format suffixes (`svc.cluster.local`), so equal spellings share offsets.
   */
  name(name: string, compress = true): void {
    const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
    if (compress && text !== '') {
      const at = this.names.get(text);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
    }
    const labels = nameToLabels(text);
    const starts = labelStarts(text);
    for (let i = 0; i < labels.length; i++) {
      const key = text.slice(starts[i] ?? 0);
      if (i > 0 && compress) {
        const at = this.names.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.len < 0x3fff && !this.names.has(key)) this.names.set(key, this.len);
      const l = labels[i] ?? new Uint8Array();
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map((x) => Number(x) & 0xff);
}

function ipv6Bytes(ip: string): number[] {
  const [head = '', tail] = ip.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out: number[] = [];
  for (const g of groups) out.push((g >> 8) & 0xff, g & 0xff);
  return out;
}

function writeRdata(w: Writer, d: RecordData): void {
  switch (d.type) {
    case 'A':
      for (const o of ipv4Bytes(d.address)) w.u8(o);
      return;
    case 'AAAA':
      w.bytes(Uint8Array.from(ipv6Bytes(d.address)));
      return;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      w.name(d.target);
      return;
    case 'SRV':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target, false); // RFC 2782: the target is not compressed.
      return;
    case 'TXT':
      for (const t of d.texts) {
        const b = Buffer.from(t, 'utf8').subarray(0, 255);
        w.u8(b.length);
        w.bytes(b);
      }
      return;
    case 'SOA':
      w.name(d.mname);
      w.name(d.rname);
      w.u32(d.serial);
      w.u32(d.refresh);
      w.u32(d.retry);
      w.u32(d.expire);
      w.u32(d.minimum);
      return;
  }
}

/** Whether every name of a record can be encoded (labels 1..63 octets, names up to 255). */
function encodable(r: ResourceRecord): boolean {
  try {
    nameToLabels(r.name);
    const d = r.data;
    if (d.type === 'CNAME' || d.type === 'NS' || d.type === 'PTR' || d.type === 'SRV') nameToLabels(d.target);
    if (d.type === 'SOA') {
      nameToLabels(d.mname);
      nameToLabels(d.rname);
    }
    return true;
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
}

/** Writes one record; returns false (and writes nothing) when it cannot be encoded (e.g. a name too long). */
function writeRecord(w: Writer, r: ResourceRecord): boolean {
  if (!encodable(r)) return false;
  w.name(r.name);
  w.u16(RRType[r.data.type]);
  w.u16(CLASS_IN);
  w.u32(Math.max(0, Math.min(0x7fffffff, Math.floor(r.ttl))));
  const lenAt = w.len;
  w.u16(0);
  writeRdata(w, r.data);
  w.setU16(lenAt, w.len - lenAt - 2);
  return true;
}

// ---------------------------------------------------------------------------------------------- queries

/**
 * Decodes a query. Throws WireError('Short') when there is not even a header (no reply possible); any
 * other WireError means "reply FORMERR" (use `peekId` for the id).
 */
export function decodeQuery(buf: Uint8Array): DecodedQuery {
  if (buf.length < HEADER_SIZE) throw new WireError('Short', 'shorter than a DNS header');
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const id = view.readUInt16BE(0);
  const flags = view.readUInt16BE(2);
  const qdcount = view.readUInt16BE(4);
  const ancount = view.readUInt16BE(6);
  const nscount = view.readUInt16BE(8);
  const arcount = view.readUInt16BE(10);
  const q: DecodedQuery = { id, qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0, cd: (flags & 0x0010) !== 0, question: undefined, questionBytes: undefined, edns: undefined };
  if (qdcount > 1) throw new WireError('BadRecord', `${qdcount} questions`);
  let pos = HEADER_SIZE;
  if (qdcount === 1) {
    const { name, end, compressed } = readName(buf, pos);
    if (compressed) throw new WireError('BadPointer', 'compressed question name');
    if (end + 4 > buf.length) throw new WireError('Short', 'question runs past the message');
    q.question = { name, type: view.readUInt16BE(end), class: view.readUInt16BE(end + 2) };
    q.questionBytes = buf.subarray(HEADER_SIZE, end + 4);
    pos = end + 4;
  }
  const total = ancount + nscount + arcount;
  for (let i = 0; i < total; i++) {
    const { end } = readName(buf, pos);
    if (end + 10 > buf.length) throw new WireError('Short', 'record header runs past the message');
    const type = view.readUInt16BE(end);
    const rdlen = view.readUInt16BE(end + 8);
    if (end + 10 + rdlen > buf.length) throw new WireError('Short', 'rdata runs past the message');
    if (type === RRType.OPT) {
      if (i < ancount + nscount || q.edns !== undefined || end !== pos + 1) throw new WireError('BadEdns', 'misplaced or repeated OPT record');
      const ttl = view.readUInt32BE(end + 4);
      q.edns = { udpPayloadSize: view.readUInt16BE(end + 2), version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0 };
    }
    pos = end + 10 + rdlen;
  }
  return q;
}

export function peekId(buf: Uint8Array): number {
  return ((buf[0] ?? 0) << 8) | (buf[1] ?? 0);
}

export interface QueryOptions {
  id: number;
  rd?: boolean;
  cd?: boolean;
  /** Adds an OPT record advertising this payload size. */
  edns?: { udpPayloadSize: number; dnssecOk?: boolean };
}

export function encodeQuery(question: WireQuestion, options: QueryOptions): Buffer {
  const w = new Writer(64 + question.name.length);
  w.u16(options.id);
  w.u16((options.rd !== false ? 0x0100 : 0) | (options.cd === true ? 0x0010 : 0));
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(options.edns !== undefined ? 1 : 0);
  w.name(question.name, false);
  w.u16(question.type);
  w.u16(question.class);
  if (options.edns !== undefined) writeOpt(w, options.edns.udpPayloadSize, 0, options.edns.dnssecOk === true);
  return w.result();
}

// -------------------------------------------------------------------------------------------- responses

export interface ResponseSpec {
  id: number;
  opcode?: number;
  rd?: boolean;
  cd?: boolean;
  aa?: boolean;
  ra?: boolean;
  /** 0..4095; the high 8 bits travel in the OPT record (only when `edns` is set). */
  rcode: number;
  /** The question section to echo: raw bytes from the query (preferred) or a question to encode. */
  questionBytes?: Uint8Array;
  question?: WireQuestion;
  answer?: readonly ResourceRecord[];
  authority?: readonly ResourceRecord[];
  additional?: readonly ResourceRecord[];
  /** Add an OPT record (only when the query had one). */
  edns?: { udpPayloadSize: number; dnssecOk?: boolean };
  /** Size limit (UDP); records that do not fit are left out, and TC is set if an answer or authority record was. */
  maxSize?: number;
}

function writeOpt(w: Writer, payload: number, extendedRcode: number, dnssecOk: boolean): void {
  w.u8(0);
  w.u16(RRType.OPT);
  w.u16(payload);
  w.u32(((extendedRcode & 0xff) << 24) | (dnssecOk ? 0x8000 : 0));
  w.u16(0);
}

const OPT_SIZE = 11;

export function encodeResponse(spec: ResponseSpec): Buffer {
  const w = new Writer(512);
  w.u16(spec.id);
  w.u16(0); // flags, set at the end
  w.u16(spec.questionBytes !== undefined || spec.question !== undefined ? 1 : 0);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  if (spec.questionBytes !== undefined) {
    const start = w.len;
    w.bytes(spec.questionBytes);
    registerUncompressedName(w, spec.questionBytes, start);
  } else if (spec.question !== undefined) {
    w.name(spec.question.name);
    w.u16(spec.question.type);
    w.u16(spec.question.class);
  }
  const afterQuestion = w.len;
  const counts = [0, 0, 0];
  const ends: { section: number; end: number }[] = [];
  const sections = [spec.answer ?? [], spec.authority ?? [], spec.additional ?? []];
  sections.forEach((records, section) => {
    for (const r of records) {
      if (writeRecord(w, r)) {
        counts[section] = (counts[section] ?? 0) + 1;
        ends.push({ section, end: w.len });
      }
    }
  });
  const optSize = spec.edns !== undefined ? OPT_SIZE : 0;
  let tc = false;
  if (spec.maxSize !== undefined && w.len + optSize > spec.maxSize) {
    // Keep the longest prefix of records that fits; compression only points backwards, so a prefix is valid.
    const limit = spec.maxSize - optSize;
    let keep = ends.length;
    while (keep > 0 && (ends[keep - 1]?.end ?? 0) > limit) keep--;
    const cutSection = ends[keep]?.section ?? 2;
    tc = cutSection < 2;
    const newCounts = [0, 0, 0];
    for (let i = 0; i < keep; i++) {
      const s = ends[i]?.section ?? 0;
      newCounts[s] = (newCounts[s] ?? 0) + 1;
    }
    counts.splice(0, 3, ...newCounts);
    w.len = keep > 0 ? (ends[keep - 1]?.end ?? w.len) : afterQuestion;
  }
  const rcode = spec.rcode & 0xfff;
  if (spec.edns !== undefined) {
    writeOpt(w, spec.edns.udpPayloadSize, rcode >> 4, spec.edns.dnssecOk === true);
    counts[2] = (counts[2] ?? 0) + 1;
  }
  const flags = 0x8000 | ((spec.opcode ?? 0) << 11) | (spec.aa === true ? 0x0400 : 0) | (tc ? 0x0200 : 0) | (spec.rd === true ? 0x0100 : 0) | (spec.ra !== false ? 0x0080 : 0) | (spec.cd === true ? 0x0010 : 0) | (rcode & 0xf);
  w.setU16(2, flags);
  w.setU16(6, counts[0] ?? 0);
  w.setU16(8, counts[1] ?? 0);
  w.setU16(10, counts[2] ?? 0);
  return w.result();
}

/** Makes every suffix of an uncompressed name written at `start` available for compression. */
function registerUncompressedName(w: Writer, bytes: Uint8Array, start: number): void {
  const offsets: number[] = [];
  const labels: string[] = [];
  let pos = 0;
  for (let i = 0; i < 128 && pos < bytes.length; i++) {
    const len = bytes[pos] ?? 0;
    if (len === 0 || len > 63 || pos + 1 + len > bytes.length) break;
    offsets.push(start + pos);
    labels.push(labelToText(bytes, pos + 1, len));
    pos += 1 + len;
  }
  let key = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    key = key === '' ? (labels[i] ?? '') : `${labels[i] ?? ''}.${key}`;
    const at = offsets[i] ?? 0;
    if (at < 0x3fff && !w.names.has(key)) w.names.set(key, at);
  }
}

// ------------------------------------------------------------------------------ raw upstream messages

export interface RawRecord {
  /** 0 answer, 1 authority, 2 additional. */
  section: 0 | 1 | 2;
  start: number;
  end: number;
  type: number;
  ttlOffset: number;
  rdataOffset: number;
  rdlength: number;
}

export interface ScannedMessage {
  id: number;
  flags: number;
  rcode: number;
  tc: boolean;
  question: WireQuestion | undefined;
  /** End of the question section. */
  questionEnd: number;
  records: RawRecord[];
}

/** Walks a whole message (usually an upstream response), recording where each record is. Throws WireError. */
export function scanMessage(buf: Uint8Array): ScannedMessage {
  if (buf.length < HEADER_SIZE) throw new WireError('Short', 'shorter than a DNS header');
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const flags = view.readUInt16BE(2);
  const qdcount = view.readUInt16BE(4);
  const counts = [view.readUInt16BE(6), view.readUInt16BE(8), view.readUInt16BE(10)] as const;
  if (qdcount > 1) throw new WireError('BadRecord', `${qdcount} questions`);
  let pos = HEADER_SIZE;
  let question: WireQuestion | undefined;
  if (qdcount === 1) {
    const { name, end } = readName(buf, pos);
    if (end + 4 > buf.length) throw new WireError('Short', 'question runs past the message');
    question = { name, type: view.readUInt16BE(end), class: view.readUInt16BE(end + 2) };
    pos = end + 4;
  }
  const questionEnd = pos;
  const records: RawRecord[] = [];
  let rcode = flags & 0xf;
  for (let section = 0 as 0 | 1 | 2; section < 3; section = (section + 1) as 0 | 1 | 2) {
    for (let i = 0; i < (counts[section] ?? 0); i++) {
      const start = pos;
      const { end } = readName(buf, pos);
      if (end + 10 > buf.length) throw new WireError('Short', 'record header runs past the message');
      const type = view.readUInt16BE(end);
      const rdlength = view.readUInt16BE(end + 8);
      if (end + 10 + rdlength > buf.length) throw new WireError('Short', 'rdata runs past the message');
      if (type === RRType.OPT) rcode |= ((view.readUInt32BE(end + 4) >>> 24) & 0xff) << 4;
      records.push({ section, start, end: end + 10 + rdlength, type, ttlOffset: end + 4, rdataOffset: end + 10, rdlength });
      pos = end + 10 + rdlength;
    }
    if (section === 2) break;
  }
  return { id: view.readUInt16BE(0), flags, rcode, tc: (flags & 0x0200) !== 0, question, questionEnd, records };
}

export interface RewriteOptions {
  id: number;
  /** The client's question bytes (same name length as the message's; the client's spelling wins). */
  questionBytes?: Uint8Array;
  /** Seconds to subtract from every TTL (time spent in a cache). */
  age?: number;
  rd?: boolean;
  cd?: boolean;
  edns?: { udpPayloadSize: number; dnssecOk?: boolean };
  maxSize?: number;
}

/**
 * A raw message rebuilt for a client: its id and question spelling, aged TTLs, AA cleared, the upstream's
 * OPT record replaced by ours, and records past `maxSize` left out (TC set when an answer/authority record was).
 */
export function rewriteForClient(raw: Uint8Array, scan: ScannedMessage, options: RewriteOptions): Buffer {
  const optSize = options.edns !== undefined ? OPT_SIZE : 0;
  const limit = options.maxSize !== undefined ? options.maxSize - optSize : Infinity;
  const kept: RawRecord[] = [];
  let tc = scan.tc;
  let end = scan.questionEnd;
  for (const r of scan.records) {
    if (r.type === RRType.OPT) break; // records after an OPT could point into shifted bytes; ours goes last
    if (r.end > limit) {
      if (r.section < 2) tc = true;
      break;
    }
    kept.push(r);
    end = r.end;
  }
  const out = Buffer.allocUnsafe(end + optSize);
  out.set(raw.subarray(0, end), 0);
  if (options.questionBytes !== undefined && options.questionBytes.length === scan.questionEnd - HEADER_SIZE) out.set(options.questionBytes, HEADER_SIZE);
  const age = Math.max(0, Math.floor(options.age ?? 0));
  if (age > 0) {
    for (const r of kept) out.writeUInt32BE(Math.max(0, out.readUInt32BE(r.ttlOffset) - age), r.ttlOffset);
  }
  const counts = [0, 0, 0];
  for (const r of kept) counts[r.section] = (counts[r.section] ?? 0) + 1;
  let flags = (scan.flags & ~0x0790) | 0x8080; // QR, RA; not AA (we relay, we are not the authority); RD/CD/TC below
  if (options.rd === true) flags |= 0x0100;
  if (options.cd === true) flags |= 0x0010;
  if (tc) flags |= 0x0200;
  flags = (flags & ~0xf) | (scan.rcode & 0xf);
  out.writeUInt16BE(options.id, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(counts[0] ?? 0, 6);
  out.writeUInt16BE(counts[1] ?? 0, 8);
  out.writeUInt16BE((counts[2] ?? 0) + (options.edns !== undefined ? 1 : 0), 10);
  if (options.edns !== undefined) {
    const w = new Writer(OPT_SIZE);
    writeOpt(w, options.edns.udpPayloadSize, scan.rcode >> 4, options.edns.dnssecOk === true);
    out.set(w.result(), end);
  }
  return out;
}

/** Minimum TTL over answer and authority records (OPT excluded); for SOA records also its MINIMUM field. */
export function ttlsOf(raw: Uint8Array, scan: ScannedMessage): { minAnswerTtl: number | undefined; negativeTtl: number | undefined; answers: number } {
  const view = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  let minAnswerTtl: number | undefined;
  let negativeTtl: number | undefined;
  let answers = 0;
  for (const r of scan.records) {
    if (r.type === RRType.OPT) continue;
    const ttl = view.readUInt32BE(r.ttlOffset);
    if (r.section === 0) {
      answers++;
      minAnswerTtl = minAnswerTtl === undefined ? ttl : Math.min(minAnswerTtl, ttl);
    } else if (r.section === 1 && r.type === RRType.SOA && r.rdlength >= 20) {
      const minimum = view.readUInt32BE(r.rdataOffset + r.rdlength - 4);
      const t = Math.min(ttl, minimum);
      negativeTtl = negativeTtl === undefined ? t : Math.min(negativeTtl, t);
    }
  }
  return { minAnswerTtl, negativeTtl, answers };
}

/** Decodes the records of one section into the core's model; types the model lacks are skipped. */
export function decodeRecords(raw: Uint8Array, scan: ScannedMessage, section: 0 | 1 | 2): ResourceRecord[] {
  const view = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  const out: ResourceRecord[] = [];
  for (const r of scan.records) {
    if (r.section !== section) continue;
    const { name } = readName(raw, r.start);
    const ttl = view.readUInt32BE(r.ttlOffset);
    const at = r.rdataOffset;
    let data: RecordData | undefined;
    switch (r.type) {
      case RRType.A:
        if (r.rdlength === 4) data = { type: 'A', address: [...raw.subarray(at, at + 4)].join('.') };
        break;
      case RRType.AAAA:
        if (r.rdlength === 16) {
          const groups: string[] = [];
          for (let i = 0; i < 16; i += 2) groups.push(view.readUInt16BE(at + i).toString(16));
          data = { type: 'AAAA', address: compressV6(groups) };
        }
        break;
      case RRType.CNAME:
      case RRType.NS:
      case RRType.PTR:
        data = { type: r.type === RRType.CNAME ? 'CNAME' : r.type === RRType.NS ? 'NS' : 'PTR', target: readName(raw, at).name };
        break;
      case RRType.SRV:
        if (r.rdlength >= 7) data = { type: 'SRV', priority: view.readUInt16BE(at), weight: view.readUInt16BE(at + 2), port: view.readUInt16BE(at + 4), target: readName(raw, at + 6).name };
        break;
      case RRType.TXT: {
        const texts: string[] = [];
        let p = at;
        while (p < at + r.rdlength) {
          const len = raw[p] ?? 0;
          texts.push(Buffer.from(raw.subarray(p + 1, Math.min(p + 1 + len, at + r.rdlength))).toString('utf8'));
          p += 1 + len;
        }
        data = { type: 'TXT', texts };
        break;
      }
      case RRType.SOA: {
        const m = readName(raw, at);
        const rn = readName(raw, m.end);
        if (rn.end + 20 <= raw.length) {
          const n = rn.end;
          data = { type: 'SOA', mname: m.name, rname: rn.name, serial: view.readUInt32BE(n), refresh: view.readUInt32BE(n + 4), retry: view.readUInt32BE(n + 8), expire: view.readUInt32BE(n + 12), minimum: view.readUInt32BE(n + 16) };
        }
        break;
      }
    }
    if (data !== undefined) out.push({ name, ttl, data });
  }
  return out;
}

function compressV6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i >= 2 && j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return groups.slice(0, bestStart).join(':') + '::' + groups.slice(bestStart + bestLen).join(':');
}

const TYPE_NAMES = new Map<number, string>([
  [1, 'A'], [2, 'NS'], [5, 'CNAME'], [6, 'SOA'], [12, 'PTR'], [15, 'MX'], [16, 'TXT'], [28, 'AAAA'], [33, 'SRV'],
  [35, 'NAPTR'], [41, 'OPT'], [43, 'DS'], [46, 'RRSIG'], [48, 'DNSKEY'], [64, 'SVCB'], [65, 'HTTPS'], [251, 'IXFR'], [252, 'AXFR'], [255, 'ANY'],
]);

/** The type's mnemonic for metrics (`other` for the rest, as CoreDNS does). */
export function typeLabel(type: number): string {
  return TYPE_NAMES.get(type) ?? 'other';
}

export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export function rcodeLabel(rcode: number): string {
  if (rcode === 16) return 'BADVERS';
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}
