import type { KafkaAdminGateway } from './kafka-admin-gateway.ts';
import {
  type DesiredTopic,
  type ObservedTopic,
  planDeletion,
  planTopic,
  type TopicAction,
} from './planner.ts';

export type TopicAdmin = Pick<KafkaAdminGateway, 'observe' | 'apply'>;

export type SyncOutcome =
  | { readonly kind: 'InSync'; readonly observed: ObservedTopic }
  | { readonly kind: 'Applied'; readonly observed: ObservedTopic; readonly actions: readonly TopicAction[] }
  | { readonly kind: 'NotSupported'; readonly observed: ObservedTopic; readonly reasons: readonly string[] };

/**
 * One pass of the Kafka side of a Topic: observe, plan, apply. Throws KafkaUnavailable or TopicRejected
 * from the gateway; NotSupported comes back as an outcome, with nothing in Kafka touched.
 */
export async function syncTopic(admin: TopicAdmin, desired: DesiredTopic): Promise<SyncOutcome> {
  const observed = await admin.observe(desired.topicName);
  const plan = planTopic(desired, observed);
  if (plan.kind === 'InSync') return { kind: 'InSync', observed };
  if (plan.kind === 'NotSupported') return { kind: 'NotSupported', observed, reasons: plan.reasons };
  await Promise.all(plan.actions.map((a) => admin.apply(a)));
  return { kind: 'Applied', observed, actions: plan.actions };
}

/** The Kafka side of deleting a Topic: removes the Kafka topic only under deletionPolicy Delete. */
export async function releaseTopic(
  admin: TopicAdmin,
  desired: DesiredTopic,
): Promise<readonly TopicAction[]> {
  if (desired.deletionPolicy !== 'Delete') return [];
  const actions = planDeletion(desired, await admin.observe(desired.topicName));
  await Promise.all(actions.map((a) => admin.apply(a)));
  return actions;
}
