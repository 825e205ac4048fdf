import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineRoute } from '../src/route.ts';
import { type LogLine, startKit } from './helpers.ts';

const routes = [
  defineRoute({
    method: 'GET',
    path: '/slow',
    name: 'slow',
    timeoutMs: 5_000,
    responses: { 200: { description: 'After a while, whether anyone waits or not' } },
    handler: async () => {
      await sleep(400);
      return { status: 200 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/slow-call',
    name: 'slowCall',
    timeoutMs: 5_000,
    responses: { 200: { description: 'After an outgoing call that takes the request signal' } },
    handler: async ({ ctx }) => {
      // As fetch or a database call given the signal would: rejects with an AbortError.
      await sleep(2_000, undefined, { signal: ctx.state.signal });
      return { status: 200 };
    },
  }),
];

const kit = await startKit(routes);
const { port } = new URL(kit.url);

/** Sends a request with its own id over a raw connection and destroys the socket after `ms`. */
async function abandon(path: string, requestId: string, ms: number): Promise<void> {
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${requestId}\r\n\r\n`);
  let answered = false;
  socket.once('data', () => {
    answered = true;
  });
  await sleep(ms);
  socket.destroy();
  if (answered) throw new Error('the server answered before the client left');
}

async function linesOf(requestId: string, until: (lines: LogLine[]) => boolean): Promise<LogLine[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const lines = kit.logs.filter((l) => l['request_id'] === requestId);
    if (until(lines) || Date.now() > deadline) return lines;
    await sleep(20);
  }
}

/** Requests of a route with a status, as counted by the duration histogram. */
async function requests(route: string, status: string): Promise<number> {
  const metric = await kit.service.metrics.registry
    .getSingleMetric('http_server_request_duration_seconds')
    ?.get();
  const sample = metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === 'http_server_request_duration_seconds_count' &&
      v.labels['route'] === route &&
      v.labels['status_code'] === status,
  );
  return sample?.value ?? 0;
}

const closed = suite('a request its client abandons');

closed.after(() => kit.stop());

for (const [path, route] of [
  ['/slow', 'slow'],
  ['/slow-call', 'slowCall'],
] as const) {
  closed(`${path}: logged and counted as 499 "client closed request", not as an error`, async () => {
    const requestId = `abandoned-${route}`;
    const before = await requests(path, '499');
    await abandon(path, requestId, 100);
    const lines = await linesOf(requestId, (ls) => ls.some((l) => l['status'] !== undefined));
    const access = lines.find((l) => l['status'] !== undefined);
    assert.ok(access, `no access line: ${JSON.stringify(lines)}`);
    assert.is(access['status'], 499);
    assert.is(access.msg, 'client closed request');
    assert.is(access.level, 'info');
    // Whatever the handler does after, nothing is logged as an error.
    await sleep(500);
    const problems = kit.logs.filter(
      (l) =>
        (l['request_id'] === requestId && l.level !== 'info' && l.level !== 'debug') ||
        /unhandled error|response error/.test(String(l.msg)),
    );
    assert.equal(problems, []);
    const after = await requests(path, '499');
    assert.is(after, before + 1, '499 counted');
  });
}

closed('a request answered in full is logged with its own status', async () => {
  const res = await fetch(`${kit.url}/slow`, { headers: { 'x-request-id': 'patient' } });
  assert.is(res.status, 200);
  const [line] = await linesOf('patient', (ls) => ls.length > 0);
  assert.is(line?.['status'], 200);
  assert.is(line?.msg, 'request');
});

closed.run();
