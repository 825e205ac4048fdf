import type { Microservice } from '../../api/v1alpha1/microservice.ts';
import { type RedisCluster, redisClientAddress } from '../../api/v1alpha1/rediscluster.ts';
import { kafkaTopicName, type Topic } from '../../api/v1alpha1/topic.ts';
import { controllerOf, stableJson, upToDate } from '../../runtime/apply.ts';
import { isInvalid } from '../../runtime/client.ts';
import type { ControllerOptions } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request, Result } from '../../runtime/reconcile.ts';
import { type GroupVersionKind, gvkKey } from '../../runtime/resources.ts';
import { configHash, desired, type ResolvedRefs, topicEnvName } from './desired.ts';
import { type Blocker, computeStatus } from './status.ts';

export const MICROSERVICE: GroupVersionKind = { apiVersion: 'souk.dev/v1alpha1', kind: 'Microservice' };
export const TOPIC: GroupVersionKind = { apiVersion: 'souk.dev/v1alpha1', kind: 'Topic' };
export const REDIS_CLUSTER: GroupVersionKind = { apiVersion: 'souk.dev/v1alpha1', kind: 'RedisCluster' };
export const DEPLOYMENT: GroupVersionKind = { apiVersion: 'apps/v1', kind: 'Deployment' };
export const SERVICE: GroupVersionKind = { apiVersion: 'v1', kind: 'Service' };
export const CONFIG_MAP: GroupVersionKind = { apiVersion: 'v1', kind: 'ConfigMap' };
export const HPA: GroupVersionKind = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };
export const PDB: GroupVersionKind = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
export const SERVICE_MONITOR: GroupVersionKind = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
};

/** The kinds a Microservice owns and the operator watches (ServiceMonitor is optional and not watched). */
export const OWNED = [DEPLOYMENT, SERVICE, CONFIG_MAP, HPA, PDB];

export interface MicroserviceControllerOptions {
  /** Kafka bootstrap servers for Topics that name none. */
  defaultBootstrapServers?: string;
  workers?: number;
  /** How long the answer "is ServiceMonitor served" is trusted. */
  discoveryTtlMs?: number;
}

const TOPIC_INDEX = 'topics';
const REDIS_INDEX = 'rediscluster';

/**
 * The Microservice controller: a pure desired(ms) (desired.ts) and this thin reconcile, which resolves
 * references from the cache, applies the children that differ, deletes optional children no longer wanted,
 * and mirrors the rollout in status. See DESIGN.md next to this file.
 */
