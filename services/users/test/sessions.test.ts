import { hash, verify } from '@node-rs/argon2';
import { useSuite } from '@souk/harness/suite';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ARGON2_PARAMS } from '../src/domain/passwords.ts';
import { type Answer, call, freshEmail, PASSWORD, startApp } from './support.ts';

const s = await useSuite('users-sessions');
const app = await startApp(s, {
  LOGIN_LIMIT_PER_ACCOUNT: '3',
  LOGIN_LIMIT_PER_IP: '6',
  LOGIN_LIMIT_WINDOW_MS: '60000',
});

let ipCounter = 1;
/** Each test logs in from its own address, so the per-IP limit of one does not spill into another. */
const newIp = () => ({ 'X-Forwarded-For': `198.51.100.${ipCounter++}` });

async function register(email = freshEmail()): Promise<string> {
  const r = await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Ada' } });
  assert.is(r.status, 201, JSON.stringify(r.body));
  return email;
}

async function login(email: string, password = PASSWORD, headers = newIp()): Promise<Answer> {
  return call(app.url, 'POST', '/sessions', { body: { email, password }, headers });
}

const refresh = (refreshToken: unknown) =>
  call(app.url, 'POST', '/sessions/refresh', { body: { refreshToken } });
const me = (token: unknown) => call(app.url, 'GET', '/users/me', { token: token as string });
const validate = (token: unknown) => call(app.url, 'POST', '/tokens/validate', { body: { token } });

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

const flow = suite('session lifecycle');

flow('register → login → /users/me → refresh rotation → logout kills both tokens', async () => {
  const email = await register(`  Mixed.Case-${Date.now()}@Example.COM `);
  const normalised = email.trim().toLowerCase();
  const logins = await metric('souk_users_logins_total', 'result="success"');
  const session = await login(email.toUpperCase());
  assert.is(session.status, 201, JSON.stringify(session.body));
  assert.is(session.body['tokenType'], 'Bearer');
  const expiresIn = session.body['expiresIn'] as number;
  assert.ok(expiresIn > 890 && expiresIn <= 900, `expiresIn ${expiresIn}`);
  assert.is(await metric('souk_users_logins_total', 'result="success"'), logins + 1);

  const profile = await me(session.body['accessToken']);
  assert.is(profile.status, 200, JSON.stringify(profile.body));
  assert.is(profile.body['email'], normalised);
  assert.is(profile.body['role'], 'customer');

  const rotated = await refresh(session.body['refreshToken']);
  assert.is(rotated.status, 200, JSON.stringify(rotated.body));
  assert.is.not(rotated.body['refreshToken'], session.body['refreshToken']);
  assert.is.not(rotated.body['accessToken'], session.body['accessToken']);
  assert.is((await me(rotated.body['accessToken'])).status, 200);
  const live = await validate(rotated.body['accessToken']);
  assert.is(live.body['active'], true);
  assert.is(live.body['sub'], profile.body['id']);
  assert.equal(live.body['roles'], ['customer']);

  const out = await call(app.url, 'DELETE', '/sessions/current', {
    token: rotated.body['accessToken'] as string,
  });
  assert.is(out.status, 204);
  const after = await me(rotated.body['accessToken']);
  assert.is(after.status, 401);
  assert.is(after.headers.get('content-type'), 'application/problem+json');
  assert.equal((await validate(rotated.body['accessToken'])).body, { active: false });
  // The access token from before the rotation belonged to the same session: dead as well.
  assert.is((await me(session.body['accessToken'])).status, 401);
  const dead = await refresh(rotated.body['refreshToken']);
  assert.is(dead.status, 401);
  assert.is(dead.headers.get('content-type'), 'application/problem+json');
});

flow('the deny-list holds the logged-out jti in Redis with the token’s remaining life', async () => {
  const email = await register();
  const session = await login(email);
  const live = await validate(session.body['accessToken']);
  const jti = live.body['jti'] as string;
  await call(app.url, 'DELETE', '/sessions/current', { token: session.body['accessToken'] as string });
  const { createRedisCluster, closeRedisCluster, redisReady } = await import('@souk/kit/redis');
  const redis = createRedisCluster(s.redisNodes);
  await redisReady(redis);
  const ttl = await redis.pttl(`${s.keyPrefix}deny:{${jti}}`);
  await closeRedisCluster(redis);
  assert.ok(ttl > 800_000 && ttl <= 900_000, `deny-list TTL ${ttl} ms`);
});

flow('sessions are cached in the Redis Cluster and dropped from it on revoke', async () => {
  const email = await register();
  const session = await login(email);
  const claims = JSON.parse(
    Buffer.from((session.body['accessToken'] as string).split('.')[1]!, 'base64url').toString(),
  ) as { sid: string };
  assert.is((await validate(session.body['accessToken'])).body['active'], true);
  const { createRedisCluster, closeRedisCluster, redisReady } = await import('@souk/kit/redis');
  const redis = createRedisCluster(s.redisNodes);
  await redisReady(redis);
  const key = `${s.keyPrefix}users:v:{session:${claims.sid}}`;
  try {
    const cached = JSON.parse((await redis.get(key)) ?? 'null') as { active: boolean } | null;
    assert.is(cached?.active, true, 'the validate filled the cache');
    const hits = await metric('souk_cache_requests_total', 'result="hit"');
    assert.is((await me(session.body['accessToken'])).status, 200);
    assert.ok((await metric('souk_cache_requests_total', 'result="hit"')) > hits, 'the next lookup hit it');
    await call(app.url, 'DELETE', '/sessions/current', { token: session.body['accessToken'] as string });
    assert.is(await redis.get(key), null, 'revoking dropped the entry');
    // The next lookup reads the primary again and caches the revoked state.
    assert.is((await refresh(session.body['refreshToken'])).status, 401);
    assert.is((JSON.parse((await redis.get(key)) ?? 'null') as { active: boolean } | null)?.active, false);
  } finally {
    await closeRedisCluster(redis);
  }
});

