import type { Item, ItemFields, ItemFilter, Position, Sort } from '../domain/item.ts';
import type { Prisma, PrismaClient, Tx } from './database.ts';

type Row = Prisma.ItemGetPayload<object>;
type Reader = Pick<PrismaClient, 'item'> | Tx;

function toItem(row: Row): Item {
  return { ...row, currency: row.currency.trim() };
}

const COLUMN = { price: 'priceCents', createdAt: 'createdAt', title: 'title' } as const;

export function sortColumn(sort: Sort): 'priceCents' | 'createdAt' | 'title' {
  return COLUMN[sort.replace('-', '') as keyof typeof COLUMN];
}

/** The sort key of an item as it goes into a cursor. */
export function positionOf(item: Item, sort: Sort): Position {
  const column = sortColumn(sort);
  const value = column === 'createdAt' ? item.createdAt.toISOString() : item[column];
  return { value, id: item.id };
}

export async function findItem(db: Reader, id: string): Promise<Item | undefined> {
  const row = await db.item.findUnique({ where: { id } });
  return row ? toItem(row) : undefined;
}

/** Locks the row for the rest of the transaction (writers of one item go one at a time). */
export async function lockItem(tx: Tx, id: string): Promise<Item | undefined> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM items WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) return undefined;
  return findItem(tx, id);
}

/**
 * A page in a stable order: the sort column, then id, so equal keys never swap between pages.
 * Keyset pagination: the next page starts strictly after `after`, so rows inserted or deleted
 * meanwhile shift nothing.
 */
export async function listItems(
  db: Reader,
  filter: ItemFilter,
  sort: Sort,
  limit: number,
  after?: Position,
): Promise<Item[]> {
  const column = sortColumn(sort);
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const where: Prisma.ItemWhereInput = {
    ...(filter.ownerId ? { ownerId: filter.ownerId } : {}),
    ...(filter.availability ? { availability: filter.availability } : {}),
    ...(filter.currency ? { currency: filter.currency } : {}),
    ...(filter.q ? { title: { contains: filter.q, mode: 'insensitive' as const } } : {}),
    ...(filter.minPriceCents !== undefined || filter.maxPriceCents !== undefined
      ? {
          priceCents: {
            ...(filter.minPriceCents !== undefined ? { gte: filter.minPriceCents } : {}),
            ...(filter.maxPriceCents !== undefined ? { lte: filter.maxPriceCents } : {}),
          },
        }
      : {}),
  };
  const and: Prisma.ItemWhereInput[] = [where];
  if (after) {
    const value = column === 'createdAt' ? new Date(after.value) : after.value;
    const beyond = direction === 'asc' ? 'gt' : 'lt';
    and.push({
      OR: [{ [column]: { [beyond]: value } }, { [column]: value, id: { [beyond]: after.id } }],
    });
  }
  const rows = await db.item.findMany({
    where: { AND: and },
    orderBy: [{ [column]: direction }, { id: direction }],
    take: limit,
  });
  return rows.map(toItem);
}

export async function insertItem(tx: Tx, id: string, ownerId: string, fields: ItemFields): Promise<Item> {
  return toItem(await tx.item.create({ data: { id, ownerId, ...fields } }));
}

export async function updateItem(tx: Tx, id: string, changes: Partial<ItemFields>): Promise<Item> {
  return toItem(
    await tx.item.update({
      where: { id },
      data: { ...changes, version: { increment: 1 }, updatedAt: new Date() },
    }),
  );
}

export async function deleteItem(tx: Tx, id: string): Promise<void> {
  await tx.item.delete({ where: { id } });
}
