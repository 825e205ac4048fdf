import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { defineRoute } from '../src/route.ts';

// The compiler is the test here: each @ts-expect-error must be an error, or `tsc` fails.
const Item = z.object({ id: z.number(), name: z.string() });

const typed = defineRoute({
  method: 'GET',
  path: '/items/:id',
  name: 'getItem',
  params: z.object({ id: z.coerce.number() }),
  query: z.object({ expand: z.boolean().optional() }),
  responses: { 200: { description: 'The item', body: Item }, 404: { description: 'Not found' } },
  handler: ({ params, query, body, reply }) => {
    const id: number = params.id;
    const expand: boolean | undefined = query.expand;
    const none: undefined = body;
    // @ts-expect-error params has no such field
    params.sku;
    if (expand === undefined && none === undefined && id < 0) {
      // @ts-expect-error 201 is not a declared status
      return reply(201, { id, name: 'x' });
    }
    if (id === 0) {
      // @ts-expect-error the body of 200 needs a name
      return reply(200, { id });
    }
    if (id === 1) {
      // @ts-expect-error 404 has no body
      return reply(404, { id });
    }
    return id > 10 ? reply(404) : reply(200, { id, name: 'x' });
  },
});

const withBody = defineRoute({
  method: 'POST',
  path: '/items',
  name: 'createItem',
  body: Item.omit({ id: true }),
  responses: { 201: { description: 'Created', body: Item } },
  handler: ({ body }) => {
    const name: string = body.name;
    return { status: 201, body: { id: 1, name } };
  },
});

defineRoute({
  method: 'POST',
  path: '/things',
  name: 'createThing',
  responses: { 201: { description: 'Created', body: Item } },
  // @ts-expect-error a plain object must still match a declared body
  handler: () => ({ status: 201, body: { id: 'one' } }),
});

test('routes keep their declarations at run time', () => {
  assert.is(typed.name, 'getItem');
  assert.ok(typed.params && typed.query);
  assert.equal(Object.keys(typed.responses), ['200', '404']);
  assert.ok(withBody.body);
});

test.run();
