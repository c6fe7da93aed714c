// Server-side printing: objects of one resource rendered as a meta.k8s.io/v1 Table, the response kube-apiserver
// gives to `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, which is what `kubectl get` asks for.
// Columns and cells follow upstream's printers so kubectl's output is the one users know. Pure.
import type { ResourceInfo } from '../resources.ts';
import { groupVersion } from '../resources.ts';
import type { KubeObject, ListMeta, ObjectMeta, Table, TableRow } from '../types.ts';
import { printerFor } from './printers.ts';

export { humanDuration } from './duration.ts';

/** What each row's `object` carries (the `includeObject` query parameter); upstream's default is Metadata. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

export interface ToTableOptions {
  /** The instant ages are computed against. */
  now: Date;
  includeObject?: IncludeObject;
  /** The list's metadata (resourceVersion, continue, remainingItemCount); for a single object pass its resourceVersion. */
  listMeta?: ListMeta;
}

function rowObject(resource: ResourceInfo, obj: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case 'None':
      return null;
    case 'Metadata': {
      // managedFields are left out of row metadata: no table printer reads them and they dominate the size.
      const { managedFields: _managed, ...metadata } = obj.metadata;
      const partial: PartialObjectMetadata = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
      return partial;
    }
    case 'Object':
      return { ...obj, apiVersion: obj.apiVersion ?? groupVersion(resource), kind: obj.kind ?? resource.kind };
  }
}

/** `objects` of `resource` as a Table: upstream's columns (wide ones at priority 1) and one row per object. */
export function toTable(resource: ResourceInfo, objects: readonly KubeObject[], opts: ToTableOptions): Table {
  const printer = printerFor(resource.group, resource.kind);
  const include = opts.includeObject ?? 'Metadata';
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = { cells: printer.cells(obj, opts.now) };
    const conditions = printer.conditions?.(obj);
    if (conditions) row.conditions = conditions;
    row.object = rowObject(resource, obj, include);
    return row;
  });
  const metadata: ListMeta = {};
  const lm = opts.listMeta;
  if (lm?.resourceVersion) metadata.resourceVersion = lm.resourceVersion;
  if (lm?.continue) metadata.continue = lm.continue;
  if (lm?.remainingItemCount !== undefined) metadata.remainingItemCount = lm.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
