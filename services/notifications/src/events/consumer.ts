import type { Logger, Metrics, Shutdown } from '@souk/kit';
import {
  EventConsumer,
  type EventContract,
  type EventEnvelope,
  type EventHandler,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  on,
  orderEvents,
  PaymentDeclined,
  PaymentRefunded,
  PaymentRequested,
  paymentEvents,
  UserDeleted,
  UserRegistered,
  UserUpdated,
  userEvents,
} from '@souk/kit/events/index';
import type { Kafka } from 'kafkajs';
import type { NotificationsDb, Tx } from '../data/database.ts';
import { messages } from '../domain/messages.ts';
import type { NotificationsMetrics } from '../domain/metrics.ts';
import type { Notifier, Stored } from '../domain/notifier.ts';
import type { EventSummary } from './fanout.ts';

/** What one event did, handed over once its transaction committed. */
export interface Committed {
  event: EventSummary;
  stored: Stored | undefined;
  deletedUser: string | undefined;
}

export interface NotificationConsumerOptions {
  kafka: Kafka;
  db: NotificationsDb;
  notifier: Notifier;
  groupId: string;
  resolveTopic: (topic: string) => string;
  counters: NotificationsMetrics;
  metrics: Metrics;
  logger: Logger;
  shutdown: Shutdown;
  onCommitted: (result: Committed) => void;
}

/**
 * Every event of users.events, orders.events and payments.events, through the kit's inbox: the
 * outcomes a user cares about become notifications, and every event goes to the admin stream.
 * A payment outcome for an order not seen yet (the topics are read independently) fails and is
 * retried with backoff until OrderPlaced has been handled.
 */
export function notificationConsumer(options: NotificationConsumerOptions): EventConsumer<Tx> {
  const { notifier } = options;
  const results = new Map<string, Committed>();
  const record = (event: EventEnvelope, topic: string, stored?: Stored, deletedUser?: string) => {
    results.set(event.id, {
      event: {
        id: event.id,
        type: event.type,
        aggregateType: event.aggregateType,
        aggregateId: event.aggregateId,
        occurredAt: event.occurredAt,
        topic,
      },
      stored,
      deletedUser,
    });
  };

  // Events of different keys share a chunk's transaction: prepare takes the chunk's locks (order
  // owners, then the users' counters) in one order first, so two chunks cannot deadlock.
  type OwnedEvent = { data: { orderId: string; userId: string } };
  const owners = (events: OwnedEvent[]) => events.map((e) => e.data);
  const remembers = {
    prepare: (events: OwnedEvent[], tx: Tx) => notifier.lockChunk(tx, { owners: owners(events) }),
  };
  const notifies = {
    prepare: (events: OwnedEvent[], tx: Tx) =>
      notifier.lockChunk(tx, { owners: owners(events), users: events.map((e) => e.data.userId) }),
  };
  const notifiesOwner = {
    prepare: (events: { data: { orderId: string } }[], tx: Tx) =>
      notifier.lockChunk(tx, { ownedOrders: events.map((e) => e.data.orderId) }),
  };

  const specific: EventHandler<Tx>[] = [
    on(
      UserRegistered,
      async (e, tx: Tx, d) => {
        await notifier.registered(tx, e.data.userId, e.data.email, e.data.displayName);
        record(
          e,
          d.topic,
          await notifier.notify(tx, e.id, e.data.userId, messages.welcome(e.data.displayName)),
        );
      },
      { prepare: (events, tx: Tx) => notifier.lockChunk(tx, { users: events.map((e) => e.data.userId) }) },
    ),
    on(UserUpdated, async (e, tx: Tx, d) => {
      await notifier.updated(tx, e.data.userId, e.data.changes);
      record(e, d.topic);
    }),
    on(UserDeleted, async (e, tx: Tx, d) => {
      await notifier.deleted(tx, e.data.userId);
      record(e, d.topic, undefined, e.data.userId);
    }),
    on(
      OrderPlaced,
      async (e, tx: Tx, d) => {
        await notifier.rememberOrder(tx, e.data.orderId, e.data.userId);
        record(e, d.topic);
      },
      remembers,
    ),
    on(
      PaymentRequested,
      async (e, tx: Tx, d) => {
        await notifier.rememberOrder(tx, e.data.orderId, e.data.userId);
        record(e, d.topic);
      },
      remembers,
    ),
    on(
      OrderConfirmed,
      async (e, tx: Tx, d) => {
        await notifier.rememberOrder(tx, e.data.orderId, e.data.userId);
        record(e, d.topic, await notifier.notify(tx, e.id, e.data.userId, messages.orderConfirmed(e.data)));
      },
      notifies,
    ),
    on(
      OrderCancelled,
      async (e, tx: Tx, d) => {
        await notifier.rememberOrder(tx, e.data.orderId, e.data.userId);
        record(e, d.topic, await notifier.notify(tx, e.id, e.data.userId, messages.orderCancelled(e.data)));
      },
      notifies,
    ),
    on(
      PaymentDeclined,
      async (e, tx: Tx, d) => {
        record(
          e,
          d.topic,
          await notifier.notifyOrderOwner(tx, e.id, e.data.orderId, messages.paymentDeclined(e.data)),
        );
      },
      notifiesOwner,
    ),
    on(
      PaymentRefunded,
      async (e, tx: Tx, d) => {
        record(
          e,
          d.topic,
          await notifier.notifyOrderOwner(tx, e.id, e.data.orderId, messages.paymentRefunded(e.data)),
        );
      },
      notifiesOwner,
    ),
  ];
  const handled = new Set(specific.map((h) => h.contract.key));
  // The rest only feeds the admin stream.
  const relayOnly = [...userEvents, ...orderEvents, ...paymentEvents]
    .filter((c: EventContract) => !handled.has(c.key))
    .map((c: EventContract) => on(c, async (e: EventEnvelope, _tx: Tx, d) => record(e, d.topic)));

  return new EventConsumer<Tx>({
    kafka: options.kafka,
    groupId: options.groupId,
    db: options.db.primary,
    handlers: [...specific, ...relayOnly],
    resolveTopic: options.resolveTopic,
    metrics: options.metrics,
    logger: options.logger,
    shutdown: options.shutdown,
    maxAttempts: 8,
    backoff: { initialMs: 500, maxMs: 5_000 },
    sessionTimeout: 6_000,
    maxWaitTimeInMs: 100,
    onOutcome: (outcome, event) => {
      const result = event.id ? results.get(event.id) : undefined;
      if (event.id) results.delete(event.id);
      if (outcome !== 'processed' || !result) return;
      if (result.stored) options.counters.stored.inc({ kind: result.stored.notification.kind });
      options.onCommitted(result);
    },
  });
}
