import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { defineRoute } from '../src/route.ts';
import { startKit } from './helpers.ts';

const Money = z.object({ amount: z.number().int(), currency: z.string().length(3) }).meta({ id: 'Money' });
const Item = z
  .object({ id: z.uuid(), name: z.string().min(1), price: Money, tags: z.array(z.string()).default([]) })
  .meta({ id: 'Item', description: 'Something for sale' });
const NewItem = Item.omit({ id: true }).meta({ id: 'NewItem' });

const routes = [
  defineRoute({
    method: 'GET',
    path: '/items/:id',
    name: 'getItem',
    summary: 'One item',
    tags: ['items'],
    params: z.object({ id: z.uuid() }),
    query: z.object({ currency: z.string().length(3).optional().meta({ description: 'Convert prices' }) }),
    responses: { 200: { description: 'The item', body: Item }, 404: { description: 'No such item' } },
    handler: ({ reply }) => reply(404),
  }),
  defineRoute({
    method: 'POST',
    path: '/items',
    name: 'createItem',
    summary: 'Create an item',
    body: NewItem,
    security: ['bearer'],
    responses: { 201: { description: 'Created', body: Item } },
    handler: ({ reply }) =>
      reply(201, { id: crypto.randomUUID(), name: 'x', price: { amount: 1, currency: 'EUR' } }),
  }),
];

const openapi = suite('/openapi.json');

openapi('is an OpenAPI 3.1 document built from the routes zod schemas', async () => {
  const kit = await startKit(routes);
  try {
    const res = await fetch(`${kit.url}/openapi.json`);
    assert.is(res.status, 200);
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    const doc = (await res.json()) as any;
    assert.is(doc.openapi, '3.1.0');
    assert.is(doc.info.title, 'kit-test');
    assert.type(doc.info.version, 'string');

    const get = doc.paths['/items/{id}'].get;
    assert.is(get.operationId, 'getItem');
    assert.is(get.summary, 'One item');
    assert.equal(
      get.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]),
      [
        ['id', 'path', true],
        ['currency', 'query', false],
      ],
    );
    assert.is(get.parameters[0].schema.format, 'uuid');
    assert.is(get.parameters[1].description, 'Convert prices');
    assert.is(get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/Item');
    assert.is(
      get.responses['404'].content['application/problem+json'].schema.$ref,
      '#/components/schemas/Problem',
    );
    assert.ok(get.responses['400'], 'parameter validation failures are documented');

    const post = doc.paths['/items'].post;
    assert.is(post.requestBody.content['application/json'].schema.$ref, '#/components/schemas/NewItem');
    assert.ok(post.responses['422'] && post.responses['415'] && post.responses['413']);
    assert.equal(post.security, [{ bearer: [] }]);
    assert.is(doc.components.securitySchemes.bearer.scheme, 'bearer');

    const item = doc.components.schemas.Item;
    assert.is(item.type, 'object');
    assert.is(item.description, 'Something for sale');
    assert.is(item.properties.price.$ref, '#/components/schemas/Money');
    assert.equal(item.required.sort(), ['id', 'name', 'price', 'tags']);
    assert.is(doc.components.schemas.Money.properties.currency.minLength, 3);
    assert.ok(doc.components.schemas.Problem.properties.errors);

    assert.ok(doc.paths['/livez'].get && doc.paths['/readyz'].get, 'the kit routes are documented too');
    const text = JSON.stringify(doc);
    assert.not.match(text, /#\/\$defs\//, 'every reference resolves inside components');
    for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      assert.ok(doc.components.schemas[ref ?? ''], `component ${ref} exists`);
    }
  } finally {
    await kit.stop();
  }
});

openapi.run();
