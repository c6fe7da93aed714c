// The pod-template-hash: FNV-1a (32-bit) over a canonical JSON rendering of the pod template, with the
// collision count appended as 4 little-endian bytes when set, rendered like upstream's
// rand.SafeEncodeString (each decimal digit of the hash mapped into a vowel-free alphabet, so that
// hashes never spell words). Upstream hashes a Go-specific dump of the struct, so the values differ
// from a real cluster's, but they are stable and have the same shape (e.g. "7d9f8c5b6").
import { canonicalJson } from './actions.ts';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function fnv1a32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function safeEncodeString(text: string): string {
  let out = '';
  for (const ch of text) out += SAFE_ALPHABET[(ch.codePointAt(0) ?? 0) % SAFE_ALPHABET.length];
  return out;
}

export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  let bytes = new TextEncoder().encode(canonicalJson(template));
  if (collisionCount !== undefined && collisionCount !== 0) {
    const extra = new Uint8Array(bytes.length + 4);
    extra.set(bytes);
    new DataView(extra.buffer).setUint32(bytes.length, collisionCount >>> 0, true);
    bytes = extra;
  }
  return safeEncodeString(String(fnv1a32(bytes)));
}
