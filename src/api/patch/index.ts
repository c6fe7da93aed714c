// PATCH bodies: picks the engine by media type and turns its result back into an object. Server-side apply
// (application/apply-patch+yaml) is not a patch engine and is handled by its own module. Pure.
import { apiErrors, fieldErrors } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { applyJsonPatch, parseJsonPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { strategicMergePatch } from './strategic-merge-patch.ts';
import { isJsonObject, parsePatchBody } from './json-value.ts';

export { applyJsonPatch, parseJsonPatch, jsonPatchApplyError, JsonPatchError, MAX_JSON_PATCH_OPERATIONS, parsePointer } from './json-patch.ts';
export type { JsonPatchOperation } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { strategicMergePatch } from './strategic-merge-patch.ts';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export type PatchType = 'json' | 'merge' | 'strategic';

/** The patch engine for a Content-Type (parameters and case ignored), or undefined for any other type. */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType === JSON_PATCH) return 'json';
  if (mediaType === MERGE_PATCH) return 'merge';
  if (mediaType === STRATEGIC_MERGE_PATCH) return 'strategic';
  return undefined;
}

/** The patched document must still be an object with object metadata, as decoding into the kind demands. */
function toObject(result: unknown): KubeObject {
  const rendered = (): string => JSON.stringify(result) ?? 'null';
  if (!isJsonObject(result)) {
    throw apiErrors.invalid('', '', '', [fieldErrors.invalid('patch', rendered(), 'the patched document is not a JSON object')]);
  }
  const metadata = result.metadata ?? {};
  if (!isJsonObject(metadata)) {
    throw apiErrors.invalid('', '', '', [fieldErrors.invalid('patch', rendered(), 'metadata must be a JSON object')]);
  }
  return { ...result, metadata } as KubeObject;
}

/**
 * Applies a PATCH body of `contentType` to `original` (an object of `kind`) and returns the new object; the
 * original is not modified. 400 for a malformed body, 415 for another media type (apply-patch included:
 * the caller routes it to server-side apply), 422 when a JSON patch cannot be applied. Field validation of
 * the result is the caller's job.
 */
export function applyPatch(kind: string, contentType: string, original: KubeObject, patchBody: string): KubeObject {
  const type = patchTypeOf(contentType);
  switch (type) {
    case 'json':
      return toObject(applyJsonPatch(original, parseJsonPatch(patchBody)));
    case 'merge': {
      const patch = parsePatchBody(patchBody);
      // A `null` merge patch leaves the object as it is (upstream decodes it as an empty patch).
      return toObject(patch === null ? applyMergePatch(original, {}) : applyMergePatch(original, patch));
    }
    case 'strategic':
      return toObject(strategicMergePatch(kind, original, parsePatchBody(patchBody)));
    case undefined:
      throw apiErrors.unsupportedMediaType(contentType);
  }
}
