/**
 * The generic registry store (k8s.io/apiserver/pkg/registry/generic/registry): create, update,
 * patch, delete and list with the API server's semantics for metadata (uid, resourceVersion,
 * generation, timestamps), optimistic concurrency, the status subresource, managedFields,
 * finalizers and deletion, defaulting, validation and namespace lifecycle.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { type ManagerContext, managedFieldsForUpdate, serverSideApply } from './apply.ts';
import { applyBuiltinDefaults } from './builtin-defaults.ts';
import { pruneBuiltin } from './builtin-fields.ts';
import type { BuiltinSchemas } from './builtin-schema.ts';
import { validateBuiltin, validateMetadata } from './builtin-validation.ts';
import { validateCrd } from './crd-validation.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  type FieldError,
  forbidden,
  internalError,
  invalidObject,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  resourceExpired,
  type Status,
  StatusError,
  successStatus,
  tooLargeResourceVersion,
  unsupportedMediaType,
} from './errors.ts';
import { eventFromCore, eventToCore, isEventsV1, validateEvent } from './events.ts';
import { clone, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';
import { builtinShape, customShape, isObject, type Json, type JsonObject, type Shape } from './schema.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { keyOf, type Storage } from './storage.ts';
import { applyDefaults, prune, validateCustomResource } from './validation.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  fieldManager?: string;
  /** Unknown fields: a 400 (Strict), a Warning header (Warn, the default) or nothing (Ignore). */
  fieldValidation?: FieldValidation;
  /** Filled with the warnings the response should carry. */
  warnings?: string[];
  userAgent?: string;
  dryRun?: boolean;
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
}

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const gr = (t: ResourceType) => ({ group: t.group, resource: t.plural });
const meta = (o: JsonObject): JsonObject => {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
};
function child(o: JsonObject, key: string): JsonObject {
  if (!isObject(o[key])) o[key] = {};
  return o[key] as JsonObject;
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const nameChars = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += nameChars[Math.floor(Math.random() * nameChars.length)];
  return s;
}

function managerFromUserAgent(ua: string | undefined): string {
  if (!ua) return 'unknown';
  return ua.split('/')[0] || 'unknown';
}

export function shapeOf(t: ResourceType): Shape {
  return t.crdName ? customShape(t.schema) : builtinShape();
}

interface CommitContext {
  manager: string;
  subresource: string;
  /** PUT: a missing resourceVersion is an unconditional update. */
  isPut: boolean;
  /** managedFields were already computed (server-side apply). */
  applied: boolean;
  dryRun: boolean;
  fieldValidation?: FieldValidation;
  warnings?: string[];
}

export class Registry {
  private clusterIpSeq = 10;
  private nodePortSeq = 0;

  constructor(
    readonly resources: ResourceRegistry,
    readonly storage: Storage,
    private readonly schemas?: BuiltinSchemas,
  ) {}

  // ---- reads

  get(t: ResourceType, namespace: string, name: string): JsonObject {
    const o = this.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
    if (!o) throw notFound(gr(t), name);
    return this.present(t, o);
  }

  /** Objects are stored once per group/resource; each served version only rewrites apiVersion. */
  present(t: ResourceType, o: JsonObject): JsonObject {
    if (isEventsV1(t)) o = eventFromCore(o);
    o.apiVersion = apiVersionOf(t);
    o.kind = t.kind;
    return o;
  }

