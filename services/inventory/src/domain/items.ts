import { createHash } from 'node:crypto';
import type { Cache } from '@souk/kit';
import type { RecentWrites } from '@souk/kit/db/recent-writes';
import { appendToOutbox, ItemCreated, ItemDeleted, ItemUpdated, uuidv7 } from '@souk/kit/events/index';
import type { InventoryDb } from '../data/database.ts';
import {
  deleteItem,
  findItem,
  insertItem,
  listItems,
  lockItem,
  positionOf,
  updateItem,
} from '../data/items.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ItemNotFound, NotOwner, VersionMismatch } from './errors.ts';
import type { Item, ItemFields, ItemFilter, Sort } from './item.ts';

/** An item as the API shows it (and the cache keeps it): its times as ISO strings. */
export type ItemView = Omit<Item, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

export interface Page {
  items: ItemView[];
  nextCursor: string | null;
}

export interface Actor {
  sub: string;
  roles: string[];
}

/** If-Match: `*` matches any current version, a list of versions only those. */
export type Precondition = number[] | '*';

export function toView(item: Item): ItemView {
  return { ...item, createdAt: item.createdAt.toISOString(), updatedAt: item.updatedAt.toISOString() };
}

/** Every list page is filed under this tag, so any change to any item drops them all. */
const LIST_TAG = 'items';
const itemKey = (id: string) => `item:${id}`;

function mayWrite(actor: Actor, item: Item): boolean {
  return actor.sub === item.ownerId || actor.roles.includes('admin');
}

function changedFields(before: Item, after: Item): Partial<ItemFields> {
  const changes: Partial<ItemFields> = {};
  for (const field of [
    'title',
    'description',
    'priceCents',
    'currency',
    'quantity',
    'availability',
  ] as const) {
    if (before[field] !== after[field]) (changes as Record<string, unknown>)[field] = after[field];
  }
  return changes;
}

/**
 * Items: public reads through the cache (from the replica), owner writes on the primary with their
 * event in the same transaction.
 *
 * Cache invalidation happens twice. Right after the commit, the writing replica refreshes the item's
 * entry and drops the list pages, so its caller reads its own write. Then every change event
 * (including stock moves by reservations) is consumed from inventory.events and drops the entries
 * again: this covers a fill by another replica that read the old row just before the commit (its
 * write-back can land after the first invalidation), a replica read that lagged behind the primary,
 * and a crash between commit and invalidation.
 */
export class ItemCatalog {
  constructor(
    private readonly db: InventoryDb,
    private readonly cache: Cache,
    private readonly ttl: { itemMs: number; listMs: number },
    /** Items and owners written lately: their reads go to the primary (see #reader). */
    private readonly written: Pick<RecentWrites, 'mark' | 'recent'>,
  ) {}

