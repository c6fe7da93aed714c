// Parses a request path into what kube-apiserver calls RequestInfo: which resource, namespace, name and
// subresource a REST call addresses, and the verb. Pure.
import { RESOURCES, type ResourceInfo } from './resources.ts';

export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  type: 'resource';
  resource: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  verb: RequestVerb;
}

export interface NonResourceRequest {
  type: 'nonresource';
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest | { type: 'unknown-resource'; group: string; version: string; resource: string };

function verbFor(method: string, hasName: boolean, watch: boolean): RequestVerb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/**
 * `path` is the URL path without query; `watchParam` is whether `?watch=true|1` was given.
 * Understands /api/v1/..., /apis/<group>/<version>/..., and the legacy /api/v1/watch/... prefix.
 */
export function parseRequestInfo(method: string, path: string, watchParam: boolean): RequestInfo {
  const parts = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return { type: 'nonresource', path };
  }
  let watch = watchParam;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // /namespaces/<ns>/<resource>... addresses namespaced resources; /namespaces/<name>[/status|/finalize]
  // addresses the Namespace object itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const namespaceSubresource = group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
    if (!namespaceSubresource) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [plural, name, subresource] = rest;
  if (plural === undefined || rest.length > 3) return { type: 'nonresource', path };
  const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
  if (resource === undefined) return { type: 'unknown-resource', group, version, resource: plural };
  const verb = verbFor(method, name !== undefined, watch);
  if (verb === undefined) return { type: 'nonresource', path };
  return { type: 'resource', resource, namespace, name, subresource, verb };
}
