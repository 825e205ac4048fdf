import { createHash } from 'node:crypto';
import type { ItemFilter, Position, Sort } from './item.ts';

/** A cursor is opaque to clients: base64url JSON of the position, bound to the sort and filter. */
interface Payload {
  s: Sort;
  f: string;
  v: string | number;
  i: string;
}

export class InvalidCursor extends Error {
  override name = 'InvalidCursor';
}

export function filterFingerprint(filter: ItemFilter): string {
  const canonical = JSON.stringify(
    Object.entries(filter)
      .filter(([, v]) => v !== undefined)
      .sort(),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodeCursor(position: Position, sort: Sort, filter: ItemFilter): string {
  const payload: Payload = { s: sort, f: filterFingerprint(filter), v: position.value, i: position.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string, sort: Sort, filter: ItemFilter): Position {
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Payload;
  } catch {
    throw new InvalidCursor('cursor is not one this service issued');
  }
  if (
    typeof payload !== 'object' ||
    payload === null ||
    typeof payload.i !== 'string' ||
    !UUID.test(payload.i) ||
    (typeof payload.v !== 'string' && typeof payload.v !== 'number')
  ) {
    throw new InvalidCursor('cursor is not one this service issued');
  }
  if (payload.s !== sort || payload.f !== filterFingerprint(filter)) {
    throw new InvalidCursor('cursor belongs to another sort or filter; start again without it');
  }
  if (sort.endsWith('createdAt') && Number.isNaN(Date.parse(String(payload.v)))) {
    throw new InvalidCursor('cursor is not one this service issued');
  }
  if (sort.endsWith('price') && typeof payload.v !== 'number') {
    throw new InvalidCursor('cursor is not one this service issued');
  }
  return { value: payload.v, id: payload.i };
}
