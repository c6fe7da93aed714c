// The server side of field validation (`fieldValidation=Strict|Warn|Ignore`): reads the directive of a
// write, finds repeated YAML keys (with the `yaml` parser, which the pure core may not import), runs the
// checks of src/api/field-validation.ts on create/update bodies, patches and apply configurations, and
// turns the outcome into upstream's errors or `Warning: 299 - "..."` headers.
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { apiErrors, type ApiError } from '../api/errors.ts';
import {
  applyUnknownFieldsError, fieldValidationDirective, goJson, goValueString, jsonDuplicateFields, jsonPatchStrictErrors,
  pruneUnknownFields, strictDecodingBadRequest, strictDecodingWarnings, strictErrorText, strictJsonErrors, strictPatchInvalid, unknownFieldTexts,
  unknownFields, unknownFieldsAddedBy, yamlDuplicatesText,
} from '../api/field-validation.ts';
import type { FieldValidationDirective, GroupVersionKind, YamlDuplicateKey } from '../api/field-validation.ts';
import type { ResourceInfo } from '../api/resources.ts';

export type { FieldValidationDirective } from '../api/field-validation.ts';

/**
 * The fieldValidation directive of a request: for create, update and patch its `fieldValidation` query
 * value (absent: Warn; an unknown value: 422); undefined for other verbs, which do not decode a body.
 */
export function requestFieldValidation(verb: string, url: URL): FieldValidationDirective | undefined {
  const value = url.searchParams.get('fieldValidation');
  if (verb === 'create') return fieldValidationDirective(value, 'CreateOptions');
  if (verb === 'update') return fieldValidationDirective(value, 'UpdateOptions');
  if (verb === 'patch') return fieldValidationDirective(value, 'PatchOptions');
  return undefined;
}

/** The kind a request body of `r` (or of its subresource) decodes into; undefined: not checked. */
export function bodyKind(r: ResourceInfo, subresource: string | undefined): GroupVersionKind | undefined {
  if (subresource === undefined || subresource === 'status' || subresource === 'finalize') return { group: r.group, version: r.version, kind: r.kind };
  if (subresource === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  if (subresource === 'binding') return { group: '', version: 'v1', kind: 'Binding' };
  if (subresource === 'eviction') return { group: 'policy', version: 'v1', kind: 'Eviction' };
  return undefined;
}

const MAX_YAML_DEPTH = 512;

/** Keys repeated within one YAML mapping of the (first) document, in document order with their lines. */
export function yamlDuplicateKeys(text: string): YamlDuplicateKey[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, version: '1.2', lineCounter });
  const out: YamlDuplicateKey[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > MAX_YAML_DEPTH) return;
    if (isSeq(node)) {
      for (const item of node.items) walk(item, depth + 1);
      return;
    }
    if (!isMap(node)) return;
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key;
      if (isScalar(key)) {
        const v = key.value;
        const keyValue: YamlDuplicateKey['key'] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : v === null ? null : String(v);
        const id = `${typeof keyValue}:${String(keyValue)}`;
        if (seen.has(id)) out.push({ line: key.range ? lineCounter.linePos(key.range[0]).line : 0, key: keyValue });
        seen.add(id);
      }
      walk(pair.value, depth + 1);
    }
  };
  walk(doc.contents, 0);
  return out;
}

/** Applies a directive to strict-decoding texts: Strict throws `strict()`, Warn records warnings. */
function enforce(directive: FieldValidationDirective, texts: readonly string[], warnings: string[], strict: () => ApiError): void {
  if (texts.length === 0 || directive === 'Ignore') return;
  if (directive === 'Strict') throw strict();
  warnings.push(...strictDecodingWarnings(texts));
}

export interface BodyCheck {
  gvk: GroupVersionKind;
  /** The raw request body and whether it was sent as YAML. */
  text: string;
  yaml: boolean;
  /** The decoded body. */
  body: unknown;
  directive: FieldValidationDirective;
  /** Receives the warning texts under Warn. */
  warnings: string[];
}

/**
 * Strict decoding of a create or update body. JSON: unknown and repeated fields in document order.
 * YAML: repeated keys (go-yaml's error), then unknown fields in key order, as upstream decodes the JSON
 * it converts the YAML to. Strict: 400 `... cannot be handled as a ...: strict decoding error: ...`.
 * Returns the body to write: without its unknown fields, as upstream's typed decoding leaves it.
 */
