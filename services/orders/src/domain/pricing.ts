import type { HttpClient } from '@souk/kit';
import { unprocessable } from '@souk/kit';
import { z } from 'zod';

const Item = z.object({
  id: z.string(),
  title: z.string(),
  priceCents: z.int().min(0),
  currency: z.string(),
});

export interface PricedLine {
  itemId: string;
  title: string;
  quantity: number;
  unitPriceCents: number;
}

/**
 * Prices the lines from inventory's public item endpoint at placement, through the kit's HTTP
 * client (timeout, retries of the idempotent GET, circuit breaker). An unknown item is a 422
 * naming its line; inventory unreachable is the client's 503 problem, and no order is created.
 */
export async function priceLines(
  inventory: HttpClient,
  lines: { itemId: string; quantity: number }[],
  signal?: AbortSignal,
): Promise<{ lines: PricedLine[]; totalCents: number; currency: string }> {
  const items = await Promise.all(
    [...new Set(lines.map((l) => l.itemId))].map(async (id) => {
      const res = await inventory.get(`/items/${id}`, signal ? { signal } : {});
      if (res.status === 404) {
        await res.body?.cancel();
        return [id, undefined] as const;
      }
      if (!res.ok) throw new Error(`inventory answered ${res.status} for item ${id}`);
      return [id, Item.parse(await res.json())] as const;
    }),
  );
  const byId = new Map(items);
  const errors = [];
  const priced: PricedLine[] = [];
  let currency: string | undefined;
  for (const [i, line] of lines.entries()) {
    const item = byId.get(line.itemId);
    const where = { in: 'body' as const, pointer: `/lines/${i}/itemId`, field: `lines.${i}.itemId` };
    if (!item) {
      errors.push({ ...where, message: 'no such item' });
      continue;
    }
    currency ??= item.currency;
    if (item.currency !== currency) {
      errors.push({
        ...where,
        message: `priced in ${item.currency}; an order has one currency (${currency})`,
      });
      continue;
    }
    priced.push({
      itemId: item.id,
      title: item.title,
      quantity: line.quantity,
      unitPriceCents: item.priceCents,
    });
  }
  if (errors.length > 0) throw unprocessable('some lines cannot be ordered', errors);
  const totalCents = priced.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
  if (!Number.isSafeInteger(totalCents) || totalCents > 2_147_483_647) {
    throw unprocessable('the order total is too large', [
      { in: 'body', pointer: '/lines', field: 'lines', message: 'total exceeds the maximum amount' },
    ]);
  }
  return { lines: priced, totalCents, currency: currency! };
}