  list(t: ResourceType, namespace: string | undefined, opts: ListOptions): JsonObject {
    const labelSel = parseLabelSelector(opts.labelSelector);
    const fieldSel = parseFieldSelector(opts.fieldSelector, t.kind);
    const ns = t.namespaced ? namespace : undefined;
    let listRv = this.storage.currentRevision;
    let items: JsonObject[];
    let start = '';
    if (opts.continue) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(opts.continue, 'base64').toString('utf8')) as {
          rv: number;
          start: string;
        };
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      try {
        items = this.storage.listAt(token.rv, t.storageKey, ns);
      } catch (err) {
        if (err instanceof StatusError && err.code === 410) {
          throw resourceExpired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        }
        throw err;
      }
      listRv = token.rv;
      start = token.start;
    } else if (opts.resourceVersionMatch === 'Exact' && opts.resourceVersion) {
      listRv = Number(opts.resourceVersion);
      if (listRv > this.storage.currentRevision)
        throw tooLargeResourceVersion(listRv, this.storage.currentRevision);
      items = this.storage.listAt(listRv, t.storageKey, ns);
    } else {
      const rv = Number(opts.resourceVersion ?? '0');
      if (rv > this.storage.currentRevision) throw tooLargeResourceVersion(rv, this.storage.currentRevision);
      items = this.storage.list(t.storageKey, ns);
    }
    items = items.filter((o) => keyOf(o) > start && labelSel(o) && fieldSel(o));
    const listMeta: JsonObject = { resourceVersion: String(listRv) };
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const rest = items.length - opts.limit;
      items = items.slice(0, opts.limit);
      const last = keyOf(items[items.length - 1]!);
      listMeta.continue = Buffer.from(
        JSON.stringify({ v: 'meta.k8s.io/v1', rv: listRv, start: last }),
      ).toString('base64');
      if (!opts.labelSelector && !opts.fieldSelector) listMeta.remainingItemCount = rest;
    }
    return {
      kind: t.listKind,
      apiVersion: apiVersionOf(t),
      metadata: listMeta,
      // Built-in lists carry their items without apiVersion/kind; custom resource lists keep them.
      items: items.map((o) => {
        const p = this.present(t, o);
        if (!t.crdName) {
          delete p.apiVersion;
          delete p.kind;
        }
        return p;
      }),
    };
  }

  /** The stored form of an object written through version t. */
  private toStorage(t: ResourceType, o: JsonObject): JsonObject {
    return isEventsV1(t) ? eventToCore(o) : o;
  }

  // ---- admission: defaulting and validation

  private admit(
    t: ResourceType,
    o: JsonObject,
    old: JsonObject | undefined,
    fv: { fieldValidation?: FieldValidation; warnings?: string[] } = {},
  ): void {
    o.apiVersion = apiVersionOf(t);
    o.kind = t.kind;
    if (t.crdName && t.schema) {
      const unknown = prune(o, {
        ...t.schema,
        properties: {
          ...t.schema.properties,
          apiVersion: {},
          kind: {},
          metadata: { 'x-kubernetes-preserve-unknown-fields': true },
        },
      });
      this.reportUnknown(t, unknown, fv);
      applyDefaults(o, t.schema);
    } else {
      this.reportUnknown(t, pruneBuiltin(t, o), fv);
      this.schemas?.checkDecodable(t, o);
      applyBuiltinDefaults(t, o);
    }
    const errs: FieldError[] = validateMetadata(t, o, old);
    if (t.crdName && t.schema) errs.push(...validateCustomResource(o, old, t.schema));
    else {
      errs.push(...validateBuiltin(t, o, old));
      const seen = new Set(errs.map((e) => `${e.type}|${e.field}`));
      for (const e of this.schemas?.validate(t, o) ?? []) if (!seen.has(`${e.type}|${e.field}`)) errs.push(e);
    }
    if (t.kind === 'Event' && (t.group === '' || isEventsV1(t))) errs.push(...validateEvent(t, o));
    if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition')
      errs.push(...validateCrd(o, old));
    if (errs.length > 0) throw invalidObject(t.kind, t.group, String(meta(o).name ?? ''), errs);
  }

  /** Unknown fields were dropped: a warning (Warn, the default), a 400 (Strict) or nothing (Ignore). */
  private reportUnknown(
    t: ResourceType,
    unknown: string[],
    fv: { fieldValidation?: FieldValidation; warnings?: string[] },
  ): void {
    const mode = fv.fieldValidation ?? 'Warn';
    if (unknown.length > 0 && mode === 'Strict') {
      throw badRequest(
        `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      );
    }
    if (mode === 'Warn') for (const u of unknown) fv.warnings?.push(`unknown field "${u}"`);
  }

  private managerContext(t: ResourceType, manager: string, subresource: string): ManagerContext {
    return {
      manager,
      apiVersion: apiVersionOf(t),
      subresource,
      shape: shapeOf(t),
      hasStatusSubresource: t.statusSubresource,
      now: now(),
    };
  }

  private checkNamespace(t: ResourceType, namespace: string, name: string): void {
    if (!t.namespaced) return;
    const ns = this.storage.get('/namespaces', '', namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (meta(ns).deletionTimestamp) {
      throw forbidden(
        gr(t),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  private initialStatus(t: ResourceType, o: JsonObject): void {
    if (!t.statusSubresource) return;
    if (t.crdName) {
      delete o.status;
      return;
    }
    switch (`${t.group}/${t.kind}`) {
      case '/Namespace':
        o.status = { phase: 'Active' };
        break;
      case '/Service':
        o.status = { loadBalancer: {} };
        break;
      case '/Pod':
        o.status = { phase: 'Pending' };
        break;
      case 'policy/PodDisruptionBudget':
        o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
        break;
      case 'autoscaling/HorizontalPodAutoscaler':
        o.status = { currentReplicas: 0, desiredReplicas: 0 };
        break;
      case 'apps/StatefulSet':
        o.status = { replicas: 0, availableReplicas: 0 };
        break;
      case 'apps/ReplicaSet':
        o.status = { replicas: 0 };
        break;
      case 'apps/DaemonSet':
        o.status = {
          currentNumberScheduled: 0,
          numberMisscheduled: 0,
          desiredNumberScheduled: 0,
          numberReady: 0,
        };
        break;
      case 'apiextensions.k8s.io/CustomResourceDefinition':
        o.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
        break;
      default:
        o.status = {};
    }
  }

  /** NodePort and LoadBalancer Services get a node port (30000-32767) per port, kept across updates. */
  private allocateNodePorts(spec: JsonObject, oldSpec: JsonObject | undefined): void {
    if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') return;
    const oldPorts = (Array.isArray(oldSpec?.ports) ? oldSpec.ports : []).filter(isObject);
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!isObject(p) || p.nodePort) continue;
      const prev = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      p.nodePort = (prev?.nodePort as number | undefined) ?? 30000 + (this.nodePortSeq++ % 2768);
    }
  }

  private allocate(t: ResourceType, o: JsonObject): void {
    if (t.group === '' && t.kind === 'Service') {
      const spec = child(o, 'spec');
      if (spec.type === 'ExternalName') return;
      if (!spec.clusterIP) {
        const n = this.clusterIpSeq++;
        spec.clusterIP = `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      }
      spec.clusterIPs = [spec.clusterIP];
      this.allocateNodePorts(spec, undefined);
    }
    if (t.group === '' && t.kind === 'Namespace') {
      const spec = child(o, 'spec');
      if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    }
  }

  private checkTypeMeta(t: ResourceType, body: JsonObject): void {
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(t)) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`,
      );
    }
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${t.kind}): ${String(body.kind)}`,
      );
    }
  }

  // ---- create

  create(t: ResourceType, namespace: string, body: Json, opts: WriteOptions): JsonObject {
    if (!isObject(body)) throw badRequest('the body of the request was in an unknown format');
    this.checkTypeMeta(t, body);
    const o = clone(body);
    const m = meta(o);
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') {
      throw internalError(new Error('resourceVersion should not be set on objects to be created'));
    }
    if (t.namespaced) {
      if (m.namespace && m.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      m.namespace = namespace;
    } else delete m.namespace;
    if (!m.name && typeof m.generateName === 'string' && m.generateName)
      m.name = m.generateName + randomSuffix();
    this.checkNamespace(t, namespace, String(m.name ?? ''));
    this.stampNew(t, o);
    this.initialStatus(t, o);
    this.allocate(t, o);
    delete m.managedFields;
    this.admit(t, o, undefined, opts);
    const ctx = this.managerContext(t, opts.fieldManager ?? managerFromUserAgent(opts.userAgent), '');
    const managed = managedFieldsForUpdate(undefined, o, ctx);
    if (managed.length) m.managedFields = managed as unknown as Json;
    return this.insert(t, this.toStorage(t, o), !!opts.dryRun);
  }

  private stampNew(t: ResourceType, o: JsonObject): void {
    const m = meta(o);
    m.uid = randomUUID();
    m.creationTimestamp = now();
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (t.tracksGeneration || t.crdName) m.generation = 1;
    else delete m.generation;
  }

  private insert(t: ResourceType, o: JsonObject, dryRun: boolean): JsonObject {
    const m = meta(o);
    if (this.storage.get(t.storageKey, String(m.namespace ?? ''), String(m.name))) {
      throw alreadyExists(gr(t), String(m.name));
    }
    if (dryRun) return this.present(t, o);
    return this.present(t, this.storage.create(t.storageKey, o));
  }

  // ---- update

  update(t: ResourceType, namespace: string, name: string, body: Json, opts: WriteOptions): JsonObject {
    if (!isObject(body)) throw badRequest('the body of the request was in an unknown format');
    this.checkTypeMeta(t, body);
    const bm = isObject(body.metadata) ? body.metadata : {};
    if (bm.name !== undefined && bm.name !== name) {
      throw badRequest(
        `the name of the object (${String(bm.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (t.namespaced && bm.namespace !== undefined && bm.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const old = this.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
    if (!old) throw notFound(gr(t), name);
    return this.commit(t, old, clone(body), {
      manager: opts.fieldManager ?? managerFromUserAgent(opts.userAgent),
      subresource: opts.subresource ?? '',
      isPut: true,
      applied: false,
      dryRun: !!opts.dryRun,
      fieldValidation: opts.fieldValidation,
      warnings: opts.warnings,
    });
  }

  /** The write path shared by update, patch and apply. */
  commit(t: ResourceType, stored: JsonObject, candidate: JsonObject, ctx: CommitContext): JsonObject {
    const old = this.present(t, clone(stored));
    const om = meta(old);
    let next = candidate;
    const cm = meta(next);
    const name = String(om.name);
    if (
      cm.resourceVersion !== undefined &&
      cm.resourceVersion !== '' &&
      cm.resourceVersion !== om.resourceVersion
    ) {
      throw conflict(gr(t), name, OPTIMISTIC_LOCK_MESSAGE);
    }
    if (ctx.isPut && !cm.resourceVersion && !t.allowUnconditionalUpdate) {
      throw invalidObject(t.kind, t.group, name, [
        {
          type: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          badValue: '0x0',
          detail: 'must be specified for an update',
        },
      ]);
    }
    if (t.statusSubresource) {
      if (ctx.subresource === 'status') {
        const kept = clone(old);
        if (next.status !== undefined) kept.status = next.status;
        else delete kept.status;
        meta(kept).managedFields = cm.managedFields ?? om.managedFields ?? [];
        next = kept;
      } else if (old.status !== undefined) next.status = clone(old.status);
      else delete next.status;
    }
    if (t.group === '' && t.kind === 'Namespace') {
      const oldSpec = isObject(old.spec) ? old.spec : {};
      if (ctx.subresource === 'finalize') {
        const given = isObject(next.spec) ? next.spec.finalizers : undefined;
        const kept = clone(old);
        kept.spec = { ...clone(oldSpec), finalizers: clone(given ?? []) };
        meta(kept).managedFields = meta(next).managedFields ?? om.managedFields ?? [];
        next = kept;
      } else {
        const spec = child(next, 'spec');
        if (oldSpec.finalizers !== undefined) spec.finalizers = clone(oldSpec.finalizers);
        else delete spec.finalizers;
      }
    }
    const m = meta(next);
    for (const k of [
      'uid',
      'creationTimestamp',
      'name',
      'namespace',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ]) {
      if (om[k] !== undefined) m[k] = clone(om[k]);
      else delete m[k];
    }
    delete m.selfLink;
    m.resourceVersion = om.resourceVersion as Json;
    if (!ctx.applied) {
      const given = m.managedFields;
      const resetRequested = Array.isArray(given) && given.length === 1 && same(given[0], {});
      if (resetRequested) m.managedFields = [];
      else if (!Array.isArray(given) || given.length === 0) m.managedFields = clone(om.managedFields ?? []);
    }
    if (t.group === '' && t.kind === 'Service') {
      const spec = isObject(next.spec) ? next.spec : {};
      const oldSpec = isObject(old.spec) ? old.spec : {};
      if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
      if (!spec.clusterIPs && oldSpec.clusterIPs) spec.clusterIPs = clone(oldSpec.clusterIPs);
      this.allocateNodePorts(spec, oldSpec);
    }
    this.admit(t, next, old, ctx);
    if (!ctx.applied) {
      const managed = managedFieldsForUpdate(old, next, this.managerContext(t, ctx.manager, ctx.subresource));
      if (managed.length) m.managedFields = managed as unknown as Json;
      else delete m.managedFields;
    } else if (Array.isArray(m.managedFields) && m.managedFields.length === 0) delete m.managedFields;
    if ((t.tracksGeneration || t.crdName) && typeof om.generation === 'number') {
      const strip = (o: JsonObject) => {
        const c = { ...o };
        delete c.metadata;
        delete c.apiVersion;
        delete c.kind;
        if (t.statusSubresource || !t.crdName) delete c.status;
        return c;
      };
      if (!same(strip(old), strip(next))) m.generation = om.generation + 1;
    }
    const comparable = (o: JsonObject) => {
      const c = clone(o);
      const cm2 = meta(c);
      delete cm2.resourceVersion;
      if (Array.isArray(cm2.managedFields) && cm2.managedFields.length === 0) delete cm2.managedFields;
      delete c.apiVersion;
      delete c.kind;
      return JSON.stringify(c);
    };
    if (comparable(old) === comparable(next)) return old;
    if (ctx.dryRun) return next;
    const finalizers = Array.isArray(m.finalizers) ? m.finalizers : [];
    if (m.deletionTimestamp && finalizers.length === 0 && !this.hasNamespaceFinalizers(t, next)) {
      return this.present(t, this.storage.delete(t.storageKey, this.toStorage(t, next)));
    }
    return this.present(t, this.storage.update(t.storageKey, this.toStorage(t, next)));
  }

  private hasNamespaceFinalizers(t: ResourceType, o: JsonObject): boolean {
    if (!(t.group === '' && t.kind === 'Namespace')) return false;
    const spec = isObject(o.spec) ? o.spec : {};
    return Array.isArray(spec.finalizers) && spec.finalizers.length > 0;
  }

  // ---- patch

  patch(
    t: ResourceType,
    namespace: string,
    name: string,
    contentType: string,
    rawBody: string,
    opts: PatchOptions,
  ): { object: JsonObject; created: boolean } {
    const subresource = opts.subresource ?? '';
    if (contentType === PATCH_TYPES.apply) return this.apply(t, namespace, name, rawBody, opts);
    if (opts.force !== undefined) {
      throw invalidObject('PatchOptions', 'meta.k8s.io', '', [
        { type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' },
      ]);
    }
    const accepted = t.crdName
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply];
    if (!accepted.includes(contentType as (typeof accepted)[number]))
      throw unsupportedMediaType(contentType, accepted);
    let patch: Json;
    try {
      patch = JSON.parse(rawBody) as Json;
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const old = this.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
    if (!old) throw notFound(gr(t), name);
    const live = this.present(t, clone(old));
    let patched: Json;
    if (contentType === PATCH_TYPES.merge) {
      if (!isObject(patch))
        throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = mergePatch(live, patch);
    } else if (contentType === PATCH_TYPES.json) patched = jsonPatch(live, patch);
    else {
      if (!isObject(patch))
        throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = strategicMergePatch(live, patch, shapeOf(t));
    }
    if (!isObject(patched)) throw badRequest('patched object is not a JSON object');
    const pm = meta(patched);
    if (pm.name !== name) {
      throw badRequest(
        `the name of the object (${String(pm.name)}) does not match the name on the URL (${name})`,
      );
    }
    const object = this.commit(t, old, patched, {
      manager: opts.fieldManager ?? managerFromUserAgent(opts.userAgent),
      subresource,
      isPut: false,
      applied: false,
      dryRun: !!opts.dryRun,
      fieldValidation: opts.fieldValidation,
      warnings: opts.warnings,
    });
    return { object, created: false };
  }

  private apply(
    t: ResourceType,
    namespace: string,
    name: string,
    rawBody: string,
    opts: PatchOptions,
  ): { object: JsonObject; created: boolean } {
    const subresource = opts.subresource ?? '';
    if (!opts.fieldManager) {
      throw invalidObject('PatchOptions', 'meta.k8s.io', '', [
        { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
      ]);
    }
    let config: Json;
    try {
      config = parseYaml(rawBody) as Json;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    if (!isObject(config)) throw badRequest('error decoding YAML: the body is not an object');
    if (!config.apiVersion || !config.kind) {
      throw badRequest(`error decoding YAML: Object 'Kind' is missing in '${JSON.stringify(config)}'`);
    }
    this.checkTypeMeta(t, config);
    const cm = meta(config);
    if (cm.name !== undefined && cm.name !== name) {
      throw badRequest(
        `the name of the object (${String(cm.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (t.namespaced && cm.namespace !== undefined && cm.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const ctx = this.managerContext(t, opts.fieldManager, subresource);
    const old = this.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
    if (!old) {
      if (subresource) throw notFound(gr(t), name);
      const created = serverSideApply(undefined, config, ctx, !!opts.force);
      const m = meta(created);
      m.name = name;
      if (t.namespaced) m.namespace = namespace;
      this.checkNamespace(t, namespace, name);
      const managed = m.managedFields;
      this.stampNew(t, created);
      this.initialStatus(t, created);
      this.allocate(t, created);
      this.admit(t, created, undefined, opts);
      m.managedFields = managed as Json;
      return { object: this.insert(t, this.toStorage(t, created), !!opts.dryRun), created: true };
    }
    const live = this.present(t, clone(old));
    const merged = serverSideApply(live, config, ctx, !!opts.force);
    const object = this.commit(t, old, merged, {
      manager: opts.fieldManager,
      subresource,
      isPut: false,
      applied: true,
      dryRun: !!opts.dryRun,
      fieldValidation: opts.fieldValidation,
      warnings: opts.warnings,
    });
    return { object, created: false };
  }

  // ---- delete

  delete(t: ResourceType, namespace: string, name: string, opts: DeleteOptions): JsonObject | Status {
    const old = this.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
    if (!old) throw notFound(gr(t), name);
    if (
      t.group === '' &&
      t.kind === 'Namespace' &&
      ['default', 'kube-system', 'kube-public'].includes(name)
    ) {
      throw forbidden(gr(t), name, 'this namespace may not be deleted');
    }
    const om = meta(old);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== om.uid) {
      throw conflict(
        gr(t),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(om.uid)}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== om.resourceVersion) {
      throw conflict(
        gr(t),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(om.resourceVersion)}`,
      );
    }
    if (opts.propagationPolicy && opts.orphanDependents !== undefined) {
      throw invalidObject('DeleteOptions', 'meta.k8s.io', '', [
        {
          type: 'FieldValueInvalid',
          field: 'propagationPolicy',
          badValue: opts.propagationPolicy,
          detail: 'orphanDependents and deletionPropagation cannot be both set',
        },
      ]);
    }
    let policy = opts.propagationPolicy;
    if (!policy && opts.orphanDependents !== undefined)
      policy = opts.orphanDependents ? 'Orphan' : 'Background';
    if (policy && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
      throw invalidObject('DeleteOptions', 'meta.k8s.io', '', [
        {
          type: 'FieldValueNotSupported',
          field: 'propagationPolicy',
          badValue: policy,
          detail: 'supported values: "Foreground", "Background", "Orphan", "nil"',
        },
      ]);
    }
    let finalizers = (Array.isArray(om.finalizers) ? om.finalizers : []) as string[];
    const before = [...finalizers];
    if (policy === 'Foreground') {
      finalizers = finalizers.filter((f) => f !== 'orphan');
      if (!finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    } else if (policy === 'Orphan') {
      finalizers = finalizers.filter((f) => f !== 'foregroundDeletion');
      if (!finalizers.includes('orphan')) finalizers.push('orphan');
    } else if (policy === 'Background' && om.deletionTimestamp) {
      finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
    }
    const isCrd = t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition';
    if (isCrd && !finalizers.includes('customresourcecleanup.apiextensions.k8s.io')) {
      finalizers.push('customresourcecleanup.apiextensions.k8s.io');
    }
    const next = clone(old);
    const nm = meta(next);
    if (finalizers.length > 0) nm.finalizers = finalizers;
    else delete nm.finalizers;
    if (finalizers.length > 0 || this.hasNamespaceFinalizers(t, next)) {
      if (opts.dryRun) return this.present(t, next);
      if (om.deletionTimestamp) {
        if (same(before, finalizers)) return this.present(t, old);
        return this.present(t, this.storage.update(t.storageKey, next));
      }
      nm.deletionTimestamp = now();
      nm.deletionGracePeriodSeconds = 0;
      if (typeof nm.generation === 'number' && nm.generation > 0) nm.generation = nm.generation + 1;
      if (t.group === '' && t.kind === 'Namespace')
        next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      if (isCrd) {
        const status = child(next, 'status');
        const conds = (Array.isArray(status.conditions) ? status.conditions : []).filter(
          (c) => !(isObject(c) && c.type === 'Terminating'),
        );
        conds.push({
          type: 'Terminating',
          status: 'True',
          lastTransitionTime: now(),
          reason: 'InstanceDeletionPending',
          message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
        });
        status.conditions = conds;
      }
      return this.present(t, this.storage.update(t.storageKey, next));
    }
    if (opts.dryRun) return t.returnDeletedObject ? this.present(t, old) : this.deletedStatus(t, old);
    const deleted = this.storage.delete(t.storageKey, old);
    return t.returnDeletedObject ? this.present(t, deleted) : this.deletedStatus(t, old);
  }

  private deletedStatus(t: ResourceType, o: JsonObject): Status {
    const m = meta(o);
    return successStatus({
      name: String(m.name),
      ...(t.group ? { group: t.group } : {}),
      kind: t.plural,
      uid: String(m.uid),
    });
  }

  deleteCollection(
    t: ResourceType,
    namespace: string | undefined,
    list: ListOptions,
    opts: DeleteOptions,
  ): JsonObject {
    const items =
      (this.list(t, namespace, { ...list, limit: undefined, continue: undefined }).items as JsonObject[]) ??
      [];
    const out: JsonObject[] = [];
    for (const o of items) {
      const m = meta(o);
      try {
        const r = this.delete(t, String(m.namespace ?? ''), String(m.name), opts);
        out.push(r.kind === 'Status' ? o : (r as JsonObject));
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return {
      kind: t.listKind,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String(this.storage.currentRevision) },
      items: out,
    };
  }
}
