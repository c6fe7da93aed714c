// Schemas of meta.k8s.io/v1 and the apimachinery scalars (Time, Quantity, IntOrString, ...). Pure.
import {
  META, TIME, MICRO_TIME, INT_OR_STRING, QUANTITY, RAW_EXTENSION, VERSION_INFO, S,
  obj, scalar, typed, gvk, str, i32, i64, bool, ref, time, arr, strs, strMap, req, oneOf,
} from './dsl.ts';
import type { Definitions, GroupVersionKind } from './dsl.ts';

/** Options kinds that every served group version also accepts (upstream lists one GVK per group version). */
function everyGroupVersion(kindName: string, groupVersions: readonly { group: string; version: string }[]): GroupVersionKind[] {
  return groupVersions.map((g) => gvk(g.group, g.version, kindName));
}

export function metaDefinitions(groupVersions: readonly { group: string; version: string }[]): Definitions {
  return {
    [TIME]: scalar('A point in time, written as an RFC 3339 timestamp with second precision.', { type: 'string', format: 'date-time' }),
    [MICRO_TIME]: scalar('A point in time, written as an RFC 3339 timestamp with microsecond precision.', { type: 'string', format: 'date-time' }),
    [INT_OR_STRING]: scalar('Either a whole number or a string, such as a port number or a port name, or a count or a percentage.',
      { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      { type: 'string', format: 'int-or-string' }),
    [QUANTITY]: scalar('An amount with an optional unit suffix, such as 100m CPU or 64Mi of memory; plain numbers are accepted.',
      { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      { type: 'string' }),
    [RAW_EXTENSION]: scalar('An embedded object of any kind, kept as the JSON it was given.', { type: 'object' }),
    [`${META}FieldsV1`]: scalar('A set of field paths encoded as a JSON tree of f:, k:, v: and i: keys.', { type: 'object' }),
    [`${META}Patch`]: scalar('The body of a PATCH request; its format is given by the request Content-Type.', { type: 'object' }),

    [`${META}ObjectMeta`]: obj('Metadata every persisted object carries: identity, labels, annotations, ownership and bookkeeping.', {
      name: str('Name of the object, unique within its namespace (or cluster-wide for cluster-scoped kinds); cannot be changed.'),
      generateName: str('Prefix from which the server makes a unique name when name is empty.'),
      namespace: str('The namespace the object lives in; empty for cluster-scoped kinds.'),
      uid: str('Unique identifier the server assigns at creation; never reused.'),
      resourceVersion: str('Opaque version of this object, changed on every write; used for optimistic concurrency and watches.'),
      generation: i64('Counter of changes to the desired state, set by the server.'),
      creationTimestamp: time('When the server created the object; read-only.'),
      deletionTimestamp: time('When the object will be removed once its finalizers are done; set by a graceful delete.'),
      deletionGracePeriodSeconds: i64('Seconds allowed for graceful termination before removal; set together with deletionTimestamp.'),
      labels: strMap('Key/value pairs used to organise and select objects.'),
      annotations: strMap('Arbitrary non-identifying key/value data kept with the object for tools and people.'),
      ownerReferences: arr(S.ref(`${META}OwnerReference`), 'Objects this one depends on; it is garbage-collected when all owners are gone.'),
      finalizers: strs('Names of pending cleanup steps that must be cleared before the object is removed.'),
      managedFields: arr(S.ref(`${META}ManagedFieldsEntry`), 'Which manager owns which fields, as tracked for server-side apply.'),
    }),
    [`${META}ListMeta`]: obj('Metadata of a list response.', {
      resourceVersion: str('Version of the collection at the time of the list; a watch can start from it.'),
      continue: str('Token to pass as the continue parameter to fetch the next page; empty on the last page.'),
      remainingItemCount: i64('Estimated number of items after this page, when the server can tell.'),
      selfLink: str('Deprecated and not set.'),
    }),
    [`${META}OwnerReference`]: obj('Points at an owner of this object, in the same namespace.', {
      apiVersion: req(str('API version of the owner.')),
      kind: req(str('Kind of the owner.')),
      name: req(str('Name of the owner.')),
      uid: req(str('UID of the owner.')),
      controller: bool('Whether this owner is the managing controller; at most one owner may say so.'),
      blockOwnerDeletion: bool('Whether a foreground deletion of the owner waits for this object to go first.'),
    }),
    [`${META}ManagedFieldsEntry`]: obj('One manager and the set of fields it owns.', {
      manager: str('Name of the client that manages these fields.'),
      operation: str('Apply or Update: how the fields were last written.'),
      apiVersion: str('The version the field set is expressed in.'),
      time: time('When the manager last changed these fields.'),
      fieldsType: str('Format of the field set; always FieldsV1.'),
      fieldsV1: ref(`${META}FieldsV1`, 'The owned fields.'),
      subresource: str('The subresource the fields were written through, if any.'),
    }),
    [`${META}Status`]: typed('The result of an operation that returns no object, or of one that failed.', {
      metadata: ref(`${META}ListMeta`, 'Standard list metadata (usually empty).'),
      status: str('Success or Failure.'),
      message: str('Human-readable description of the outcome.'),
      reason: str('Machine-readable cause of a failure, such as NotFound or Conflict.'),
      details: ref(`${META}StatusDetails`, 'More data about the failure, depending on the reason.'),
      code: i32('HTTP status code of this result.'),
    }, [gvk('', 'v1', 'Status')]),
    [`${META}StatusDetails`]: obj('Extra data in a failure Status.', {
      name: str('Name of the object the failure is about.'),
      group: str('API group of that object.'),
      kind: str('Kind of that object.'),
      uid: str('UID of that object.'),
      causes: arr(S.ref(`${META}StatusCause`), 'Individual problems, for example one per invalid field.'),
      retryAfterSeconds: i32('Seconds the client should wait before retrying.'),
    }),
    [`${META}StatusCause`]: obj('One reason an operation failed.', {
      reason: str('Machine-readable kind of the problem, such as FieldValueInvalid.'),
      message: str('Human-readable explanation.'),
      field: str('Path of the offending field, such as spec.ports[0].port.'),
    }),
    [`${META}LabelSelector`]: obj('Selects objects by labels: every matchLabels entry and every expression must hold. Empty matches everything.', {
      matchLabels: strMap('Labels that must be present with exactly these values.'),
      matchExpressions: arr(S.ref(`${META}LabelSelectorRequirement`), 'Set-based requirements on labels.'),
    }),
    [`${META}LabelSelectorRequirement`]: obj('A requirement on one label key.', {
      key: req(str('The label key the requirement applies to.')),
      operator: req(oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], 'How the key relates to the values.')),
      values: strs('Values for In and NotIn; must be empty for Exists and DoesNotExist.'),
    }),
    [`${META}Condition`]: obj('One aspect of the current state of an object.', {
      type: req(str('What the condition is about, in CamelCase.')),
      status: req(oneOf(['True', 'False', 'Unknown'], 'Whether the condition holds.')),
      observedGeneration: i64('The metadata.generation the condition was computed from.'),
      lastTransitionTime: req(time('When status last changed.')),
      reason: req(str('Machine-readable CamelCase cause of the last transition.')),
      message: req(str('Human-readable detail of the last transition.')),
    }),
    [`${META}Preconditions`]: obj('Conditions that must hold for a delete to go ahead.', {
      uid: str('The object must have this UID.'),
      resourceVersion: str('The object must be at this resource version.'),
    }),
    [`${META}DeleteOptions`]: typed('Options of a delete request.', {
      gracePeriodSeconds: i64('Seconds to wait before removing the object; zero means immediately.'),
      preconditions: ref(`${META}Preconditions`, 'Checks that must pass before deleting.'),
      orphanDependents: bool('Deprecated: whether dependents are left behind; use propagationPolicy.'),
      propagationPolicy: oneOf(['Orphan', 'Background', 'Foreground'], 'Whether and how dependents are garbage-collected.'),
      dryRun: strs('When set to All, the request is checked but nothing is stored.'),
      ignoreStoreReadErrorWithClusterBreakingPotential: bool('Delete even if the stored object cannot be read; unsafe.'),
    }, everyGroupVersion('DeleteOptions', groupVersions)),
    [`${META}WatchEvent`]: obj('One change seen by a watch.', {
      type: req(str('ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.')),
      object: req(ref(RAW_EXTENSION, 'The object after the change; a Status for ERROR events.')),
    }, everyGroupVersion('WatchEvent', groupVersions)),

    [`${META}APIResource`]: obj('One resource served in a group version.', {
      name: req(str('Plural resource name, or resource/subresource.')),
      singularName: req(str('Singular name of the resource.')),
      namespaced: req(bool('Whether objects of this resource live in namespaces.')),
      group: str('Group of the resource when it differs from the enclosing list.'),
      version: str('Version of the resource when it differs from the enclosing list.'),
      kind: req(str('Kind of the objects of this resource.')),
      verbs: req(strs('Verbs the resource supports.')),
      shortNames: strs('Abbreviations clients accept for the resource.'),
      categories: strs('Groupings the resource belongs to, such as all.'),
      storageVersionHash: str('Hash of the version the objects are stored in.'),
    }),
    [`${META}APIResourceList`]: typed('The resources served in one group version.', {
      groupVersion: req(str('The group version described.')),
      resources: req(arr(S.ref(`${META}APIResource`), 'The resources.')),
    }, [gvk('', 'v1', 'APIResourceList')]),
    [`${META}ServerAddressByClientCIDR`]: obj('The server address to use for clients in a network range.', {
      clientCIDR: req(str('The client network range.')),
      serverAddress: req(str('The address, host:port, clients in that range should use.')),
    }),
    [`${META}APIVersions`]: typed('The versions of the core API group.', {
      versions: req(strs('The versions served.')),
      serverAddressByClientCIDRs: req(arr(S.ref(`${META}ServerAddressByClientCIDR`), 'Addresses to reach the server from given networks.')),
    }, [gvk('', 'v1', 'APIVersions')]),
    [`${META}GroupVersionForDiscovery`]: obj('One version of an API group.', {
      groupVersion: req(str('The version as group/version.')),
      version: req(str('The version alone.')),
    }),
    [`${META}APIGroup`]: typed('An API group and its versions.', {
      name: req(str('Name of the group.')),
      versions: req(arr(S.ref(`${META}GroupVersionForDiscovery`), 'Versions served in this group.')),
      preferredVersion: ref(`${META}GroupVersionForDiscovery`, 'The version clients should prefer.'),
      serverAddressByClientCIDRs: arr(S.ref(`${META}ServerAddressByClientCIDR`), 'Addresses to reach the server from given networks.'),
    }, [gvk('', 'v1', 'APIGroup')]),
    [`${META}APIGroupList`]: typed('The API groups served, other than the core group.', {
      groups: req(arr(S.ref(`${META}APIGroup`), 'The groups.')),
    }, [gvk('', 'v1', 'APIGroupList')]),
    [VERSION_INFO]: obj('Version of the server.', {
      major: req(str('Major version.')),
      minor: req(str('Minor version.')),
      gitVersion: req(str('Full semantic version.')),
      gitCommit: req(str('Commit the server was built from.')),
      gitTreeState: req(str('Whether the build tree was clean.')),
      buildDate: req(str('When the server was built.')),
      goVersion: req(str('Toolchain of the build.')),
      compiler: req(str('Compiler of the build.')),
      platform: req(str('Operating system and architecture.')),
    }),
  };
}

