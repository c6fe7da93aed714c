// The REST operations of the served resources, described once (method, id, action, GVK, parameters, body,
// responses) and rendered by openapi.ts as v3 and v2 paths. Derived from the resource registry. Pure.
import { RESOURCES, groupVersion } from '../resources.ts';
import type { ResourceInfo } from '../resources.ts';
import { META, VERSION_INFO, AUTOSCALING, POLICY, CORE } from './dsl.ts';
import type { GroupVersionKind } from './dsl.ts';
import { definitionName } from './definitions.ts';

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete' | 'head' | 'options';

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly description: string;
  readonly type: 'string' | 'integer' | 'boolean';
  readonly required?: boolean;
}

export interface Body {
  /** Definition name of the body schema. */
  readonly definition: string;
  readonly contentTypes: readonly string[];
  readonly required: boolean;
}

export interface Response {
  readonly code: string;
  readonly description: string;
  /** Definition name of the response body; absent with `text` for plain-text bodies. */
  readonly definition?: string;
  readonly text?: true;
}

export interface Operation {
  readonly method: Method;
  readonly operationId: string;
  readonly description: string;
  readonly tag: string;
  readonly action?: string;
  readonly gvk?: GroupVersionKind;
  readonly parameters: readonly Parameter[];
  readonly body?: Body;
  readonly produces: readonly string[];
  readonly responses: readonly Response[];
}

export interface PathItem {
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly operations: readonly Operation[];
}

// ------------------------------------------------------------------------------------ parameters

const q = (name: string, type: Parameter['type'], description: string): Parameter => ({ name, in: 'query', type, description });

const PRETTY = q('pretty', 'string', "When 'true', the response JSON is indented for reading.");
const DRY_RUN = q('dryRun', 'string', 'When All, the request is fully checked and defaulted but nothing is stored.');
const FIELD_MANAGER = q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields; required for apply patches.');
const FIELD_VALIDATION = q('fieldValidation', 'string',
  'What to do with unknown or duplicated fields in the body: Ignore drops them, Warn accepts the request with a warning, Strict rejects it.');
const FORCE = q('force', 'boolean', 'For apply patches: take over fields owned by other managers instead of failing with a conflict.');

const LIST_PARAMS: readonly Parameter[] = [
  q('allowWatchBookmarks', 'boolean', 'For watches: the server may send BOOKMARK events carrying only a resource version.'),
  q('continue', 'string', 'Token from the previous page of a paginated list.'),
  q('fieldSelector', 'string', 'Only return objects whose fields match, such as metadata.name=x or spec.nodeName=n.'),
  q('labelSelector', 'string', 'Only return objects whose labels match, such as app=web,tier!=db.'),
  q('limit', 'integer', 'Most items to return in one page; the response carries a continue token when more remain.'),
  q('resourceVersion', 'string', 'Which version of the data to serve: empty for the latest, 0 for any, or a specific version.'),
  q('resourceVersionMatch', 'string', 'How resourceVersion is compared: Exact or NotOlderThan.'),
  q('sendInitialEvents', 'boolean', 'For watches: start with synthetic ADDED events for the current objects, then a bookmark.'),
  q('timeoutSeconds', 'integer', 'End the list or watch after this many seconds.'),
  q('watch', 'boolean', 'Stream changes as watch events instead of returning a list.'),
];

const DELETE_PARAMS: readonly Parameter[] = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'Seconds before the object is removed; zero deletes at once.'),
  q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Delete even when the stored object cannot be read; unsafe.'),
  q('orphanDependents', 'boolean', 'Deprecated: when true, dependents are left behind; use propagationPolicy.'),
  q('propagationPolicy', 'string', 'What happens to dependents: Orphan, Background or Foreground.'),
];

const WRITE_PARAMS: readonly Parameter[] = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_PARAMS: readonly Parameter[] = [...WRITE_PARAMS, FORCE];

