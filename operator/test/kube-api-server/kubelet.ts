/**
 * A stand-in for the kubelet and the workload controllers: it writes the status a Deployment or
 * StatefulSet reaches when its pods run (observedGeneration, replica counts, conditions), either
 * as soon as the spec is observed ('instant') or when a test says so (`markReady`, 'manual').
 */
import { createHash } from 'node:crypto';
import { MANAGER } from './gc.ts';
import { now, type Registry } from './registry.ts';
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';
import { WorkQueue } from './workqueue.ts';

export type KubeletMode = 'instant' | 'manual';

export interface KubeletOptions {
  /** 'instant' (default): workloads become ready as soon as observed; 'manual': only on markReady. */
  mode?: KubeletMode;
}

const WORKLOADS: Record<string, string> = {
  'apps/deployments': 'Deployment',
  'apps/statefulsets': 'StatefulSet',
};

const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : {});
const safeChars = 'bcdfghjklmnpqrstvwxz2456789';

function templateHash(o: JsonObject): string {
  const spec = isObject(o.spec) ? o.spec : {};
  const digest = createHash('sha256')
    .update(JSON.stringify(spec.template ?? {}))
    .digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += safeChars[digest[i]! % safeChars.length];
  return s;
}

export class Kubelet {
  mode: KubeletMode;
  /** storageKey|ns|name -> generation that was marked ready. */
  private readonly readyAt = new Map<string, number>();
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    opts: KubeletOptions = {},
  ) {
    this.mode = opts.mode ?? 'instant';
    this.queue = new WorkQueue((key) => this.reconcile(key));
    this.unsubscribe = registry.storage.subscribe((e) => {
      if (WORKLOADS[e.storageKey] && e.type !== 'DELETED')
        this.queue.add(`${e.storageKey}|${e.namespace}|${e.name}`);
    });
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }

  setMode(mode: KubeletMode): void {
    this.mode = mode;
  }

  /** Makes the current generation of a Deployment (or StatefulSet) fully ready now. */
  markReady(namespace: string, name: string, kind: 'Deployment' | 'StatefulSet' = 'Deployment'): JsonObject {
    const storageKey = kind === 'Deployment' ? 'apps/deployments' : 'apps/statefulsets';
    const o = this.registry.storage.get(storageKey, namespace, name);
    if (!o) throw new Error(`${kind} ${namespace}/${name} not found`);
    const key = `${storageKey}|${namespace}|${name}`;
    this.readyAt.set(key, Number(meta(o).generation ?? 1));
    return this.reconcile(key) ?? o;
  }

  /** Forgets readiness: the workload reports unavailable pods until marked ready again. */
  markUnready(namespace: string, name: string, kind: 'Deployment' | 'StatefulSet' = 'Deployment'): void {
    const storageKey = kind === 'Deployment' ? 'apps/deployments' : 'apps/statefulsets';
    const key = `${storageKey}|${namespace}|${name}`;
    this.readyAt.delete(key);
    this.reconcile(key);
  }

  private type(storageKey: string): ResourceType {
    const [group, plural] = storageKey.split('/') as [string, string];
    return this.registry.resources.get(group, 'v1', plural)!;
  }

  private reconcile(key: string): JsonObject | undefined {
    const [storageKey, ns, name] = key.split('|') as [string, string, string];
    const o = this.registry.storage.get(storageKey, ns, name);
    if (!o || meta(o).deletionTimestamp) return o;
    const generation = Number(meta(o).generation ?? 1);
    if (this.mode === 'instant') this.readyAt.set(key, generation);
    const marked = this.readyAt.get(key);
    const state = marked === undefined ? 'unready' : marked >= generation ? 'ready' : 'rolling';
    const spec = isObject(o.spec) ? o.spec : {};
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const prev = isObject(o.status) ? o.status : {};
    const status =
      WORKLOADS[storageKey] === 'Deployment'
        ? deploymentStatus(o, generation, replicas, state, prev)
        : statefulSetStatus(o, generation, replicas, state);
    if (JSON.stringify(status) === JSON.stringify(o.status)) return o;
    const next = structuredClone(o);
    next.status = status;
    return this.registry.commit(this.type(storageKey), o, next, {
      manager: MANAGER,
      subresource: 'status',
      isPut: false,
      applied: false,
      dryRun: false,
    });
  }
}

type State = 'ready' | 'unready' | 'rolling';

function condition(
  type: string,
  status: string,
  reason: string,
  message: string,
  prev: JsonObject,
): JsonObject {
  const conds = Array.isArray(prev.conditions) ? prev.conditions : [];
  const old = conds.find((c) => isObject(c) && c.type === type) as JsonObject | undefined;
  const unchanged = old && old.status === status && old.reason === reason && old.message === message;
  const ts = now();
  return {
    type,
    status,
    lastUpdateTime: (unchanged ? old.lastUpdateTime : ts) as Json,
    lastTransitionTime: (old && old.status === status ? old.lastTransitionTime : ts) as Json,
    reason,
    message,
  };
}

function deploymentStatus(
  o: JsonObject,
  generation: number,
  n: number,
  state: State,
  prev: JsonObject,
): JsonObject {
  const rs = `${String(meta(o).name)}-${templateHash(o)}`;
  const status: JsonObject = { observedGeneration: generation };
  const counts = (updated: number, ready: number) => {
    if (n > 0) status.replicas = n;
    if (updated > 0) status.updatedReplicas = updated;
    if (ready > 0) {
      status.readyReplicas = ready;
      status.availableReplicas = ready;
    }
    if (n - ready > 0) status.unavailableReplicas = n - ready;
  };
  if (state === 'ready') {
    counts(n, n);
    status.conditions = [
      condition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
        prev,
      ),
      condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${rs}" has successfully progressed.`,
        prev,
      ),
    ];
  } else if (state === 'rolling') {
    counts(0, n);
    status.conditions = [
      condition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
        prev,
      ),
      condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rs}" is progressing.`, prev),
    ];
  } else {
    counts(n, 0);
    status.conditions = [
      condition(
        'Available',
        n === 0 ? 'True' : 'False',
        n === 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        n === 0 ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        prev,
      ),
      condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rs}" is progressing.`, prev),
    ];
  }
  return status;
}

function statefulSetStatus(o: JsonObject, generation: number, n: number, state: State): JsonObject {
  const revision = `${String(meta(o).name)}-${templateHash(o)}`;
  const ready = state === 'unready' ? 0 : n;
  const status: JsonObject = {
    observedGeneration: generation,
    replicas: n,
    currentReplicas: n,
    updatedReplicas: state === 'rolling' ? 0 : n,
    availableReplicas: ready,
    currentRevision: revision,
    updateRevision: revision,
    collisionCount: 0,
  };
  if (ready > 0) status.readyReplicas = ready;
  return status;
}
