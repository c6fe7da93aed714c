// Column-definition helpers shared by the Table printers. Pure.
import type { TableColumnDefinition } from '../types.ts';

export function column(
  name: string,
  description: string,
  opts: { type?: TableColumnDefinition['type']; priority?: number; format?: string } = {},
): TableColumnDefinition {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

/** A wide-only column (`kubectl get -o wide`). */
export const wide = (name: string, description: string, type: TableColumnDefinition['type'] = 'string'): TableColumnDefinition =>
  column(name, description, { type, priority: 1 });

export const NAME_COLUMN = column('Name', 'The object name, unique within its namespace (or the cluster for cluster-scoped kinds).', { format: 'name' });
export const AGE_COLUMN = column('Age', 'How long ago the object was created.');
export const CONTAINERS_COLUMN = wide('Containers', 'Names of the containers in the pod template.');
export const IMAGES_COLUMN = wide('Images', 'Images of the containers in the pod template.');
