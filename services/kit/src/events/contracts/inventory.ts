import { z } from 'zod';
import { defineAggregate, defineEvent } from './contract.ts';
import { cents, currency, id, stockLine, timestamp } from './fields.ts';

/**
 * Item events are keyed by item id; reservation events by order id, so the reservation steps of
 * one order stay in order for the saga.
 */
export const items = defineAggregate('Item', 'inventory.events');
export const reservations = defineAggregate('Reservation', 'inventory.events');

/** Whether the owner offers the item; independent of the quantity left. */
const availability = z.enum(['available', 'unavailable']);

export const ItemCreated = defineEvent({
  aggregate: items,
  type: 'ItemCreated',
  version: 1,
  data: z.object({
    itemId: id,
    ownerId: id,
    title: z.string().min(1).max(200),
    description: z.string().max(5000),
    priceCents: cents,
    currency,
    quantity: z.int().min(0),
    availability,
  }),
});

export const ItemUpdated = defineEvent({
  aggregate: items,
  type: 'ItemUpdated',
  version: 1,
  data: z.object({
    itemId: id,
    changes: z.object({
      title: z.string().min(1).max(200).optional(),
      description: z.string().max(5000).optional(),
      priceCents: cents.optional(),
      currency: currency.optional(),
      quantity: z.int().min(0).optional(),
      availability: availability.optional(),
    }),
  }),
});

export const ItemDeleted = defineEvent({
  aggregate: items,
  type: 'ItemDeleted',
  version: 1,
  data: z.object({ itemId: id }),
});

export const StockReserved = defineEvent({
  aggregate: reservations,
  type: 'StockReserved',
  version: 1,
  data: z.object({
    orderId: id,
    reservationId: id,
    lines: z.array(stockLine).min(1),
    /** Unless the order confirms before this, the reservation is released. */
    expiresAt: timestamp,
  }),
});

export const StockRejected = defineEvent({
  aggregate: reservations,
  type: 'StockRejected',
  version: 1,
  data: z.object({
    orderId: id,
    reason: z.enum(['out_of_stock', 'item_not_found']),
    itemIds: z.array(id),
  }),
});

export const StockReleased = defineEvent({
  aggregate: reservations,
  type: 'StockReleased',
  version: 1,
  data: z.object({
    orderId: id,
    reservationId: id,
    lines: z.array(stockLine).min(1),
    reason: z.enum(['order_cancelled', 'expired']),
  }),
});

export const inventoryEvents = [
  ItemCreated,
  ItemUpdated,
  ItemDeleted,
  StockReserved,
  StockRejected,
  StockReleased,
] as const;
