import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { backoffDelay } from '../src/backoff.ts';
import { createLogger } from '../src/logger.ts';
import { defineRoute } from '../src/route.ts';
import { Shutdown } from '../src/shutdown.ts';
import { startKit } from './helpers.ts';

const silent = createLogger({ service: 'kit-test', level: 'silent' });

const hooks = suite('shutdown hooks');

hooks('run phase by phase whatever the registration order, each once', async () => {
  const shutdown = new Shutdown(silent);
  const ran: string[] = [];
  const hook =
    (name: string, ms = 0) =>
    async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      ran.push(name);
    };
  shutdown.register('redis', hook('redis'), { phase: 'clients' });
  shutdown.register('tracing', hook('tracing'), { phase: 'telemetry' });
  shutdown.register('relay', hook('relay', 30), { phase: 'relays' });
  shutdown.register('orders consumer', hook('orders consumer', 50), { phase: 'consumers' });
  shutdown.register('payments consumer', hook('payments consumer'), { phase: 'consumers' });
  const [first, second] = await Promise.all([shutdown.run(), shutdown.run()]);
  assert.ok(first && second);
  assert.equal(ran, ['payments consumer', 'orders consumer', 'relay', 'tracing', 'redis']);
  assert.throws(() => shutdown.register('late', () => {}, { phase: 'clients' }), /already started/);
});

hooks('a failing or hanging hook is reported and does not stop the later phases', async () => {
  const shutdown = new Shutdown(silent);
  const ran: string[] = [];
  shutdown.register('stuck consumer', () => new Promise(() => {}), { phase: 'consumers', timeoutMs: 100 });
  shutdown.register(
    'broken relay',
    () => {
      throw new Error('broker gone');
    },
    { phase: 'relays' },
  );
  shutdown.register('db', () => ran.push('db'), { phase: 'clients' });
  assert.is(await shutdown.run(), false);
  assert.equal(ran, ['db']);
});

const drain = suite('draining the HTTP server');

drain('a request longer than SHUTDOWN_DRAIN_MS is cut and stop() reports it', async () => {
  const kit = await startKit(
    [
      defineRoute({
        method: 'GET',
        path: '/forever',
        name: 'forever',
        query: z.object({}),
        responses: { 200: { description: 'never' } },
        handler: () => new Promise(() => {}),
      }),
    ],
    { env: { SHUTDOWN_DRAIN_MS: '200' } },
  );
  const pending = fetch(`${kit.url}/forever`).then(
    (res) => `answered ${res.status}`,
    (error: Error) => `failed: ${error.message}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ok = await kit.service.stop();
  assert.is(ok, false);
  assert.match(await pending, /^failed/);
  assert.ok(kit.logs.some((l) => l.msg === 'cut requests still in flight'));
});

const backoff = suite('backoff');

backoff('full jitter: below an exponentially growing ceiling, capped', () => {
  const top = () => 0.999999;
  assert.equal(
    [0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, { baseMs: 100, maxMs: 1000 }, top)),
    [99, 199, 399, 799, 999, 999],
  );
  assert.is(
    backoffDelay(3, { baseMs: 100, maxMs: 1000 }, () => 0),
    0,
  );
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, { baseMs: 100, maxMs: 5000 })));
  assert.ok(spread.size > 10, 'delays are spread, not synchronized');
});

hooks.run();
drain.run();
backoff.run();
