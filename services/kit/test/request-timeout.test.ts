import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { defineRoute } from '../src/route.ts';
import { startKit } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seen = new Map<string, { aborted: boolean; reason: string }>();

const routes = [
  defineRoute({
    method: 'GET',
    path: '/sleep',
    name: 'sleep',
    timeoutMs: 150,
    query: z.object({ ms: z.coerce.number().int().min(0), tag: z.string() }),
    responses: { 200: { description: 'Slept', body: z.object({ slept: z.number() }) } },
    handler: async ({ query, ctx, reply }) => {
      await sleep(query.ms);
      // Asked for only now, after the deadline may have passed.
      const signal = ctx.state.signal;
      seen.set(query.tag, {
        aborted: signal?.aborted ?? false,
        reason: String((signal?.reason as Error | undefined)?.message),
      });
      return reply(200, { slept: query.ms });
    },
  }),
];

const kit = await startKit(routes);
const timeouts = suite('request timeouts');

timeouts('a request in time is answered, its signal never aborted', async () => {
  const res = await fetch(`${kit.url}/sleep?ms=10&tag=fast`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { slept: 10 });
  assert.equal(seen.get('fast'), { aborted: false, reason: 'undefined' });
});

timeouts('each request times out at its own deadline; the late answer changes nothing', async () => {
  const started = Date.now();
  const first = fetch(`${kit.url}/sleep?ms=400&tag=first`).then((res) => ({ res, at: Date.now() - started }));
  await sleep(80);
  const second = fetch(`${kit.url}/sleep?ms=400&tag=second`).then((res) => ({
    res,
    at: Date.now() - started,
  }));
  const a = await first;
  const b = await second;
  assert.is(a.res.status, 503);
  assert.is(b.res.status, 503);
  assert.match(String(((await a.res.json()) as { detail?: string }).detail), /150 ms/);
  assert.ok(a.at >= 150, `first answered after ${a.at} ms`);
  // Not expired together with the first: its own deadline is 80 ms later.
  assert.ok(b.at >= 80 + 150, `second answered after ${b.at} ms`);

  // The handlers finish afterwards and find their signal aborted, even though they first ask now.
  await sleep(400 + 80 - (Date.now() - started) + 50);
  assert.equal(seen.get('first'), { aborted: true, reason: 'request timed out after 150 ms' });
  assert.equal(seen.get('second'), { aborted: true, reason: 'request timed out after 150 ms' });
  const line = kit.logs.find((l) => l.msg === 'request' && l['status'] === 503);
  assert.is(line?.['route'], '/sleep');
});

timeouts('a keep-alive connection carries requests after one timed out', async () => {
  const timedOut = await fetch(`${kit.url}/sleep?ms=250&tag=ka-1`);
  assert.is(timedOut.status, 503);
  await timedOut.text();
  await sleep(150);
  const res = await fetch(`${kit.url}/sleep?ms=5&tag=ka-2`);
  assert.is(res.status, 200);
  assert.equal(seen.get('ka-2'), { aborted: false, reason: 'undefined' });
});

timeouts.after(() => kit.stop());
timeouts.run();
