// Server-side apply and managedFields: the public surface of src/api/apply. Pure.
export { FieldSet, comparePathElements, decodeFieldsV1, difference, encodeFieldsV1, fieldElement, intersection, pathElementKey, pathOf, pathString, union } from './field-set.ts';
export type { FieldPath, PathElement } from './field-set.ts';
export { KindSchema, TypedError, compareObjects, fieldSetOf, mergeObjects, removeFields } from './typed.ts';
export type { Comparison } from './typed.ts';
export { capUpdateManagers, decodeManaged, encodeManaged, isResetManagedFields, managerKey } from './managed-fields.ts';
export type { Managed, ManagedSet, ManagerIdentity } from './managed-fields.ts';
export {
  BEFORE_FIRST_APPLY,
  LAST_APPLIED_ANNOTATION,
  conflictError,
  managerFromUserAgent,
  managerOrUserAgent,
  printManager,
  serverSideApply,
  toRfc3339Seconds,
  updateManagedFields,
} from './server-side-apply.ts';
export type { Conflict, ServerSideApplyInput, ServerSideApplyResult, UpdateManagedFieldsInput } from './server-side-apply.ts';
