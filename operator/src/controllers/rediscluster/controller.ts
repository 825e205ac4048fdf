import type { RedisCluster } from '../../api/v1alpha1/rediscluster.ts';
import { controllerOf, stableJson, upToDate } from '../../runtime/apply.ts';
import { isInvalid } from '../../runtime/client.ts';
import type { ControllerOptions } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request, Result } from '../../runtime/reconcile.ts';
import { type GroupVersionKind, gvkKey } from '../../runtime/resources.ts';
import { type AddressResolver, type Pod, podIpAddress, podNodes } from './addresses.ts';
import { desired, SELECTOR_LABEL, statefulSetName, wantedNodes } from './desired.ts';
import { NodePool } from './node-client.ts';
import type { Step } from './plan.ts';
import { reconcileRedisCluster } from './reconcile.ts';
import { type Progress, resourceStatus } from './resource-status.ts';
import { SLOT_COUNT } from './slots.ts';
import { describe } from './status.ts';

export const REDIS_CLUSTER: GroupVersionKind = { apiVersion: 'souk.dev/v1alpha1', kind: 'RedisCluster' };
export const STATEFUL_SET: GroupVersionKind = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
export const SERVICE: GroupVersionKind = { apiVersion: 'v1', kind: 'Service' };
export const CONFIG_MAP: GroupVersionKind = { apiVersion: 'v1', kind: 'ConfigMap' };
export const PDB: GroupVersionKind = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
export const POD: GroupVersionKind = { apiVersion: 'v1', kind: 'Pod' };

/** The kinds a RedisCluster owns; with Pods, the kinds the operator must watch with its label selector. */
export const OWNED = [STATEFUL_SET, SERVICE, CONFIG_MAP, PDB];
export const WATCHED = [...OWNED, POD];

export interface RedisClusterControllerOptions {
  /** Connections to the nodes; one per operator, closed by whoever passed it. */
  pool?: NodePool;
  /** Pod -> node address (default: pod IP and 6379). */
  addressOf?: AddressResolver;
  /** How long one reconcile may drive the cluster before handing the worker back. */
  budgetMs?: number;
  /** Requeue delay while the cluster is not as desired. */
  progressIntervalMs?: number;
  /** Requeue delay once it is: Redis has no watch, so its health is polled. */
  resyncMs?: number;
  workers?: number;
}

const STEP_REASONS: Record<Exclude<Step['kind'], 'wait'>, string> = {
  meet: 'NodesMet',
  forget: 'NodesForgotten',
  assignSlots: 'SlotsAssigned',
  migrate: 'SlotsMigrated',
  rollback: 'MigrationRolledBack',
  replicate: 'ReplicaAssigned',
};

/**
 * The RedisCluster controller: a pure desired(rc) (desired.ts) applied as children, and the cluster inside
 * the pods driven by reconcileRedisCluster over the pods' addresses. Scale out grows the StatefulSet first
 * and manages the nodes once the new pods are ready; scale in keeps the StatefulSet at its size while the
 * extra pods are drained and removed, and shrinks it only then. See DESIGN.md next to this file.
 */
