import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { defineRoute } from '../src/route.ts';
import { startKit } from './helpers.ts';

const routes = [
  defineRoute({
    method: 'GET',
    path: '/items/:id',
    name: 'getItem',
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'An item' } },
    handler: ({ reply }) => reply(200),
  }),
];

const metrics = suite('metrics');

function histogramCount(text: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('http_server_request_duration_seconds_count{') &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

metrics('the request histogram is labelled by route template, never the raw path', async () => {
  const kit = await startKit(routes);
  try {
    for (const id of ['a1', 'b2', 'c3']) assert.is((await fetch(`${kit.url}/items/${id}`)).status, 200);
    await fetch(`${kit.url}/nope/123`);
    const res = await fetch(`${kit.url}/metrics`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE http_server_request_duration_seconds histogram/);
    assert.is(histogramCount(text, { method: 'GET', route: '/items/:id', status_code: '200' }), 3);
    assert.is(histogramCount(text, { route: 'unmatched', status_code: '404' }), 1);
    assert.not.match(text, /items\/a1|nope\/123/);
    assert.match(text, /process_cpu_user_seconds_total/, 'default process metrics are there');
    assert.match(text, /service="kit-test"/);
  } finally {
    await kit.stop();
  }
});

metrics('with METRICS_PORT, /metrics is served there and not on the main port', async () => {
  const kit = await startKit(routes, { env: { METRICS_PORT: '0' } });
  try {
    assert.ok(kit.metricsUrl);
    assert.is.not(new URL(kit.metricsUrl ?? '').port, new URL(kit.url).port);
    await fetch(`${kit.url}/items/x`);
    const text = await (await fetch(kit.metricsUrl ?? '')).text();
    assert.is(histogramCount(text, { route: '/items/:id' }), 1);
    assert.is((await fetch(`${kit.url}/metrics`)).status, 404);
  } finally {
    await kit.stop();
  }
});

metrics('domain metrics share the one registry, and asking twice gives the same metric', async () => {
  const kit = await startKit(routes);
  try {
    const m = kit.service.metrics;
    const counter = m.counter('souk_orders_placed_total', 'Orders placed', ['outcome']);
    assert.is(m.counter('souk_orders_placed_total', 'Orders placed', ['outcome']), counter);
    counter.inc({ outcome: 'confirmed' }, 2);
    m.gauge('souk_outbox_pending', 'Outbox rows not yet sent').set(5);
    m.histogram('souk_saga_duration_seconds', 'Saga duration', [], { buckets: [1, 10] }).observe(3);
    assert.throws(() => m.gauge('souk_orders_placed_total', 'again as a gauge'), /another type/);
    const text = await (await fetch(`${kit.url}/metrics`)).text();
    assert.match(text, /souk_orders_placed_total\{outcome="confirmed",service="kit-test"\} 2/);
    assert.match(text, /souk_outbox_pending\{service="kit-test"\} 5/);
    assert.match(text, /souk_saga_duration_seconds_bucket\{le="10",service="kit-test"\} 1/);
  } finally {
    await kit.stop();
  }
});

metrics.run();