flow('reusing a rotated refresh token revokes the family, the newest token included', async () => {
  const email = await register();
  const first = await login(email);
  const second = await refresh(first.body['refreshToken']);
  assert.is(second.status, 200);
  const third = await refresh(second.body['refreshToken']);
  assert.is(third.status, 200);
  const reuses = await metric('souk_users_refresh_reuse_detected_total');

  const replay = await refresh(first.body['refreshToken']);
  assert.is(replay.status, 401);
  assert.is(await metric('souk_users_refresh_reuse_detected_total'), reuses + 1);

  // The legitimate holder's newest tokens are dead too.
  assert.is((await refresh(third.body['refreshToken'])).status, 401);
  assert.is((await me(third.body['accessToken'])).status, 401);
  assert.equal((await validate(third.body['accessToken'])).body, { active: false });
  assert.equal((await validate(second.body['accessToken'])).body, { active: false });
  // Every access token the family handed out that has not expired is on the deny-list.
  const { createRedisCluster, closeRedisCluster, redisReady } = await import('@souk/kit/redis');
  const redis = createRedisCluster(s.redisNodes);
  await redisReady(redis);
  try {
    for (const pair of [first, second, third]) {
      const jti = JSON.parse(
        Buffer.from((pair.body['accessToken'] as string).split('.')[1]!, 'base64url').toString(),
      ).jti as string;
      assert.is(await redis.exists(`${s.keyPrefix}deny:{${jti}}`), 1, `jti ${jti} deny-listed`);
    }
  } finally {
    await closeRedisCluster(redis);
  }
  // Another session of the same account is untouched.
  const other = await login(email);
  assert.is(other.status, 201);
  assert.is((await me(other.body['accessToken'])).status, 200);
});

flow(
  'two concurrent refreshes of one token: one rotates, the other is reuse and ends the family',
  async () => {
    const email = await register();
    const first = await login(email);
    const [a, b] = await Promise.all([
      refresh(first.body['refreshToken']),
      refresh(first.body['refreshToken']),
    ]);
    assert.equal([a.status, b.status].sort(), [200, 401]);
    const winner = a.status === 200 ? a : b;
    assert.is((await refresh(winner.body['refreshToken'])).status, 401);
    assert.equal((await validate(winner.body['accessToken'])).body, { active: false });
  },
);

flow('garbage refresh tokens are 401 problems, never 500', async () => {
  for (const token of ['nope', `${crypto.randomUUID()}.abc`, 'a.b.c', 'x'.repeat(400)]) {
    const r = await refresh(token);
    assert.is(r.status, 401, `${token}: ${JSON.stringify(r.body)}`);
    assert.is(r.body['status'], 401);
  }
  const missing = await call(app.url, 'POST', '/sessions/refresh', { body: {} });
  assert.is(missing.status, 422);
  assert.is((missing.body['errors'] as { field: string }[])[0]?.field, 'refreshToken');
});

const enumeration = suite('account enumeration');

enumeration('an unknown email and a wrong password get the same status and body', async () => {
  const email = await register();
  const unknown = await login(freshEmail('nobody'), 'some wrong password');
  const wrong = await login(email, 'some wrong password');
  assert.is(unknown.status, 401);
  assert.is(wrong.status, 401);
  const strip = (b: Record<string, unknown>) => {
    const { requestId: _r, ...rest } = b;
    return rest;
  };
  assert.equal(strip(unknown.body), strip(wrong.body));
  assert.is(unknown.headers.get('content-type'), wrong.headers.get('content-type'));
  // Both ran one argon2 verification, so each took at least what one takes on this machine.
  const verifyMs = await fastestArgon2Verify();
  for (const [what, answer] of [
    ['unknown email', unknown],
    ['wrong password', wrong],
  ] as const) {
    assert.ok(answer.ms >= 0.8 * verifyMs, `${what}: ${answer.ms} ms, one verification ${verifyMs} ms`);
  }
});

/** The fastest of three argon2 verifications with the service's parameters (the fastest: load only slows). */
async function fastestArgon2Verify(): Promise<number> {
  const phc = await hash('a password', ARGON2_PARAMS);
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await verify(phc, 'another password');
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const throttling = suite('login throttling');

throttling(
  'per account: the 4th attempt on one account is 429 with Retry-After, whatever the address',
  async () => {
    const email = await register();
    for (let i = 0; i < 3; i++) assert.is((await login(email, 'wrong password!!')).status, 401);
    const throttled = await login(email, PASSWORD);
    assert.is(throttled.status, 429, JSON.stringify(throttled.body));
    assert.is(throttled.headers.get('content-type'), 'application/problem+json');
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // Case and whitespace variants are the same account.
    assert.is((await login(` ${email.toUpperCase()} `, PASSWORD)).status, 429);
    assert.ok((await metric('souk_users_logins_total', 'result="throttled"')) >= 2);
  },
);

throttling('per address: the 7th attempt from one address is 429, across accounts', async () => {
  const ip = newIp();
  for (let i = 0; i < 6; i++) {
    const r = await login(freshEmail('spray'), 'wrong password!!', ip);
    assert.is(r.status, 401, `attempt ${i + 1}: ${r.status}`);
  }
  const email = await register();
  const throttled = await login(email, PASSWORD, ip);
  assert.is(throttled.status, 429);
  assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
  // The same account from another address still logs in.
  assert.is((await login(email, PASSWORD)).status, 201);
});

throttling.after(async () => {
  await app.stop();
  await s.close();
});

flow.run();
enumeration.run();
throttling.run();
