import { startRedisCluster } from '@souk/harness/infra';
import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, freshEmail, PASSWORD, startApp } from './support.ts';

// A private Redis Cluster: this test takes all of it down.
const s = await useSuite('users-redis-down');
const redis = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
const app = await startApp(s, { REDIS_NODES: redis.nodes.join(',') });

test('with the Redis Cluster gone: degraded, not down; logins, sessions and logout keep working from Postgres', async () => {
  const email = freshEmail('noredis');
  assert.is(
    (await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'R' } })).status,
    201,
  );
  const before = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  assert.is(before.status, 201);

  const ready0 = await call(app.url, 'GET', '/readyz');
  assert.is(ready0.body['status'], 'ok', JSON.stringify(ready0.body));
  for (const port of redis.ports) await redis.killNode(port);

  // The first lookup finds Redis gone and falls back to the primary.
  assert.is(
    (await call(app.url, 'GET', '/users/me', { token: before.body['accessToken'] as string })).status,
    200,
  );
  const ready = await call(app.url, 'GET', '/readyz');
  assert.is(ready.status, 200, JSON.stringify(ready.body));
  assert.is(ready.body['status'], 'degraded');
  const checks = ready.body['checks'] as Record<string, { status: string }>;
  assert.is(checks['redis']?.status, 'down');
  assert.is(checks['db']?.status, 'up');

  const login = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  assert.is(login.status, 201, JSON.stringify(login.body));
  const token = login.body['accessToken'] as string;
  assert.is((await call(app.url, 'POST', '/tokens/validate', { body: { token } })).body['active'], true);
  const rotated = await call(app.url, 'POST', '/sessions/refresh', {
    body: { refreshToken: login.body['refreshToken'] },
  });
  assert.is(rotated.status, 200);

  // Logout cannot reach the deny-list, but the revoked session family is in Postgres, which is read instead.
  const next = rotated.body['accessToken'] as string;
  assert.is((await call(app.url, 'DELETE', '/sessions/current', { token: next })).status, 204);
  assert.is((await call(app.url, 'GET', '/users/me', { token: next })).status, 401);
  assert.equal((await call(app.url, 'POST', '/tokens/validate', { body: { token: next } })).body, {
    active: false,
  });
  assert.is(
    (
      await call(app.url, 'POST', '/sessions/refresh', {
        body: { refreshToken: rotated.body['refreshToken'] },
      })
    ).status,
    401,
  );

  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  assert.match(metrics, /souk_rate_limit_requests_total\{[^}]*result="error"[^}]*\} [1-9]/);
  assert.match(metrics, /souk_cache_degraded\{[^}]*\} 1/);
});

test.after(async () => {
  await app.stop();
  await redis.stop();
  await s.close();
});
test.run();
