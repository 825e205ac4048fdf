/**
 * The CRD controllers of the apiextensions-apiserver: an established CustomResourceDefinition
 * makes its served versions available (discovery, routing, validation), its status reports
 * NamesAccepted/Established, and deleting it removes every custom resource first.
 */
import { now, type Registry } from './registry.ts';
import { ALL_VERBS, type ResourceType } from './resources.ts';
import { isObject, type JSONSchemaProps, type Json, type JsonObject } from './schema.ts';
import type { StoredEvent } from './storage.ts';
import { WorkQueue } from './workqueue.ts';

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

export function resourceTypesOf(crd: JsonObject): ResourceType[] {
  const spec = obj(crd.spec);
  const names = obj(spec.names);
  const group = String(spec.group);
  const plural = String(names.plural);
  const kind = String(names.kind);
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  return versions
    .map(obj)
    .filter((v) => v.served !== false)
    .map((v) => ({
      group,
      version: String(v.name),
      kind,
      listKind: String(names.listKind ?? `${kind}List`),
      plural,
      singular: String(names.singular ?? kind.toLowerCase()),
      namespaced: spec.scope === 'Namespaced',
      shortNames: (Array.isArray(names.shortNames) ? names.shortNames : []) as string[],
      categories: (Array.isArray(names.categories) ? names.categories : []) as string[],
      verbs: ALL_VERBS,
      statusSubresource: isObject(obj(v.subresources).status),
      ...(isObject(obj(v.subresources).scale)
        ? { scale: obj(v.subresources).scale as unknown as NonNullable<ResourceType['scale']> }
        : {}),
      tracksGeneration: true,
      returnDeletedObject: true,
      allowUnconditionalUpdate: false,
      storageKey: `${group}/${plural}`,
      schema: obj(obj(v.schema).openAPIV3Schema) as unknown as JSONSchemaProps,
      crdName: String(obj(crd.metadata).name),
    }));
}

function condition(type: string, reason: string, message: string, previous: Json[]): JsonObject {
  const prev = previous.map(obj).find((c) => c.type === type && c.status === 'True');
  return {
    type,
    status: 'True',
    lastTransitionTime: (prev?.lastTransitionTime as string | undefined) ?? now(),
    reason,
    message,
  };
}

export class CrdController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: Registry) {
    this.queue = new WorkQueue((name) => this.reconcile(name));
    this.unsubscribe = registry.storage.subscribe((e: StoredEvent) => {
      if (e.storageKey === CRD_KEY) this.queue.add(e.name);
      else if (e.type === 'DELETED') {
        const t = registry.resources.all().find((x) => x.storageKey === e.storageKey && x.crdName);
        if (t?.crdName) this.queue.add(t.crdName);
      }
    });
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }

  private crdType(): ResourceType {
    return this.registry.resources.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  }

  private reconcile(name: string): void {
    const storage = this.registry.storage;
    const crd = storage.get(CRD_KEY, '', name);
    if (!crd) {
      this.registry.resources.removeCrd(name);
      return;
    }
    const m = obj(crd.metadata);
    const finalizers = (Array.isArray(m.finalizers) ? m.finalizers : []) as string[];
    if (m.deletionTimestamp) {
      if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) return;
      const types = resourceTypesOf(crd);
      const key =
        types[0]?.storageKey ?? `${String(obj(crd.spec).group)}/${String(obj(obj(crd.spec).names).plural)}`;
      for (const cr of storage.list(key)) {
        const cm = obj(cr.metadata);
        if (cm.deletionTimestamp) continue;
        const t = types[0];
        if (!t) continue;
        try {
          this.registry.delete(t, String(cm.namespace ?? ''), String(cm.name), {});
        } catch {
          // already gone
        }
      }
      if (storage.list(key).length > 0) return;
      this.registry.resources.removeCrd(name);
      const next = structuredClone(crd);
      obj(next.metadata).finalizers = finalizers.filter((f) => f !== CRD_CLEANUP_FINALIZER);
      this.registry.commit(this.crdType(), crd, next, {
        manager: 'kube-apiserver',
        subresource: '',
        isPut: false,
        applied: false,
        dryRun: false,
      });
      return;
    }
    this.registry.resources.replaceCrd(name, resourceTypesOf(crd));
    const spec = obj(crd.spec);
    const names = obj(spec.names);
    const status = obj(crd.status);
    const prevConds = (Array.isArray(status.conditions) ? status.conditions : []) as Json[];
    const storageVersion = (Array.isArray(spec.versions) ? spec.versions : [])
      .map(obj)
      .find((v) => v.storage === true);
    const stored = new Set((Array.isArray(status.storedVersions) ? status.storedVersions : []) as string[]);
    if (storageVersion) stored.add(String(storageVersion.name));
    const acceptedNames: JsonObject = {
      plural: names.plural as Json,
      singular: (names.singular ?? String(names.kind).toLowerCase()) as Json,
      kind: names.kind as Json,
      listKind: (names.listKind ?? `${String(names.kind)}List`) as Json,
    };
    if (Array.isArray(names.shortNames)) acceptedNames.shortNames = names.shortNames;
    if (Array.isArray(names.categories)) acceptedNames.categories = names.categories;
    const desired: JsonObject = {
      conditions: [
        condition('NamesAccepted', 'NoConflicts', 'no conflicts found', prevConds),
        condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted', prevConds),
      ],
      acceptedNames,
      storedVersions: [...stored],
    };
    if (JSON.stringify(desired) === JSON.stringify(crd.status)) return;
    const next = structuredClone(crd);
    next.status = desired;
    this.registry.commit(this.crdType(), crd, next, {
      manager: 'kube-apiserver',
      subresource: 'status',
      isPut: false,
      applied: false,
      dryRun: false,
    });
  }
}