export function checkBodyFields<T>(c: BodyCheck & { body: T }): T {
  const b = c.body as { kind?: unknown } | null;
  if (typeof b?.kind === 'string' && b.kind !== '' && b.kind !== c.gvk.kind) return c.body; // the identity check answers
  if (c.directive === 'Ignore') return pruneUnknownFields(c.gvk, c.body);
  const texts: string[] = [];
  if (c.yaml) {
    const duplicates = yamlDuplicatesText(yamlDuplicateKeys(c.text));
    if (duplicates !== undefined) texts.push(duplicates);
    texts.push(...unknownFieldTexts(unknownFields(c.gvk, c.body)));
  } else {
    texts.push(...strictJsonErrors(c.gvk, c.text).map(strictErrorText));
  }
  enforce(c.directive, texts, c.warnings, () => strictDecodingBadRequest(c.gvk, c.body, texts));
  return pruneUnknownFields(c.gvk, c.body);
}

export interface PatchCheck {
  gvk: GroupVersionKind;
  /** application/json-patch+json, application/merge-patch+json or application/strategic-merge-patch+json. */
  contentType: string;
  patchBody: string;
  live: unknown;
  patched: unknown;
  directive: FieldValidationDirective;
  warnings: string[];
}

/**
 * Strict decoding of a json, merge or strategic merge patch: the patch body's own violations (repeated
 * keys; for json patch also unknown operation fields), then the fields of the patched object the schema
 * lacks (those the live object already had are not the patch's). Strict: 422 on the field `patch`.
 * Returns the patched object to write, without unknown fields.
 */
export function checkPatchFields<T>(c: PatchCheck & { patched: T }): T {
  if (c.directive === 'Ignore') return pruneUnknownFields(c.gvk, c.patched);
  const isJsonPatch = c.contentType === 'application/json-patch+json';
  const texts = [
    ...(isJsonPatch ? jsonPatchStrictErrors(c.patchBody) : jsonDuplicateFields(c.patchBody).map(strictErrorText)),
    ...unknownFieldTexts(unknownFieldsAddedBy(c.gvk, c.patched, c.live)),
  ];
  enforce(c.directive, texts, c.warnings, () => {
    if (c.contentType === 'application/strategic-merge-patch+json') {
      let patch: unknown;
      try {
        patch = JSON.parse(c.patchBody);
      } catch {
        patch = c.patchBody;
      }
      return strictPatchInvalid(goValueString(patch), texts);
    }
    return strictPatchInvalid(goJson(c.patched), texts);
  });
  return pruneUnknownFields(c.gvk, c.patched);
}

/**
 * Server-side apply: a configuration with fields the schema does not declare fails its typed
 * conversion whatever the directive (500, `failed to create typed patch object (...): .spec.x: field not
 * declared in schema`). Call before merging.
 */
export function checkApplyConfigFields(gvk: GroupVersionKind, apiVersion: string, applied: { metadata?: { namespace?: string; name?: string } }): void {
  const err = applyUnknownFieldsError(gvk, apiVersion, applied, applied.metadata?.namespace ?? '', applied.metadata?.name ?? '');
  if (err !== undefined) throw err;
}

/**
 * Server-side apply: repeated keys of the configuration, which upstream reads as YAML (JSON included).
 * Strict: 400 `error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors: ...`;
 * Warn: one warning per repeated key. Call after a successful merge, as upstream checks after applying.
 */
export function checkApplyDuplicates(patchBody: string, directive: FieldValidationDirective, warnings: string[]): void {
  if (directive === 'Ignore') return;
  const duplicates = yamlDuplicatesText(yamlDuplicateKeys(patchBody));
  if (duplicates === undefined) return;
  const text = `error converting YAML to JSON: ${duplicates}`;
  enforce(directive, [text], warnings, () => apiErrors.badRequest(`error strict decoding YAML: ${text}`));
}

/**
 * `Warning` header values for warning texts, as upstream's recorder writes them: each text once, as
 * `299 - "<text>"` with `"` and `\` escaped. Line breaks become spaces (as Go's header writer does) and
 * the UTF-8 bytes are passed through unchanged.
 */
export function warningHeaderValues(warnings: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const w of warnings) {
    if (w === '' || seen.has(w)) continue;
    seen.add(w);
    const quoted = `299 - "${w.replace(/[\\"]/g, (ch) => `\\${ch}`).replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ')}"`;
    out.push(Buffer.from(quoted, 'utf8').toString('latin1'));
  }
  return out;
}
