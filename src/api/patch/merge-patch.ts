// RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge recursively, `null` deletes a
// member, anything else (arrays included) replaces. Pure.
import { cloneJson, isJsonObject } from './json-value.ts';
import type { JsonObject } from './json-value.ts';

/** RFC 7386 MergePatch(target, patch); returns a new value, the inputs are not modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const out: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
