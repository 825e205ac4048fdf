import { z } from 'zod';
import { defineAggregate, defineEvent } from './contract.ts';
import { cents, currency, id, stockLine } from './fields.ts';

/**
 * Item events are keyed by item id; reservation events by order id, so the reservation steps of
 * one order stay in order for the saga.
 */
export const items = defineAggregate('Item', 'inventory.events');
export const reservations = defineAggregate('Reservation', 'inventory.events');

export const ItemCreated = defineEvent({
  aggregate: items,
  type: 'ItemCreated',
  version: 1,
  data: z.object({
    itemId: id,
    ownerId: id,
    name: z.string().min(1).max(200),
    description: z.string().max(5000).optional(),
    priceCents: cents,
    currency,
    stock: z.int().min(0),
    shared: z.boolean(),
  }),
});

export const ItemUpdated = defineEvent({
  aggregate: items,
  type: 'ItemUpdated',
  version: 1,
  data: z.object({
    itemId: id,
    changes: z.object({
      name: z.string().min(1).max(200).optional(),
      description: z.string().max(5000).optional(),
      priceCents: cents.optional(),
      stock: z.int().min(0).optional(),
      shared: z.boolean().optional(),
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
  data: z.object({ orderId: id, reservationId: id, lines: z.array(stockLine).min(1) }),
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
  data: z.object({ orderId: id, reservationId: id, lines: z.array(stockLine).min(1) }),
});

export const inventoryEvents = [
  ItemCreated,
  ItemUpdated,
  ItemDeleted,
  StockReserved,
  StockRejected,
  StockReleased,
] as const;
