import type { Topic } from '../../api/v1alpha1/topic.ts';
import { kafkaTopicName } from '../../api/v1alpha1/topic.ts';
import type { ControllerOptions } from '../../runtime/controller.ts';
import { ensureFinalizer, hasFinalizer, isDeleting, removeFinalizer } from '../../runtime/finalizer.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request, Result } from '../../runtime/reconcile.ts';
import { resolveClaims } from './claims.ts';
import { KafkaUnavailable, TopicRejected } from './errors.ts';
import { KafkaAdminGateways } from './kafka-admin-gateways.ts';
import type { DesiredTopic } from './planner.ts';
import { statusChanged, type TopicResult, topicStatus } from './status.ts';
import { releaseTopic, syncTopic } from './sync.ts';

export const TOPIC_GVK = { apiVersion: 'souk.dev/v1alpha1', kind: 'Topic' } as const;
export const TOPIC_FINALIZER = 'souk.dev/kafka-topic';
const CLAIM_INDEX = 'kafkaTopic';

export interface TopicControllerOptions {
  /** Bootstrap servers (comma-separated) for Topics that name none. */
  readonly defaultBootstrapServers?: string;
  /** Pass one to close its admin connections at shutdown; created when absent. */
  readonly gateways?: KafkaAdminGateways;
  /** Kafka has no watch: every Topic is checked for drift this often. Default 2 min. */
  readonly resyncMs?: number;
  /** Concurrent reconciles; many at once is what lets the gateway batch. Default 32. */
  readonly workers?: number;
}

type TopicObject = Topic & KubeObject;