const nameParam = (kind: string): Parameter => ({ name: 'name', in: 'path', type: 'string', required: true, description: `Name of the ${kind}.` });
const NAMESPACE_PARAM: Parameter = { name: 'namespace', in: 'path', type: 'string', required: true, description: 'Namespace the objects live in.' };
const PATH_PARAM: Parameter = { name: 'path', in: 'path', type: 'string', required: true, description: 'Path to forward to the target.' };

const LOG_PARAMS: readonly Parameter[] = [
  q('container', 'string', 'Container to read the log of; may be left out when the pod has one container.'),
  q('follow', 'boolean', 'Keep the stream open and send new lines as they are written.'),
  q('insecureSkipTLSVerifyBackend', 'boolean', 'Do not verify the certificate of the node serving the log.'),
  q('limitBytes', 'integer', 'Stop after this many bytes.'),
  q('previous', 'boolean', 'Read the log of the previous, terminated run of the container.'),
  q('sinceSeconds', 'integer', 'Only lines written in the last this-many seconds.'),
  q('tailLines', 'integer', 'Only this many lines from the end.'),
  q('timestamps', 'boolean', 'Prefix each line with its timestamp.'),
];
const STREAM_PARAMS: readonly Parameter[] = [
  q('container', 'string', 'Container to connect to.'),
  q('stderr', 'boolean', 'Stream the standard error of the process.'),
  q('stdin', 'boolean', 'Send standard input to the process.'),
  q('stdout', 'boolean', 'Stream the standard output of the process.'),
  q('tty', 'boolean', 'Allocate a terminal.'),
];
const EXEC_PARAMS: readonly Parameter[] = [q('command', 'string', 'The command to run; repeat the parameter for each argument.'), ...STREAM_PARAMS];
const PORTFORWARD_PARAMS: readonly Parameter[] = [q('ports', 'integer', 'Ports of the pod to forward.')];

// --------------------------------------------------------------------------------------- content

const JSON_TYPES = ['application/json', 'application/yaml'] as const;
const WATCH_TYPES = ['application/json', 'application/yaml', 'application/json;stream=watch'] as const;
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;
const ANY = ['*/*'] as const;

const UNAUTHORIZED: Response = { code: '401', description: 'Unauthorized' };
const ok = (definition: string): Response => ({ code: '200', description: 'OK', definition });
const created = (definition: string): Response => ({ code: '201', description: 'Created', definition });
const accepted = (definition: string): Response => ({ code: '202', description: 'Accepted', definition });
const STATUS = `${META}Status`;
const DELETE_OPTIONS = `${META}DeleteOptions`;
const PATCH = `${META}Patch`;
const WATCH_EVENT = `${META}WatchEvent`;

// ------------------------------------------------------------------------------------------ names