export function redisClusterController(
  mgr: Manager,
  o: RedisClusterControllerOptions = {},
): ControllerOptions {
  const clusters = mgr.cache<RedisCluster & KubeObject>(REDIS_CLUSTER);
  const pods = mgr.cache<Pod>(POD);
  const owned = new Map(OWNED.map((g) => [gvkKey(g), mgr.cache(g)]));
  const recorder = mgr.recorder('rediscluster-controller');
  const pool = o.pool ?? new NodePool();
  const addressOf = o.addressOf ?? podIpAddress;
  const progressMs = o.progressIntervalMs ?? 2_000;
  const resyncMs = o.resyncMs ?? 60_000;
  const liveOf = (obj: KubeObject) =>
    owned.get(gvkKey(obj))?.getByName(obj.metadata.namespace, obj.metadata.name);

  /** Applies the children that differ; returns why they could not be, if that is for the user to fix. */
  async function applyChildren(rc: RedisCluster & KubeObject, objs: KubeObject[]) {
    const stale: KubeObject[] = [];
    for (const obj of objs) {
      const live = liveOf(obj);
      if (live && controllerOf(live)?.uid !== rc.metadata.uid) {
        return {
          reason: 'ResourceConflict',
          message: `${obj.kind} ${obj.metadata.name} exists and is not controlled by this RedisCluster`,
        };
      }
      if (!upToDate(obj, live)) stale.push(obj);
    }
    const results = await Promise.allSettled(stale.map((obj) => mgr.applier.apply(obj)));
    const updated: string[] = [];
    for (const [i, r] of results.entries()) {
      const obj = stale[i] as KubeObject;
      if (r.status === 'fulfilled') {
        if (liveOf(obj)) updated.push(obj.kind);
        continue;
      }
      if (!isInvalid(r.reason)) throw r.reason;
      return {
        reason: 'ApplyFailed',
        message: `${obj.kind} ${obj.metadata.name}: ${(r.reason as Error).message}`,
      };
    }
    if (updated.length) recorder.event(rc, 'Normal', 'Updated', `updated ${updated.join(', ')}`);
    if (rc.spec.pdb?.enabled === false) {
      const pdb = owned.get(gvkKey(PDB))?.getByName(rc.metadata.namespace, statefulSetName(rc));
      if (pdb && controllerOf(pdb)?.uid === rc.metadata.uid) {
        await mgr.client.delete(PDB, pdb.metadata.namespace, pdb.metadata.name, { uid: pdb.metadata.uid });
      }
    }
    return undefined;
  }

  async function writeStatus(
    rc: RedisCluster & KubeObject,
    p: Progress,
    blocker?: { reason: string; message: string },
  ) {
    const status = resourceStatus(rc, p);
    if (blocker) {
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      if (ready) Object.assign(ready, { status: 'False', reason: blocker.reason, message: blocker.message });
    }
    if (stableJson(status) === stableJson(rc.status ?? {})) return rc;
    await mgr.applier.applyStatus({
      apiVersion: rc.apiVersion,
      kind: rc.kind,
      metadata: { name: rc.metadata.name, namespace: rc.metadata.namespace },
      status,
    });
    return { ...rc, status };
  }

  type StatefulSet = KubeObject & { spec?: { replicas?: number } };
  /** The StatefulSets this controller shrank, until the cache has seen that generation. */
  const shrunk = new Map<string, StatefulSet>();

  /**
   * The StatefulSet, from the cache unless the cache has not yet seen the shrink this controller applied:
   * reading the old size then would grow it back and recreate the pods just retired.
   */
  function statefulSetOf(rc: RedisCluster & KubeObject): StatefulSet | undefined {
    const key = `${rc.metadata.namespace}/${statefulSetName(rc)}`;
    const cached = owned.get(gvkKey(STATEFUL_SET))?.get(key) as StatefulSet | undefined;
    const applied = shrunk.get(key);
    if (applied && (cached?.metadata.generation ?? 0) < (applied.metadata.generation ?? 0)) return applied;
    shrunk.delete(key);
    return cached;
  }

  async function reconcile(req: Request): Promise<Result | undefined> {
    const rc = clusters.getByName(req.namespace, req.name);
    // Gone: the garbage collector removes the children; the nodes go with their pods.
    if (!rc || rc.metadata.deletionTimestamp) return;
    const ns = rc.metadata.namespace;
    const want = wantedNodes(rc);
    const sts = statefulSetOf(rc);
    // Scale in: the StatefulSet keeps the pods to retire until they are drained and removed.
    const size = Math.max(want, sts?.spec?.replicas ?? 0);
    const serving = rc.status?.slotsAssigned === SLOT_COUNT;
    const scaling: Progress['scaling'] =
      size > want ? 'in' : serving && (rc.status?.nodes?.length ?? 0) < want ? 'out' : undefined;

    const blocker = await applyChildren(rc, desired(rc, { replicas: size }));
    const nodes = podNodes(rc, size, (name) => pods.getByName(ns, name), addressOf);
    if (blocker) {
      recorder.event(rc, 'Warning', blocker.reason, blocker.message);
      await writeStatus(rc, { podOf: nodes.podOf, missingPods: nodes.missing, scaling }, blocker);
      return;
    }
    if (nodes.missing.length > 0) {
      await writeStatus(rc, { podOf: nodes.podOf, missingPods: nodes.missing, scaling });
      return { requeueAfter: progressMs };
    }

    // A scale can keep the cluster management busy for a while: say so before, not only after.
    const before = scaling
      ? await writeStatus(rc, { podOf: nodes.podOf, missingPods: [], scaling, starting: true })
      : rc;
    const result = await reconcileRedisCluster(
      pool,
      {
        nodes: nodes.addresses.slice(0, want),
        retiring: nodes.addresses.slice(want),
        masters: rc.spec.masters,
        replicasPerMaster: rc.spec.replicasPerMaster,
      },
      { budgetMs: o.budgetMs ?? 10_000 },
    );
    for (const step of result.applied) {
      if (step.kind !== 'wait') recorder.event(rc, 'Normal', STEP_REASONS[step.kind], describe(step));
    }
    for (const w of result.warnings) recorder.event(rc, 'Warning', 'ClusterWarning', w);

    let scaledIn = false;
    if (result.done && size > want) {
      // Drained, forgotten and reset: the extra pods may go now.
      const shrink = desired(rc).find((x) => x.kind === 'StatefulSet') as KubeObject;
      shrunk.set(`${ns}/${shrink.metadata.name}`, await mgr.applier.apply(shrink));
      recorder.event(
        rc,
        'Normal',
        'ScaledIn',
        `StatefulSet ${shrink.metadata.name} shrunk from ${size} to ${want} pods`,
      );
      scaledIn = true;
    }
    const summary = scaledIn
      ? { ...result.status, nodes: result.status.nodes.filter((n) => !n.retiring) }
      : result.status;
    const progress: Progress = { summary, podOf: nodes.podOf, missingPods: [] };
    if (scaling && !scaledIn && !(scaling === 'out' && result.done)) progress.scaling = scaling;
    if (result.error !== undefined) progress.error = result.error;
    await writeStatus(before, progress);
    return { requeueAfter: result.done ? resyncMs : progressMs };
  }

  const ownerOfPod = (pod: KubeObject): Request[] => {
    const name = pod.metadata.labels?.[SELECTOR_LABEL];
    return name ? [{ namespace: pod.metadata.namespace, name }] : [];
  };

  return {
    name: 'rediscluster',
    for: REDIS_CLUSTER,
    owns: OWNED,
    watches: [{ kind: POD, map: ownerOfPod }],
    reconcile,
    workers: o.workers ?? 2,
  };
}
