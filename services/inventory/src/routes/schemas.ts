import { z } from 'zod';
import { SORTS } from '../domain/item.ts';

const availability = z.enum(['available', 'unavailable']);

export const ItemBody = z.object({
  id: z.uuid(),
  ownerId: z.uuid(),
  title: z.string(),
  description: z.string(),
  priceCents: z.int().describe('price in minor units of `currency`'),
  currency: z.string().describe('ISO 4217 code'),
  quantity: z.int().describe('units that can still be reserved'),
  availability,
  version: z.int().describe('also the ETag'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const fields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  priceCents: z.int().min(0).max(2_147_483_647),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code in capitals, e.g. EUR'),
  quantity: z.int().min(0).max(1_000_000_000),
  availability,
};

/** POST and PUT: every field; description and availability have defaults. */
export const ItemInput = z.strictObject({
  ...fields,
  description: fields.description.default(''),
  availability: availability.default('available'),
});

/** PATCH (JSON merge patch of the owner's fields): at least one of them. */
export const ItemPatch = z
  .strictObject(fields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'change at least one field' });

const price = z.coerce.number().int().min(0).max(2_147_483_647);

export const ListQuery = z
  .object({
    cursor: z.string().min(1).max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    owner: z.uuid().optional(),
    availability: availability.optional(),
    minPrice: price.optional().describe('minimum priceCents, inclusive'),
    maxPrice: price.optional().describe('maximum priceCents, inclusive'),
    currency: fields.currency.optional(),
    q: z.string().trim().min(1).max(100).optional().describe('case-insensitive text in the title'),
    sort: z.enum(SORTS).default('-createdAt').describe('a leading - sorts descending'),
  })
  .refine((q) => q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice, {
    message: 'must not be below minPrice',
    path: ['maxPrice'],
  });

export const Page = z.object({ items: z.array(ItemBody), nextCursor: z.string().nullable() });

export const ItemParams = z.object({ id: z.uuid() });