const splitList = (list: string | undefined) =>
  (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The Kafka cluster of a Topic, as a sorted set of host:port (its identity for gateways and claims). */
export function bootstrapOf(topic: Topic, defaults: string | undefined): string[] {
  const listed = splitList(topic.spec.bootstrapServers);
  return [...new Set(listed.length > 0 ? listed : splitList(defaults))].sort();
}

export function desiredOf(topic: Topic): DesiredTopic {
  return {
    topicName: kafkaTopicName(topic),
    partitions: topic.spec.partitions,
    replicationFactor: topic.spec.replicationFactor,
    config: topic.spec.config ?? {},
    deletionPolicy: topic.spec.deletionPolicy,
  };
}

const keyOf = (t: Topic) => `${t.metadata.namespace ?? ''}/${t.metadata.name}`;

/**
 * The thin reconcile of a Topic on the operator runtime; the decisions live in planner.ts, claims.ts and
 * status.ts, Kafka access in the gateway (see DESIGN.md).
 */
export function topicController(manager: Manager, options: TopicControllerOptions = {}): ControllerOptions {
  const gateways = options.gateways ?? new KafkaAdminGateways();
  const resyncMs = options.resyncMs ?? 120_000;
  const cache = manager.cache<TopicObject>(TOPIC_GVK);
  const recorder = manager.recorder('topic-controller');
  const claimKey = (t: Topic) =>
    `${bootstrapOf(t, options.defaultBootstrapServers).join(',')}|${kafkaTopicName(t)}`;
  cache.addIndex(CLAIM_INDEX, (t) => [claimKey(t)]);

  const writeStatus = async (topic: TopicObject, result: TopicResult): Promise<void> => {
    const status = topicStatus(topic, result);
    if (!statusChanged(topic.status, status)) return;
    await manager.applier.applyStatus({
      apiVersion: TOPIC_GVK.apiVersion,
      kind: TOPIC_GVK.kind,
      metadata: { name: topic.metadata.name, namespace: topic.metadata.namespace },
      status,
    } as KubeObject);
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const before = topic.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && ready.status === 'False' && ready.reason !== before?.reason) {
      recorder.event(topic, 'Warning', ready.reason, ready.message);
    }
  };

  const failureResult = (topicName: string, err: unknown): TopicResult | undefined => {
    if (err instanceof KafkaUnavailable) return { kind: 'KafkaUnavailable', topicName, message: err.message };
    if (err instanceof TopicRejected)
      return { kind: 'KafkaError', topicName, type: err.type, message: err.message };
    return undefined;
  };

  const reconcile = async (req: Request): Promise<Result> => {
    const topic = cache.getByName(req.namespace, req.name);
    if (!topic) return {};
    const desired = desiredOf(topic);
    const bootstrap = bootstrapOf(topic, options.defaultBootstrapServers);
    if (bootstrap.length === 0) {
      if (isDeleting(topic) && !hasFinalizer(topic, TOPIC_FINALIZER)) return {};
      const message = 'no Kafka bootstrap servers: set spec.bootstrapServers or the operator default';
      await writeStatus(topic, { kind: 'KafkaUnavailable', topicName: desired.topicName, message });
      return { requeueAfter: resyncMs };
    }
    const gateway = gateways.for(bootstrap);
    const claims = cache.byIndex(CLAIM_INDEX, claimKey(topic)).map((t) => ({
      key: keyOf(t),
      topicName: desired.topicName,
      creationTimestamp: t.metadata.creationTimestamp ?? '',
    }));
    const verdict = resolveClaims(claims).get(keyOf(topic)) ?? { owner: true };

    if (isDeleting(topic)) {
      if (!hasFinalizer(topic, TOPIC_FINALIZER)) return {};
      if (verdict.owner && desired.deletionPolicy === 'Delete') {
        try {
          const actions = await releaseTopic(gateway, desired);
          if (actions.length > 0)
            recorder.event(topic, 'Normal', 'Deleted', `Deleted Kafka topic ${desired.topicName}`);
        } catch (err) {
          const failure = failureResult(desired.topicName, err);
          if (!failure) throw err;
          await writeStatus(topic, failure);
          return { requeue: true };
        }
      }
      await removeFinalizer(manager.client, topic, TOPIC_FINALIZER);
      return {};
    }

    if (!verdict.owner) {
      const current = await removeFinalizer(manager.client, topic, TOPIC_FINALIZER);
      await writeStatus(current, {
        kind: 'ResourceConflict',
        topicName: desired.topicName,
        ownedBy: verdict.ownedBy,
      });
      return { requeueAfter: resyncMs };
    }

    const current =
      desired.deletionPolicy === 'Delete'
        ? await ensureFinalizer(manager.client, topic, TOPIC_FINALIZER)
        : await removeFinalizer(manager.client, topic, TOPIC_FINALIZER);

    let result: TopicResult;
    try {
      const outcome = await syncTopic(gateway, desired);
      result = { kind: 'Synced', topicName: desired.topicName, outcome };
      if (outcome.kind === 'Applied') {
        const what = outcome.actions.map((a) => a.type).join(', ');
        recorder.event(topic, 'Normal', 'Synced', `Kafka topic ${desired.topicName}: ${what}`);
      }
    } catch (err) {
      const failure = failureResult(desired.topicName, err);
      if (!failure) throw err;
      result = failure;
    }
    await writeStatus(current, result);
    if (result.kind === 'KafkaUnavailable') return { requeue: true };
    if (result.kind === 'KafkaError' && result.type === 'CONCURRENT_CHANGE') return { requeue: true };
    return { requeueAfter: resyncMs };
  };

  return {
    name: 'topic',
    for: TOPIC_GVK,
    // Any event on a Topic wakes the other claimants of its Kafka topic (an owner leaving hands it over).
    watches: [
      {
        kind: TOPIC_GVK,
        map: (obj) =>
          cache
            .byIndex(CLAIM_INDEX, claimKey(obj as TopicObject))
            .filter((t) => keyOf(t) !== keyOf(obj as TopicObject))
            .map((t) => ({ namespace: t.metadata.namespace, name: t.metadata.name })),
      },
    ],
    reconcile,
    workers: options.workers ?? 32,
  };
}
