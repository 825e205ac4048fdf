/**
 * Where a kind lives in the REST API. Controllers name kinds by apiVersion + kind, as manifests do; the
 * client needs the plural resource and its scope. Built-in kinds the operator touches are listed here;
 * anything else can be registered (CRDs are known up front from src/api).
 */
export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface GroupVersionKind {
  apiVersion: string;
  kind: string;
}

const table = new Map<string, ResourceInfo>();

export const gvkKey = (g: GroupVersionKind) => `${g.apiVersion}/${g.kind}`;

export function registerResource(info: ResourceInfo): void {
  table.set(gvkKey(info), info);
}

export function resourceFor(g: GroupVersionKind): ResourceInfo {
  const info = table.get(gvkKey(g));
  if (!info) throw new Error(`unknown kind ${gvkKey(g)}: register it with registerResource()`);
  return info;
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const base = groupVersionPath(info.apiVersion);
  if (info.namespaced && namespace)
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`;
  return `${base}/${info.plural}`;
}

export function objectPath(
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  sub?: string,
): string {
  const p = `${collectionPath(info, info.namespaced ? (namespace ?? 'default') : undefined)}/${encodeURIComponent(name)}`;
  return sub ? `${p}/${sub}` : p;
}

for (const [apiVersion, kind, plural, namespaced] of [
  ['v1', 'ConfigMap', 'configmaps', true],
  ['v1', 'Service', 'services', true],
  ['v1', 'Secret', 'secrets', true],
  ['v1', 'Pod', 'pods', true],
  ['v1', 'Event', 'events', true],
  ['v1', 'Namespace', 'namespaces', false],
  ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true],
  ['apps/v1', 'Deployment', 'deployments', true],
  ['apps/v1', 'StatefulSet', 'statefulsets', true],
  ['autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true],
  ['policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true],
  ['coordination.k8s.io/v1', 'Lease', 'leases', true],
  ['monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors', true],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false],
  ['souk.dev/v1alpha1', 'Microservice', 'microservices', true],
  ['souk.dev/v1alpha1', 'Topic', 'topics', true],
  ['souk.dev/v1alpha1', 'RedisCluster', 'redisclusters', true],
] as const) {
  registerResource({ apiVersion, kind, plural, namespaced });
}
