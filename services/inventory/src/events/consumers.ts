import type { Logger, Metrics, Shutdown } from '@souk/kit';
import {
  EventConsumer,
  ItemCreated,
  ItemDeleted,
  ItemUpdated,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  on,
  StockReleased,
  StockReserved,
} from '@souk/kit/events/index';
import type { Kafka } from 'kafkajs';
import type { InventoryDb, Tx } from '../data/database.ts';
import type { ItemCatalog } from '../domain/items.ts';
import type { ReservationCounter } from '../domain/metrics.ts';
import {
  commit,
  lockForRelease,
  lockForReserve,
  type ReservationOutcome,
  release,
  reserve,
} from '../domain/reservations.ts';

interface Common {
  kafka: Kafka;
  db: InventoryDb;
  resolveTopic: (topic: string) => string;
  /** Prepended to the consumer group ids (one namespace per environment or test, like the topics). */
  groupPrefix: string;
  metrics: Metrics;
  logger: Logger;
  shutdown: Shutdown;
}

/**
 * The saga's stock steps, from orders.events: OrderPlaced reserves, OrderCancelled releases,
 * OrderConfirmed commits. Each runs in the inbox transaction, so a redelivered event is skipped;
 * each step is idempotent by order id as well, for a step the orders service sends again.
 * Results are counted and the cache of the items whose stock moved is dropped once committed.
 */
export function reservationConsumer(
  options: Common & { reservationTtlMs: number; count: ReservationCounter; catalog: ItemCatalog },
): EventConsumer<Tx> {
  const pending = new Map<string, ReservationOutcome>();
  const remember = (eventId: string) => (outcome: ReservationOutcome) => {
    pending.set(eventId, outcome);
  };
  return new EventConsumer<Tx>({
    kafka: options.kafka,
    groupId: `${options.groupPrefix}inventory-reservations`,
    db: options.db.primary,
    resolveTopic: options.resolveTopic,
    metrics: options.metrics,
    logger: options.logger,
    shutdown: options.shutdown,
    handlers: [
      // A chunk of these shares a transaction: prepare takes all its locks in one order first.
      on(
        OrderPlaced,
        (event, tx: Tx) => reserve(tx, event.data, options.reservationTtlMs).then(remember(event.id)),
        {
          prepare: (events, tx: Tx) =>
            lockForReserve(
              tx,
              events.map((e) => e.data),
            ),
        },
      ),
      on(
        OrderCancelled,
        (event, tx: Tx) => release(tx, event.data.orderId, 'order_cancelled').then(remember(event.id)),
        {
          prepare: (events, tx: Tx) =>
            lockForRelease(
              tx,
              events.map((e) => e.data.orderId),
            ),
        },
      ),
      on(OrderConfirmed, (event, tx: Tx) => commit(tx, event.data.orderId).then(remember(event.id))),
    ],
    onOutcome: (outcome, event) => {
      const done = event.id ? pending.get(event.id) : undefined;
      if (event.id) pending.delete(event.id);
      if (outcome === 'duplicate') options.count('duplicate');
      if (outcome !== 'processed' || !done) return;
      options.count(done.result);
      if (done.oversold) {
        options.logger.error(
          done.oversold,
          'order confirmed after its reservation expired and the stock is gone: oversold, to backorder or refund',
        );
      }
      if (done.itemIds.length > 0) {
        options.catalog.invalidate(done.itemIds).catch((error: unknown) => {
          options.logger.warn({ err: error }, 'cache invalidation after a stock move failed');
        });
      }
    },
  });
}

/**
 * Drops cached items and list pages on every item change and stock move of inventory.events,
 * whichever replica made it (see ItemCatalog). A Redis failure fails the handler, so the event is
 * retried rather than leaving a stale entry behind.
 */
export function cacheInvalidationConsumer(options: Common & { catalog: ItemCatalog }): EventConsumer<Tx> {
  const drop = (itemIds: string[]) => options.catalog.invalidate(itemIds);
  return new EventConsumer<Tx>({
    kafka: options.kafka,
    groupId: `${options.groupPrefix}inventory-cache`,
    db: options.db.primary,
    resolveTopic: options.resolveTopic,
    metrics: options.metrics,
    logger: options.logger,
    shutdown: options.shutdown,
    handlers: [
      on(ItemCreated, (event) => drop([event.data.itemId])),
      on(ItemUpdated, (event) => drop([event.data.itemId])),
      on(ItemDeleted, (event) => drop([event.data.itemId])),
      on(StockReserved, (event) => drop(event.data.lines.map((l) => l.itemId))),
      on(StockReleased, (event) => drop(event.data.lines.map((l) => l.itemId))),
    ],
  });
}
