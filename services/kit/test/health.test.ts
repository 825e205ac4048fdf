import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startKit } from './helpers.ts';

const health = suite('/livez and /readyz');

health(
  'ready when every check passes; degraded when only a non-critical one fails; 503 when a critical one does',
  async () => {
    const kit = await startKit([]);
    let dbUp = true;
    let cacheUp = true;
    kit.service.health.register('db', () => {
      if (!dbUp) throw new Error('connection refused');
    });
    kit.service.health.register(
      'cache',
      async () => {
        if (!cacheUp) throw new Error('CLUSTERDOWN');
      },
      { critical: false },
    );
    try {
      assert.equal(await (await fetch(`${kit.url}/livez`)).json(), { status: 'ok' });

      let res = await fetch(`${kit.url}/readyz`);
      assert.is(res.status, 200);
      // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
      let body = (await res.json()) as any;
      assert.is(body.status, 'ok');
      assert.is(body.checks.db.status, 'up');
      assert.is(body.checks.cache.critical, false);

      cacheUp = false;
      res = await fetch(`${kit.url}/readyz`);
      assert.is(res.status, 200);
      body = await res.json();
      assert.is(body.status, 'degraded');
      assert.is(body.checks.cache.status, 'down');
      assert.is(body.checks.cache.error, 'CLUSTERDOWN');

      dbUp = false;
      res = await fetch(`${kit.url}/readyz`);
      assert.is(res.status, 503);
      body = await res.json();
      assert.is(body.status, 'unavailable');
      assert.is(body.checks.db.error, 'connection refused');
      assert.is((await fetch(`${kit.url}/livez`)).status, 200, 'a dependency outage does not fail liveness');
    } finally {
      await kit.stop();
    }
  },
);

health('a hanging check times out and its signal is aborted', async () => {
  const kit = await startKit([]);
  let aborted = false;
  kit.service.health.register(
    'kafka',
    (signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve(undefined);
        });
      }),
    { timeoutMs: 100 },
  );
  try {
    const res = await fetch(`${kit.url}/readyz`);
    assert.is(res.status, 503);
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    const body = (await res.json()) as any;
    assert.match(body.checks.kafka.error, /timed out after 100 ms/);
    assert.ok(aborted);
  } finally {
    await kit.stop();
  }
});

health('a service that is shutting down is not ready', async () => {
  const kit = await startKit([]);
  kit.service.health.markShuttingDown();
  try {
    const res = await fetch(`${kit.url}/readyz`);
    assert.is(res.status, 503);
    assert.is(((await res.json()) as { status: string }).status, 'unavailable');
  } finally {
    await kit.stop();
  }
});

health.run();
