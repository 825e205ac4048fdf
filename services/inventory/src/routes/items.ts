import { defineRoute, forbidden, type Middleware, notFound, Problem, type Route } from '@souk/kit';
import { InvalidCursor } from '../domain/cursor.ts';
import { ItemNotFound, NotOwner, VersionMismatch } from '../domain/errors.ts';
import type { ItemFilter } from '../domain/item.ts';
import type { Actor, ItemCatalog } from '../domain/items.ts';
import { etagOf, ifMatch, preconditionFailed } from './preconditions.ts';
import { ItemBody, ItemInput, ItemParams, ItemPatch, ListQuery, Page } from './schemas.ts';

const problem = (description: string) => ({ description });

const readProblems = {
  400: problem('A parameter is invalid; `errors` names it'),
};

const writeProblems = {
  401: problem('No token, or a token that is invalid, expired or revoked'),
  403: problem('Only the owner or an admin may change the item'),
  404: problem('No such item'),
  412: problem('If-Match does not name the current version'),
  422: problem('The body is invalid; `errors` names the field'),
  428: problem('If-Match is required'),
  503: problem('Tokens cannot be checked right now (users unavailable)'),
};

function actorOf(ctx: { state: { principal?: { sub: string; roles: string[] } } }): Actor {
  const principal = ctx.state.principal;
  if (!principal)
    throw new Problem(401, { detail: 'bearer token required', headers: { 'WWW-Authenticate': 'Bearer' } });
  return { sub: principal.sub, roles: principal.roles };
}

function mapDomainError(error: unknown): never {
  if (error instanceof ItemNotFound) throw notFound('no such item');
  if (error instanceof NotOwner) throw forbidden('only the owner or an admin may change this item');
  if (error instanceof VersionMismatch) throw preconditionFailed(error.current);
  throw error;
}

export function itemRoutes(catalog: ItemCatalog, auth: Middleware): Route[] {
  const listItems = defineRoute({
    method: 'GET',
    path: '/items',
    name: 'listItems',
    summary: 'Items, a page at a time (public, cached)',
    description:
      'Keyset pagination: pass `nextCursor` back as `cursor` with the same filters and sort. ' +
      'The order is stable (the sort key, then id), so a walk sees every item once.',
    tags: ['items'],
    query: ListQuery,
    responses: { 200: { description: 'A page', body: Page }, ...readProblems },
    handler: async ({ query, reply }) => {
      const filter: ItemFilter = {
        ownerId: query.owner,
        availability: query.availability,
        minPriceCents: query.minPrice,
        maxPriceCents: query.maxPrice,
        currency: query.currency,
        q: query.q,
      };
      try {
        return reply(200, await catalog.list(filter, query.sort, query.limit, query.cursor));
      } catch (error) {
        if (!(error instanceof InvalidCursor)) throw error;
        throw new Problem(400, {
          type: 'https://souk.dev/problems/invalid-request',
          detail: error.message,
          extensions: {
            errors: [{ in: 'query', pointer: '/cursor', field: 'cursor', message: error.message }],
          },
        });
      }
    },
  });

  const getItem = defineRoute({
    method: 'GET',
    path: '/items/:id',
    name: 'getItem',
    summary: 'One item (public, cached); its ETag is its version',
    tags: ['items'],
    params: ItemParams,
    responses: {
      200: { description: 'The item', body: ItemBody },
      404: problem('No such item'),
      ...readProblems,
    },
    handler: async ({ params, reply }) => {
      const item = await catalog.get(params.id);
      if (!item) throw notFound('no such item');
      return reply(200, item, { ETag: etagOf(item.version) });
    },
  });

  const createItem = defineRoute({
    method: 'POST',
    path: '/items',
    name: 'createItem',
    summary: 'List an item; the caller owns it',
    tags: ['items'],
    security: ['bearer'],
    use: [auth],
    body: ItemInput,
    responses: { 201: { description: 'Created', body: ItemBody }, ...writeProblems },
    handler: async ({ body, ctx, reply }) => {
      const item = await catalog.create(actorOf(ctx), body);
      return reply(201, item, { ETag: etagOf(item.version), Location: `/items/${item.id}` });
    },
  });

  const replaceItem = defineRoute({
    method: 'PUT',
    path: '/items/:id',
    name: 'replaceItem',
    summary: "Replace the owner's fields (If-Match required)",
    tags: ['items'],
    security: ['bearer'],
    use: [auth],
    params: ItemParams,
    body: ItemInput,
    responses: { 200: { description: 'Replaced', body: ItemBody }, ...writeProblems },
    handler: async ({ params, body, ctx, reply }) => {
      const actor = actorOf(ctx);
      const expected = ifMatch(ctx.get('If-Match'));
      const item = await catalog.update(actor, params.id, expected, body).catch(mapDomainError);
      return reply(200, item, { ETag: etagOf(item.version) });
    },
  });

  const patchItem = defineRoute({
    method: 'PATCH',
    path: '/items/:id',
    name: 'patchItem',
    summary: 'Change some fields (JSON merge patch; If-Match required)',
    tags: ['items'],
    security: ['bearer'],
    use: [auth],
    params: ItemParams,
    body: ItemPatch,
    responses: { 200: { description: 'Changed', body: ItemBody }, ...writeProblems },
    handler: async ({ params, body, ctx, reply }) => {
      const actor = actorOf(ctx);
      const expected = ifMatch(ctx.get('If-Match'));
      const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      const item = await catalog.update(actor, params.id, expected, changes).catch(mapDomainError);
      return reply(200, item, { ETag: etagOf(item.version) });
    },
  });

  const deleteItem = defineRoute({
    method: 'DELETE',
    path: '/items/:id',
    name: 'deleteItem',
    summary: 'Delist an item (If-Match required)',
    tags: ['items'],
    security: ['bearer'],
    use: [auth],
    params: ItemParams,
    responses: { 204: { description: 'Deleted' }, ...writeProblems },
    handler: async ({ params, ctx, reply }) => {
      const actor = actorOf(ctx);
      await catalog.delete(actor, params.id, ifMatch(ctx.get('If-Match'))).catch(mapDomainError);
      return reply(204);
    },
  });

  return [listItems, getItem, createItem, replaceItem, patchItem, deleteItem];
}
