import { z } from 'zod';

/** Field shapes several contracts share, so one concept is spelled one way on the wire. */
export const id = z.uuid();
export const cents = z.int().min(0);
export const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code');
export const quantity = z.int().positive();
export const timestamp = z.iso.datetime({ offset: true });
export const orderLine = z.object({ itemId: id, quantity, unitPriceCents: cents });
export const stockLine = z.object({ itemId: id, quantity });
