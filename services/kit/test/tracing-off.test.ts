import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineRoute } from '../src/route.ts';
import { dbSpan, injectContext, kafkaConsumeSpan, withSpan } from '../src/spans.ts';
import { startKit, startUpstream } from './helpers.ts';

// No exporter in this process: the service records no spans, yet must carry a caller's trace on.
const seenByUpstream: (string | undefined)[] = [];
const upstream = await startUpstream((req, res) => {
  seenByUpstream.push(req.headers['traceparent'] as string | undefined);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
});

let client: ReturnType<(typeof kit)['service']['httpClient']>;
const kit = await startKit([
  defineRoute({
    method: 'GET',
    path: '/relay',
    name: 'relay',
    responses: { 200: { description: 'Asked upstream' } },
    handler: async ({ ctx, reply }) => {
      await client.get(`${upstream.url}/anything`);
      ctx.state.log.info('asked upstream');
      return reply(200);
    },
  }),
]);
client = kit.service.httpClient({ retries: 0 });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

const off = suite('tracing off');

off.after(async () => {
  await kit.stop();
  await upstream.close();
});

off('the service records nothing', () => {
  assert.is(kit.service.tracing.recording, false);
});

off('a request outside any trace logs no trace ids and sends none on', async () => {
  const res = await fetch(`${kit.url}/relay`, { headers: { 'x-request-id': 'untraced-1' } });
  assert.is(res.status, 200);
  const lines = kit.logs.filter((l) => l['request_id'] === 'untraced-1');
  assert.is(lines.length, 2, 'the handler line and the access line');
  for (const line of lines) {
    assert.not.ok('trace_id' in line, `no trace id on "${line.msg}": ${JSON.stringify(line)}`);
    assert.not.ok('span_id' in line);
  }
  assert.is(seenByUpstream.at(-1), undefined);
});

off("a caller's trace passes through to the logs and the upstream", async () => {
  const res = await fetch(`${kit.url}/relay`, {
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, 'x-request-id': 'traced-1' },
  });
  assert.is(res.status, 200);
  const lines = kit.logs.filter((l) => l['request_id'] === 'traced-1');
  assert.is(lines.length, 2);
  for (const line of lines) assert.is(line['trace_id'], TRACE_ID, `trace id on "${line.msg}"`);
  const [, trace] = (seenByUpstream.at(-1) ?? '').split('-');
  assert.is(trace, TRACE_ID, 'the upstream continues the caller trace');
});

off('spans outside any trace run where they are, entering no context', async () => {
  assert.is(await withSpan('work', {}, () => context.active()), ROOT_CONTEXT);
  assert.is(await dbSpan('SELECT', { table: 'items' }, () => context.active()), ROOT_CONTEXT);
  const headers = await kafkaConsumeSpan('orders.events', { headers: {} }, () => injectContext({}));
  assert.equal(headers, {}, 'nothing to propagate');
});

off('a consumed message carries its producer trace on', async () => {
  const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;
  const onward = await kafkaConsumeSpan(
    'orders.events',
    { headers: { traceparent: Buffer.from(traceparent) } },
    () => withSpan('handle', {}, () => injectContext<Record<string, string>>({})),
  );
  assert.is(onward['traceparent']?.split('-')[1], TRACE_ID);
  assert.is(context.active(), ROOT_CONTEXT, 'and leaves no context behind');
});

off.run();
