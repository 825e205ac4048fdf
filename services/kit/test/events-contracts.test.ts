import assert from 'node:assert/strict';
import { test } from 'uvu';
import { z } from 'zod';
import { InvalidEventError, validateEvent } from '../src/events/codec.ts';
import { checkCompatibility } from '../src/events/compatibility.ts';
import { defineEvent } from '../src/events/contracts/contract.ts';
import { OrderCancelled, OrderPlaced, orders } from '../src/events/contracts/orders.ts';
import { registry } from '../src/events/contracts/registry.ts';
import { envelopeSchema } from '../src/events/envelope.ts';
import { checkContracts, jsonSchemaOf, readSnapshot } from '../src/events/snapshots.ts';
import { uuidv7 } from '../src/events/uuidv7.ts';

const orderId = '0195f1c2-7a3b-7c00-8000-000000000001';
const userId = '0195f1c2-7a3b-7c00-8000-000000000002';
const itemId = '0195f1c2-7a3b-7c00-8000-000000000003';
const placed = {
  orderId,
  userId,
  lines: [{ itemId, quantity: 2, unitPriceCents: 500 }],
  totalCents: 1000,
  currency: 'EUR',
};

/** OrderPlaced@1 with its data schema replaced, as a careless edit would leave it. */
const edited = (data: z.ZodType) => defineEvent({ aggregate: orders, type: 'OrderPlaced', version: 1, data });
const issuesOf = (data: z.ZodType) =>
  checkCompatibility(jsonSchemaOf(OrderPlaced), jsonSchemaOf(edited(data)));
const base = OrderPlaced.data as unknown as z.ZodObject<z.ZodRawShape>;

test('every contract version is published and compatible with its snapshot', () => {
  const result = checkContracts();
  assert.deepEqual(result.unpublished, [], 'run `npm run events -- snapshot` to publish new versions');
  assert.deepEqual(result.removed, []);
  assert.deepEqual(result.incompatible, []);
});

test('the checker catches a breaking change to a published version', () => {
  const broken = edited(base.omit({ currency: true }).extend({ currencyCode: z.string() }));
  const result = checkContracts({ orders: [broken] }, () => ({
    'OrderPlaced@1': readSnapshot('orders')['OrderPlaced@1'],
  }));
  assert.equal(result.incompatible.length, 1);
  const messages = result.incompatible[0]?.issues.map((i) => `${i.direction} ${i.path} ${i.message}`) ?? [];
  assert.ok(messages.includes('forward $.currency required field removed or renamed'), messages.join('\n'));
  assert.ok(messages.includes('backward $.currencyCode new required field'), messages.join('\n'));
});

test('removing or renaming a required field breaks old readers', () => {
  const issues = issuesOf(base.omit({ totalCents: true }));
  assert.deepEqual(
    issues.map((i) => [i.path, i.direction]),
    [['$.totalCents', 'forward']],
  );
});

test('changing a type breaks both ways, widening integer to number breaks old readers', () => {
  const retyped = issuesOf(base.extend({ totalCents: z.string() }));
  assert.deepEqual([...new Set(retyped.map((i) => i.direction))].sort(), ['backward', 'forward']);
  assert.ok(retyped.some((i) => i.path === '$.totalCents' && /type integer → string/.test(i.message)));
  const widened = issuesOf(base.extend({ totalCents: z.number().min(0) }));
  assert.ok(widened.some((i) => i.path === '$.totalCents' && i.direction === 'forward'));
  assert.ok(!widened.some((i) => i.direction === 'backward'), JSON.stringify(widened));
});

test('a new required field breaks new readers of old events; a new optional field is fine', () => {
  const required = issuesOf(base.extend({ couponCode: z.string() }));
  assert.deepEqual(required, [
    { path: '$.couponCode', direction: 'backward', message: 'new required field' },
  ]);
  assert.deepEqual(issuesOf(base.extend({ couponCode: z.string().optional() })), []);
});

test('enums: a removed value breaks new readers, an added one breaks old readers', () => {
  const data = OrderCancelled.data as unknown as z.ZodObject<z.ZodRawShape>;
  const check = (reason: z.ZodType) =>
    checkCompatibility(
      jsonSchemaOf(OrderCancelled),
      jsonSchemaOf(
        defineEvent({ aggregate: orders, type: 'OrderCancelled', version: 1, data: data.extend({ reason }) }),
      ),
    );
  const narrowed = check(
    z.enum(['stock_rejected', 'payment_declined', 'payment_timeout', 'reservation_timeout']),
  );
  assert.deepEqual(
    narrowed.map((i) => i.direction),
    ['backward'],
  );
  assert.match(narrowed[0]?.message ?? '', /customer_requested/);
  const widened = check(
    z.enum([
      'stock_rejected',
      'payment_declined',
      'payment_timeout',
      'reservation_timeout',
      'customer_requested',
      'fraud',
    ]),
  );
  assert.deepEqual(
    widened.map((i) => i.direction),
    ['forward'],
  );
});

test('constraints: tightening rejects old events, loosening lets new events past old readers', () => {
  const lines = base.shape['lines'] as z.ZodArray<z.ZodType>;
  assert.deepEqual(
    issuesOf(base.extend({ lines: lines.max(10) })).map((i) => [i.path, i.direction]),
    [['$.lines', 'backward']],
  );
  assert.deepEqual(
    issuesOf(base.extend({ lines: z.array(lines.element) })).map((i) => [i.path, i.direction]),
    [['$.lines', 'forward']],
  );
  assert.deepEqual(
    issuesOf(base.extend({ currency: z.string().optional() }))
      .map((i) => i.direction)
      .sort(),
    ['forward', 'forward'],
  );
});

test('optional to required and nested changes are found with their path', () => {
  const line = z.object({ itemId: z.uuid(), quantity: z.string(), unitPriceCents: z.int().min(0) });
  const issues = issuesOf(base.extend({ lines: z.array(line).min(1) }));
  assert.ok(
    issues.some((i) => i.path === '$.lines[].quantity'),
    JSON.stringify(issues),
  );
});

test('events are validated when built and when read', () => {
  const event = OrderPlaced.create(orderId, placed);
  assert.equal(envelopeSchema.safeParse(event).success, true);
  assert.equal(event.aggregateType, 'Order');
  assert.deepEqual(validateEvent(registry, JSON.parse(JSON.stringify(event))), event);
  assert.throws(() => OrderPlaced.create(orderId, { ...placed, totalCents: -1 }), z.ZodError);
  assert.throws(
    () => validateEvent(registry, { ...event, data: { ...placed, currency: 'euro' } }),
    /OrderPlaced@1 data: currency/,
  );
  assert.throws(() => validateEvent(registry, { ...event, version: 9 }), /unknown event OrderPlaced@9/);
  assert.throws(() => validateEvent(registry, { ...event, aggregateType: 'User' }), InvalidEventError);
  assert.throws(() => validateEvent(registry, { ...event, id: 'not-a-uuid' }), /invalid envelope: id/);
});

test('uuidv7 ids carry their time and sort in creation order', () => {
  const now = Date.UTC(2026, 10, 21, 23, 0, 0);
  const ids = Array.from({ length: 5000 }, () => uuidv7(now));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids.slice(0, 10)) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(z.uuidv7().safeParse(id).success);
  }
  assert.ok(Number.parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16) >= now);
});

test.run();