export function microserviceController(
  mgr: Manager,
  o: MicroserviceControllerOptions = {},
): ControllerOptions {
  const microservices = mgr.cache<Microservice & KubeObject>(MICROSERVICE);
  const topics = mgr.cache<Topic & KubeObject>(TOPIC);
  const redis = mgr.cache<RedisCluster & KubeObject>(REDIS_CLUSTER);
  const owned = new Map(OWNED.map((g) => [gvkKey(g), mgr.cache(g)]));
  const recorder = mgr.recorder('microservice-controller');
  const log = mgr.log.child({ controller: 'microservice' });

  microservices.addIndex(TOPIC_INDEX, (ms) =>
    (ms.spec?.topics ?? []).map((t) => `${ms.metadata.namespace}/${t.name}`),
  );
  microservices.addIndex(REDIS_INDEX, (ms) =>
    ms.spec?.redisCluster ? [`${ms.metadata.namespace}/${ms.spec.redisCluster.name}`] : [],
  );
  const referencing = (index: string) => (obj: KubeObject) =>
    microservices
      .byIndex(index, `${obj.metadata.namespace}/${obj.metadata.name}`)
      .map((ms) => ({ namespace: ms.metadata.namespace, name: ms.metadata.name }));

  let smServed = false;
  let smCheckedAt = -Infinity;
  const serviceMonitorServed = async () => {
    if (performance.now() - smCheckedAt > (o.discoveryTtlMs ?? 60_000)) {
      smServed = await mgr.client.serves(SERVICE_MONITOR);
      smCheckedAt = performance.now();
    }
    return smServed;
  };

  function resolve(ms: Microservice): { refs: ResolvedRefs; blocker?: Blocker } {
    const ns = ms.metadata.namespace;
    const refs: ResolvedRefs = { topics: [] };
    const missing: string[] = [];
    const clusters = new Set<string>();
    for (const ref of ms.spec.topics ?? []) {
      const t = topics.getByName(ns, ref.name);
      if (!t) {
        missing.push(`Topic ${ref.name}`);
        continue;
      }
      refs.topics.push({
        env: ref.env ?? topicEnvName(ref.name),
        topicName: t.status?.topicName ?? kafkaTopicName(t),
      });
      const bootstrap = t.spec.bootstrapServers ?? o.defaultBootstrapServers;
      if (bootstrap) clusters.add(bootstrap);
    }
    if (ms.spec.redisCluster) {
      const rc = redis.getByName(ns, ms.spec.redisCluster.name);
      if (rc) refs.redisAddress = redisClientAddress(rc);
      else missing.push(`RedisCluster ${ms.spec.redisCluster.name}`);
    }
    if (missing.length) {
      return {
        refs,
        blocker: { reason: 'ReferenceNotFound', message: `not found in ${ns}: ${missing.join(', ')}` },
      };
    }
    if (clusters.size > 1) {
      return {
        refs,
        blocker: {
          reason: 'ConflictingKafkaClusters',
          message: `the referenced Topics live on different Kafka clusters (${[...clusters].join(' | ')}); one Microservice gets one KAFKA_BROKERS`,
        },
      };
    }
    refs.kafkaBootstrap = [...clusters][0];
    return { refs };
  }

  async function reconcile(req: Request): Promise<Result | undefined> {
    const ms = microservices.getByName(req.namespace, req.name);
    // Gone: the garbage collector removes the children through their ownerReferences.
    if (!ms || ms.metadata.deletionTimestamp) return;

    const { refs, blocker: refBlocker } = resolve(ms);
    let blocker = refBlocker;
    let deployment = owned.get(gvkKey(DEPLOYMENT))!.getByName(ms.metadata.namespace, ms.metadata.name);
    let current = false;
    const written: string[] = [];

    if (!blocker) {
      const objs = desired(ms, refs, { serviceMonitor: await serviceMonitorServed() });
      const stale: KubeObject[] = [];
      const liveOf = (obj: KubeObject) =>
        owned.get(gvkKey(obj))?.getByName(obj.metadata.namespace, obj.metadata.name);
      for (const obj of objs) {
        const cache = owned.get(gvkKey(obj));
        const live = cache?.getByName(obj.metadata.namespace, obj.metadata.name);
        if (live && controllerOf(live)?.uid !== ms.metadata.uid) {
          blocker = {
            reason: 'ResourceConflict',
            message: `${obj.kind} ${obj.metadata.name} exists and is not controlled by this Microservice`,
          };
          break;
        }
        // Uncached kinds (ServiceMonitor) are applied every time: a no-op apply changes nothing server-side.
        if (cache && upToDate(obj, live)) {
          if (obj.kind === 'Deployment') current = true;
        } else {
          stale.push(obj);
        }
      }
      if (!blocker) {
        // Children are independent of each other: apply them concurrently.
        const results = await Promise.allSettled(stale.map((obj) => mgr.applier.apply(obj)));
        for (const [i, r] of results.entries()) {
          const obj = stale[i]!;
          if (r.status === 'fulfilled') {
            // Creations are visible as the children themselves; an Event tells of updates and repaired drift.
            if (liveOf(obj)) written.push(obj.kind);
            if (obj.kind === 'Deployment') {
              deployment = r.value;
              current = true;
            }
            continue;
          }
          // The apiserver refused what the spec asks for: the user must change the spec, retrying cannot help.
          if (!isInvalid(r.reason)) throw r.reason;
          blocker ??= {
            reason: 'ApplyFailed',
            message: `${obj.kind} ${obj.metadata.name}: ${(r.reason as Error).message}`,
          };
        }
      }
      if (!blocker) await pruneOptional(ms, objs);
    }

    if (written.length)
      recorder.event(ms as KubeObject, 'Normal', 'Updated', `updated ${written.join(', ')}`);
    if (blocker) recorder.event(ms as KubeObject, 'Warning', blocker.reason, blocker.message);

    const status = computeStatus(ms, deployment, current, configHash(ms), blocker);
    if (stableJson(status) !== stableJson(ms.status ?? {})) {
      await mgr.applier.applyStatus({
        apiVersion: ms.apiVersion,
        kind: ms.kind,
        metadata: { name: ms.metadata.name, namespace: ms.metadata.namespace },
        status,
      });
    }
    return;
  }

  /** Optional children (HPA, PDB, ServiceMonitor) the spec no longer asks for are deleted. */
  async function pruneOptional(ms: Microservice, objs: KubeObject[]): Promise<void> {
    const wanted = new Set(objs.map((x) => gvkKey(x)));
    for (const g of [HPA, PDB]) {
      if (wanted.has(gvkKey(g))) continue;
      const live = owned.get(gvkKey(g))?.getByName(ms.metadata.namespace, ms.metadata.name);
      if (live && controllerOf(live)?.uid === ms.metadata.uid) {
        await mgr.client.delete(g, live.metadata.namespace, live.metadata.name, { uid: live.metadata.uid });
        log.debug({ kind: g.kind, name: live.metadata.name }, 'deleted');
      }
    }
    if (!wanted.has(gvkKey(SERVICE_MONITOR)) && smServed) {
      const sm = await mgr.client.get(SERVICE_MONITOR, ms.metadata.namespace, ms.metadata.name);
      if (sm && controllerOf(sm)?.uid === ms.metadata.uid) {
        await mgr.client.delete(SERVICE_MONITOR, ms.metadata.namespace, ms.metadata.name, {
          uid: sm.metadata.uid,
        });
      }
    }
  }

  return {
    name: 'microservice',
    for: MICROSERVICE,
    owns: OWNED,
    watches: [
      { kind: TOPIC, map: referencing(TOPIC_INDEX) },
      { kind: REDIS_CLUSTER, map: referencing(REDIS_INDEX) },
    ],
    reconcile,
    workers: o.workers ?? 4,
  };
}