  /** Undefined when there is no such item (null in the cache is the tombstone of a deletion). */
  async get(id: string): Promise<ItemView | undefined> {
    const view = await this.cache.get<ItemView | null | undefined>(
      itemKey(id),
      async () => {
        const item = await findItem(await this.#reader(`item:${id}`), id);
        return item ? toView(item) : undefined;
      },
      { ttlMs: this.ttl.itemMs },
    );
    return view ?? undefined;
  }

  /** Throws InvalidCursor for a cursor of another sort or filter. */
  list(filter: ItemFilter, sort: Sort, limit: number, cursor?: string): Promise<Page> {
    const after = cursor ? decodeCursor(cursor, sort, filter) : undefined;
    const key = createHash('sha256')
      .update(JSON.stringify([filter, sort, limit, cursor ?? null]))
      .digest('base64url');
    return this.cache.get(
      `items:${key}`,
      async () => {
        const reader = filter.ownerId ? await this.#reader(`owner:${filter.ownerId}`) : this.db.client;
        const items = await listItems(reader, filter, sort, limit + 1, after);
        const page = items.slice(0, limit);
        const last = page.at(-1);
        return {
          items: page.map(toView),
          nextCursor:
            items.length > limit && last ? encodeCursor(positionOf(last, sort), sort, filter) : null,
        };
      },
      { ttlMs: this.ttl.listMs, tags: [LIST_TAG] },
    );
  }

  async create(actor: Actor, fields: ItemFields): Promise<ItemView> {
    const id = uuidv7();
    const item = await this.db.primary.$transaction(async (tx) => {
      const created = await insertItem(tx, id, actor.sub, fields);
      await appendToOutbox(tx, ItemCreated.create(id, { itemId: id, ownerId: actor.sub, ...fields }));
      return created;
    });
    const view = toView(item);
    await this.#refresh(view);
    await this.#wrote(id, actor.sub);
    return view;
  }

  /** Replaces (PUT) or merges (PATCH) the owner's fields; `expected` is the If-Match version. */
  async update(
    actor: Actor,
    id: string,
    expected: Precondition,
    changes: Partial<ItemFields>,
  ): Promise<ItemView> {
    const item = await this.db.primary.$transaction(async (tx) => {
      const before = await lockItem(tx, id);
      if (!before) throw new ItemNotFound(id);
      if (!mayWrite(actor, before)) throw new NotOwner(id);
      if (expected !== '*' && !expected.includes(before.version)) throw new VersionMismatch(before.version);
      const after = await updateItem(tx, id, changes);
      await appendToOutbox(tx, ItemUpdated.create(id, { itemId: id, changes: changedFields(before, after) }));
      return after;
    });
    const view = toView(item);
    await this.#refresh(view);
    await this.#wrote(id, item.ownerId);
    return view;
  }

  async delete(actor: Actor, id: string, expected: Precondition): Promise<void> {
    const owner = await this.db.primary.$transaction(async (tx) => {
      const before = await lockItem(tx, id);
      if (!before) throw new ItemNotFound(id);
      if (!mayWrite(actor, before)) throw new NotOwner(id);
      if (expected !== '*' && !expected.includes(before.version)) throw new VersionMismatch(before.version);
      await deleteItem(tx, id);
      await appendToOutbox(tx, ItemDeleted.create(id, { itemId: id }));
      return before.ownerId;
    });
    await this.#wrote(id, owner);
    // A tombstone rather than a plain drop: the next read would go to the replica, which may not
    // have seen the delete yet, and cache the item again. The ItemDeleted event drops it later.
    await Promise.all([
      this.cache.set(itemKey(id), null, { ttlMs: this.ttl.itemMs }),
      this.cache.invalidateTag(LIST_TAG),
    ]).catch(() => {});
  }

  /** Drops the items' entries and every list page (from change events). */
  async invalidate(itemIds: readonly string[]): Promise<void> {
    await Promise.all([
      itemIds.length > 0 ? this.cache.invalidate(...itemIds.map(itemKey)) : undefined,
      this.cache.invalidateTag(LIST_TAG),
    ]);
  }

  /**
   * Where a read that missed the cache goes: the primary when the item (or owner's list) was written
   * lately, or when that cannot be told (Redis failing), so a writer reads its own write even while
   * the cache that normally carries it is down; the replica otherwise.
   */
  async #reader(mark: string): Promise<InventoryDb['primary'] | InventoryDb['client']> {
    const recent = await this.written.recent(mark).catch(() => true);
    return recent ? this.db.primary : this.db.client;
  }

  async #wrote(itemId: string, ownerId: string): Promise<void> {
    // Best effort, like #refresh: a failed mark leaves reads to `recent`, which fails towards the primary.
    await Promise.all([this.written.mark(`item:${itemId}`), this.written.mark(`owner:${ownerId}`)]).catch(
      () => {},
    );
  }

  async #refresh(view: ItemView): Promise<void> {
    // Best effort: the change event drops the entries again if Redis missed this.
    await Promise.all([
      this.cache.set(itemKey(view.id), view, { ttlMs: this.ttl.itemMs }),
      this.cache.invalidateTag(LIST_TAG),
    ]).catch(() => {});
  }
}
