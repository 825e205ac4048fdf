/**
 * The registry of served resources: the built-in kinds and, once a CustomResourceDefinition is
 * established, its custom kinds. Discovery, routing and storage keys all come from here.
 */
import type { JSONSchemaProps } from './schema.ts';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Has a /status subresource: the main resource ignores status writes and vice versa. */
  statusSubresource: boolean;
  /** metadata.generation is maintained (bumped on changes outside metadata and status). */
  tracksGeneration: boolean;
  /** DELETE answers the deleted object rather than a Success Status. */
  returnDeletedObject: boolean;
  /** PUT without metadata.resourceVersion is accepted. */
  allowUnconditionalUpdate: boolean;
  /** All versions of one group/resource share one storage key (no conversion beyond apiVersion). */
  storageKey: string;
  /** Set for custom resources: the structural schema of this version. */
  schema?: JSONSchemaProps;
  crdName?: string;
  /** Has a /scale subresource reading and writing these paths. */
  scale?: ScalePaths;
}

export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

const workloadScale: ScalePaths = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
};

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  generation?: boolean;
  returnDeletedObject?: boolean;
  verbs?: string[];
  storageKey?: string;
}

const builtinSpecs: BuiltinSpec[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    status: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
  },
  { group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] },
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    storageKey: 'core-events',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    status: true,
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
    shortNames: ['pvc'],
    status: true,
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    storageKey: 'core-events',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    status: true,
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    status: true,
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    status: true,
    generation: true,
  },
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    status: true,
    storageKey: 'autoscaling/horizontalpodautoscalers',
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    status: true,
    generation: true,
  },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    shortNames: ['ing'],
    status: true,
    generation: true,
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    status: true,
    generation: true,
  },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
];

function singularOf(kind: string): string {
  return kind.toLowerCase();
}

export function builtinResourceTypes(): ResourceType[] {
  return builtinSpecs.map((s) => ({
    group: s.group,
    version: s.version,
    kind: s.kind,
    listKind: `${s.kind}List`,
    plural: s.plural,
    singular: singularOf(s.kind),
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: s.verbs ?? ALL_VERBS,
    statusSubresource: s.status ?? false,
    tracksGeneration: s.generation ?? false,
    returnDeletedObject: s.returnDeletedObject ?? false,
    allowUnconditionalUpdate: true,
    storageKey: s.storageKey ?? `${s.group}/${s.plural}`,
    ...(s.group === 'apps' && s.kind !== 'DaemonSet' ? { scale: workloadScale } : {}),
  }));
}

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private listeners: Array<() => void> = [];

  constructor(types: ResourceType[]) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    this.byPath.set(`${t.group}/${t.version}/${t.plural}`, t);
    for (const l of this.listeners) l();
  }

  /** Serves exactly these types for a CRD, in one change. */
  replaceCrd(crdName: string, types: ResourceType[]): void {
    for (const [k, t] of this.byPath) if (t.crdName === crdName) this.byPath.delete(k);
    for (const t of types) this.byPath.set(`${t.group}/${t.version}/${t.plural}`, t);
    for (const l of this.listeners) l();
  }

  removeCrd(crdName: string): void {
    for (const [k, t] of this.byPath) if (t.crdName === crdName) this.byPath.delete(k);
    for (const l of this.listeners) l();
  }

  onChange(l: () => void): void {
    this.listeners.push(l);
  }

  get(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.byPath.values()) if (apiVersionOf(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  /** Any served version of a group/kind (used to resolve ownerReferences by kind). */
  byGroupKind(group: string, kind: string): ResourceType | undefined {
    for (const t of this.byPath.values()) if (t.group === group && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }

  /** Groups with their versions, in registration order; the first version is preferred. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.byPath.values()) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }
}