function pascal(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** `CoreV1`, `AppsV1`, `NetworkingV1` (upstream's operation id infix). */
function gvInfix(group: string, version: string): string {
  const g = group === '' ? 'core' : group.split('.')[0] ?? group;
  return `${pascal(g)}${pascal(version)}`;
}

/** `core_v1`, `apps_v1`, `networking_v1`. */
export function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : group.split('.')[0] ?? group;
  return `${g}_${version}`;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function apiPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

// ------------------------------------------------------------------------------------- resources

function resourcePaths(r: ResourceInfo): PathItem[] {
  const prefix = apiPrefix(r.group, r.version);
  const gv = gvInfix(r.group, r.version);
  const tag = tagOf(r.group, r.version);
  const kindGvk: GroupVersionKind = { group: r.group, version: r.version, kind: r.kind };
  const def = definitionName(r.group, r.version, r.kind);
  const listDef = definitionName(r.group, r.version, r.listKind);
  const ns = r.namespaced ? 'Namespaced' : '';
  const scope = r.namespaced ? ' in a namespace' : '';
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const item = `${collection}/{name}`;
  const scopeParams: Parameter[] = r.namespaced ? [NAMESPACE_PARAM] : [];
  const has = (v: string): boolean => (r.verbs as readonly string[]).includes(v);
  const op = (o: Omit<Operation, 'tag' | 'gvk'> & { gvk?: GroupVersionKind }): Operation => ({ tag, gvk: kindGvk, ...o });
  const out: PathItem[] = [];

  const collectionOps: Operation[] = [];
  if (has('list')) collectionOps.push(op({
    method: 'get', operationId: `list${gv}${ns}${r.kind}`, description: `List or watch ${r.plural}${scope}.`, action: 'list',
    parameters: LIST_PARAMS, produces: WATCH_TYPES, responses: [ok(listDef), UNAUTHORIZED],
  }));
  if (has('create')) collectionOps.push(op({
    method: 'post', operationId: `create${gv}${ns}${r.kind}`, description: `Create a ${r.kind}.`, action: 'post',
    parameters: WRITE_PARAMS, body: { definition: def, contentTypes: ANY, required: true }, produces: JSON_TYPES,
    responses: [ok(def), created(def), accepted(def), UNAUTHORIZED],
  }));
  if (has('deletecollection')) collectionOps.push(op({
    method: 'delete', operationId: `deleteCollection${gv}${ns}${r.kind}`, description: `Delete a collection of ${r.plural}.`,
    action: 'deletecollection', parameters: [...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'), ...DELETE_PARAMS],
    body: { definition: DELETE_OPTIONS, contentTypes: ANY, required: false }, produces: JSON_TYPES, responses: [ok(STATUS), UNAUTHORIZED],
  }));
  if (collectionOps.length > 0) out.push({ path: collection, parameters: [...scopeParams, PRETTY], operations: collectionOps });

  const itemOps: Operation[] = [];
  if (has('get')) itemOps.push(op({
    method: 'get', operationId: `read${gv}${ns}${r.kind}`, description: `Read the given ${r.kind}.`, action: 'get',
    parameters: [], produces: JSON_TYPES, responses: [ok(def), UNAUTHORIZED],
  }));
  if (has('update')) itemOps.push(op({
    method: 'put', operationId: `replace${gv}${ns}${r.kind}`, description: `Replace the given ${r.kind}.`, action: 'put',
    parameters: WRITE_PARAMS, body: { definition: def, contentTypes: ANY, required: true }, produces: JSON_TYPES,
    responses: [ok(def), created(def), UNAUTHORIZED],
  }));
  if (has('patch')) itemOps.push(op({
    method: 'patch', operationId: `patch${gv}${ns}${r.kind}`, description: `Partially update the given ${r.kind}.`, action: 'patch',
    parameters: PATCH_PARAMS, body: { definition: PATCH, contentTypes: PATCH_TYPES, required: true }, produces: JSON_TYPES,
    responses: [ok(def), created(def), UNAUTHORIZED],
  }));
  if (has('delete')) itemOps.push(op({
    method: 'delete', operationId: `delete${gv}${ns}${r.kind}`, description: `Delete the given ${r.kind}.`, action: 'delete',
    parameters: DELETE_PARAMS, body: { definition: DELETE_OPTIONS, contentTypes: ANY, required: false }, produces: JSON_TYPES,
    responses: [ok(def), accepted(def), UNAUTHORIZED],
  }));
  if (itemOps.length > 0) out.push({ path: item, parameters: [nameParam(r.kind), ...scopeParams, PRETTY], operations: itemOps });

  if (r.namespaced && has('list')) out.push({
    path: `${prefix}/${r.plural}`, parameters: [PRETTY], operations: [op({
      method: 'get', operationId: `list${gv}${r.kind}ForAllNamespaces`, description: `List or watch ${r.plural} in all namespaces.`,
      action: 'list', parameters: LIST_PARAMS, produces: WATCH_TYPES, responses: [ok(listDef), UNAUTHORIZED],
    })],
  });

  if (has('watch')) {
    const watchBase = r.namespaced ? `${prefix}/watch/namespaces/{namespace}/${r.plural}` : `${prefix}/watch/${r.plural}`;
    const watchOp = (operationId: string, action: string, description: string): Operation => op({
      method: 'get', operationId, description, action, parameters: LIST_PARAMS, produces: WATCH_TYPES, responses: [ok(WATCH_EVENT), UNAUTHORIZED],
    });
    out.push({ path: watchBase, parameters: [...scopeParams, PRETTY],
      operations: [watchOp(`watch${gv}${ns}${r.kind}List`, 'watchlist', `Deprecated: watch ${r.plural}; use the watch parameter of list.`)] });
    out.push({ path: `${watchBase}/{name}`, parameters: [nameParam(r.kind), ...scopeParams, PRETTY],
      operations: [watchOp(`watch${gv}${ns}${r.kind}`, 'watch', `Deprecated: watch one ${r.kind}; use list with a field selector.`)] });
    if (r.namespaced) out.push({ path: `${prefix}/watch/${r.plural}`, parameters: [PRETTY],
      operations: [watchOp(`watch${gv}${r.kind}ListForAllNamespaces`, 'watchlist', `Deprecated: watch ${r.plural} in all namespaces.`)] });
  }

  for (const sub of r.subresources) out.push(...subresourcePaths(r, sub, item, [nameParam(r.kind), ...scopeParams], { gv, ns, tag, kindGvk, def }));
  return out;
}

interface SubContext { gv: string; ns: string; tag: string; kindGvk: GroupVersionKind; def: string }

function subresourcePaths(r: ResourceInfo, sub: ResourceInfo['subresources'][number], item: string, pathParams: Parameter[], x: SubContext): PathItem[] {
  const op = (o: Omit<Operation, 'tag'>): Operation => ({ tag: x.tag, ...o });
  const base = `${x.gv}${x.ns}${r.kind}`;
  const readWrite = (suffix: string, gvk: GroupVersionKind, def: string, what: string): PathItem => ({
    path: `${item}/${sub}`, parameters: [...pathParams, PRETTY], operations: [
      op({ method: 'get', operationId: `read${base}${suffix}`, description: `Read the ${what} of the given ${r.kind}.`, action: 'get', gvk,
        parameters: [], produces: JSON_TYPES, responses: [ok(def), UNAUTHORIZED] }),
      op({ method: 'put', operationId: `replace${base}${suffix}`, description: `Replace the ${what} of the given ${r.kind}.`, action: 'put', gvk,
        parameters: WRITE_PARAMS, body: { definition: def, contentTypes: ANY, required: true }, produces: JSON_TYPES,
        responses: [ok(def), created(def), UNAUTHORIZED] }),
      op({ method: 'patch', operationId: `patch${base}${suffix}`, description: `Partially update the ${what} of the given ${r.kind}.`, action: 'patch', gvk,
        parameters: PATCH_PARAMS, body: { definition: PATCH, contentTypes: PATCH_TYPES, required: true }, produces: JSON_TYPES,
        responses: [ok(def), created(def), UNAUTHORIZED] }),
    ],
  });
  const connect = (path: string, suffix: string, optionsKind: string, methods: readonly Method[], params: readonly Parameter[], extraPath: Parameter[] = []): PathItem => ({
    path, parameters: [...pathParams, ...extraPath], operations: methods.map((method) => op({
      method, operationId: `connect${x.gv}${pascal(method)}${x.ns}${r.kind}${suffix}`, description: `Connect ${method.toUpperCase()} requests to ${sub} of the given ${r.kind}.`,
      action: 'connect', gvk: { group: '', version: 'v1', kind: optionsKind }, parameters: params, produces: ANY,
      responses: [{ code: '200', description: 'OK', text: true }, UNAUTHORIZED],
    })),
  });
  switch (sub) {
    case 'status': return [readWrite('Status', x.kindGvk, x.def, 'status')];
    case 'scale': return [readWrite('Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, `${AUTOSCALING}Scale`, 'scale')];
    case 'binding': return [{ path: `${item}/binding`, parameters: [...pathParams, PRETTY], operations: [op({
      method: 'post', operationId: `create${base}Binding`, description: `Bind the given ${r.kind} to a node.`, action: 'post',
      gvk: { group: '', version: 'v1', kind: 'Binding' }, parameters: WRITE_PARAMS,
      body: { definition: `${CORE}Binding`, contentTypes: ANY, required: true }, produces: JSON_TYPES,
      responses: [ok(`${CORE}Binding`), created(`${CORE}Binding`), accepted(`${CORE}Binding`), UNAUTHORIZED] })] }];
    case 'eviction': return [{ path: `${item}/eviction`, parameters: [...pathParams, PRETTY], operations: [op({
      method: 'post', operationId: `create${base}Eviction`, description: `Evict the given ${r.kind}, respecting disruption budgets.`, action: 'post',
      gvk: { group: 'policy', version: 'v1', kind: 'Eviction' }, parameters: WRITE_PARAMS,
      body: { definition: `${POLICY}Eviction`, contentTypes: ANY, required: true }, produces: JSON_TYPES,
      responses: [ok(`${POLICY}Eviction`), created(`${POLICY}Eviction`), accepted(`${POLICY}Eviction`), UNAUTHORIZED] })] }];
    case 'log': return [{ path: `${item}/log`, parameters: [...pathParams, PRETTY], operations: [op({
      method: 'get', operationId: `read${base}Log`, description: `Read the log of a container of the given ${r.kind}.`, action: 'get',
      gvk: x.kindGvk, parameters: LOG_PARAMS, produces: ['text/plain', 'application/json', 'application/yaml'],
      responses: [{ code: '200', description: 'OK', text: true }, UNAUTHORIZED] })] }];
    case 'exec': return [connect(`${item}/exec`, 'Exec', `${r.kind}ExecOptions`, ['get', 'post'], EXEC_PARAMS)];
    case 'attach': return [connect(`${item}/attach`, 'Attach', `${r.kind}AttachOptions`, ['get', 'post'], STREAM_PARAMS)];
    case 'portforward': return [connect(`${item}/portforward`, 'Portforward', `${r.kind}PortForwardOptions`, ['get', 'post'], PORTFORWARD_PARAMS)];
    case 'proxy': {
      const methods: readonly Method[] = ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'];
      return [
        connect(`${item}/proxy`, 'Proxy', `${r.kind}ProxyOptions`, methods, [q('path', 'string', 'Path to forward to the target.')]),
        connect(`${item}/proxy/{path}`, 'ProxyWithPath', `${r.kind}ProxyOptions`, methods, [], [PATH_PARAM]),
      ];
    }
  }
}

// ------------------------------------------------------------------------------------- documents

/** The paths of one served group version: its discovery document and every resource's operations. */
export function groupVersionPaths(group: string, version: string): PathItem[] {
  const prefix = apiPrefix(group, version);
  const tag = tagOf(group, version);
  const out: PathItem[] = [{
    path: `${prefix}/`, parameters: [], operations: [{
      method: 'get', operationId: `get${gvInfix(group, version)}APIResources`, description: `List the resources served in ${groupVersion({ group, version })}.`,
      tag, parameters: [], produces: JSON_TYPES, responses: [ok(`${META}APIResourceList`), UNAUTHORIZED],
    }],
  }];
  for (const r of RESOURCES) if (r.group === group && r.version === version) out.push(...resourcePaths(r));
  return out;
}

const discoveryOp = (path: string, operationId: string, description: string, tag: string, definition: string): PathItem => ({
  path, parameters: [], operations: [{ method: 'get', operationId, description, tag, parameters: [], produces: JSON_TYPES, responses: [ok(definition), UNAUTHORIZED] }],
});

export const coreVersionsPaths = (): PathItem[] =>
  [discoveryOp('/api/', 'getCoreAPIVersions', 'List the versions of the core group.', 'core', `${META}APIVersions`)];
export const groupListPaths = (): PathItem[] =>
  [discoveryOp('/apis/', 'getAPIVersions', 'List the API groups served.', 'apis', `${META}APIGroupList`)];
export const groupPaths = (group: string): PathItem[] => {
  const short = group.split('.')[0] ?? group;
  return [discoveryOp(`/apis/${group}/`, `get${pascal(short)}APIGroup`, `Describe the ${group} group.`, short, `${META}APIGroup`)];
};
export const versionPaths = (): PathItem[] =>
  [discoveryOp('/version/', 'getCodeVersion', 'Report the version of the server.', 'version', VERSION_INFO)];
