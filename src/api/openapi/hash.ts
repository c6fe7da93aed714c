// A small stable content hash: 64-bit FNV-1a over the UTF-8 bytes of a string, as hex. Used to version the
// OpenAPI v3 document URLs, so clients' caches see new content as a new URL. Not cryptographic. Pure.

const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/** 64-bit FNV-1a of the UTF-8 encoding of `text`, as 16 upper-case hex digits. */
export function fnv1a64(text: string): string {
  let hash = OFFSET_BASIS;
  const step = (byte: number): void => { hash = ((hash ^ BigInt(byte)) * PRIME) & MASK; };
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) step(cp);
    else if (cp < 0x800) { step(0xc0 | (cp >> 6)); step(0x80 | (cp & 63)); }
    else if (cp < 0x10000) { step(0xe0 | (cp >> 12)); step(0x80 | ((cp >> 6) & 63)); step(0x80 | (cp & 63)); }
    else { step(0xf0 | (cp >> 18)); step(0x80 | ((cp >> 12) & 63)); step(0x80 | ((cp >> 6) & 63)); step(0x80 | (cp & 63)); }
  }
  return hash.toString(16).toUpperCase().padStart(16, '0');
}
