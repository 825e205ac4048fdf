import { SpanKind } from '@opentelemetry/api';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineRoute } from '../src/route.ts';
import { dbSpan, kafkaConsumeSpan, kafkaProduceSpan } from '../src/spans.ts';
import { InMemorySpanExporter } from '../src/tracing.ts';
import { startKit, startUpstream } from './helpers.ts';

const exporter = new InMemorySpanExporter();
const seenByUpstream: string[] = [];
const upstream = await startUpstream((req, res) => {
  seenByUpstream.push(String(req.headers['traceparent']));
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"stock":3}');
});

let client: ReturnType<(typeof kit)['service']['httpClient']>;
const kit = await startKit(
  [
    defineRoute({
      method: 'GET',
      path: '/items/:id/stock',
      name: 'itemStock',
      responses: { 200: { description: 'Stock' } },
      handler: async ({ ctx, reply }) => {
        await dbSpan('SELECT', { table: 'items' }, async () => {});
        const res = await client.get(`${upstream.url}/stock/${ctx.params['id']}`);
        ctx.state.log.info({ upstream_status: res.status }, 'asked upstream');
        return reply(200);
      },
    }),
  ],
  { spanExporter: exporter },
);
client = kit.service.httpClient({ retries: 0 });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

const tracing = suite('trace context');

tracing('incoming traceparent -> server span -> client call -> upstream sees the same trace', async () => {
  const res = await fetch(`${kit.url}/items/42/stock`, {
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, 'x-request-id': 'trace-1' },
  });
  assert.is(res.status, 200);
  await kit.service.tracing.flush();

  const upstreamHeader = seenByUpstream.at(-1) ?? '';
  const [, upstreamTrace, upstreamParent] = upstreamHeader.split('-');
  assert.is(upstreamTrace, TRACE_ID, 'the upstream got the caller trace id');

  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
  const server = spans.find((s) => s.kind === SpanKind.SERVER);
  const clientSpan = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === 'GET');
  const db = spans.find((s) => s.name === 'SELECT items');
  assert.ok(server && clientSpan && db, `spans: ${spans.map((s) => s.name).join(', ')}`);
  assert.is(server?.name, 'GET /items/:id/stock', 'the server span is named by route template');
  assert.is(server?.attributes['http.route'], '/items/:id/stock');
  assert.is(server?.attributes['http.response.status_code'], 200);
  assert.is(server?.parentSpanContext?.spanId, PARENT_ID, 'the server span continues the caller span');
  assert.is(clientSpan?.parentSpanContext?.spanId, server?.spanContext().spanId);
  assert.is(db?.parentSpanContext?.spanId, server?.spanContext().spanId);
  assert.is(upstreamParent, clientSpan?.spanContext().spanId, 'the upstream parent is the client span');

  const line = kit.logs.find((l) => l.msg === 'asked upstream' && l['request_id'] === 'trace-1');
  assert.is(line?.['trace_id'], TRACE_ID, 'log lines carry the trace id');
  assert.is(line?.['span_id'], server?.spanContext().spanId);
});

tracing('a request without traceparent starts a new trace', async () => {
  exporter.reset();
  const res = await fetch(`${kit.url}/items/1/stock`);
  assert.is(res.status, 200);
  const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
  assert.ok(server);
  assert.is.not(server?.spanContext().traceId, TRACE_ID);
  assert.is(server?.parentSpanContext, undefined);
});

tracing('unmatched requests get a fixed span name', async () => {
  exporter.reset();
  await fetch(`${kit.url}/no/such/path`);
  const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
  assert.is(server?.name, 'GET unmatched');
});

tracing('Kafka headers carry the context from producer to consumer', async () => {
  exporter.reset();
  const headers = await kafkaProduceSpan('orders.events', (h) => h);
  assert.match(headers['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  await kafkaConsumeSpan('orders.events', { headers, partition: 1, offset: '7' }, () => {});
  const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER);
  const consumer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER);
  assert.is(consumer?.spanContext().traceId, producer?.spanContext().traceId);
  assert.is(consumer?.parentSpanContext?.spanId, producer?.spanContext().spanId);
});

tracing.after(async () => {
  await kit.stop();
  await upstream.close();
});

tracing.run();
