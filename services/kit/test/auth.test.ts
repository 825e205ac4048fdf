import { useSuite } from '@souk/harness/suite';
import { base64url, createLocalJWKSet, exportJWK, exportPKCS8, SignJWT } from 'jose';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { createDenyList } from '../src/auth/deny-list.ts';
import { buildJwks, JWKS_PATH, jwksEndpoint, remoteJwks } from '../src/auth/jwks.ts';
import { generateSigningKey, importSigningKey, type SigningKey } from '../src/auth/keys.ts';
import { authenticate, requireRole } from '../src/auth/middleware.ts';
import { createTokenIssuer, createTokenVerifier } from '../src/auth/tokens.ts';
import type { Middleware } from '../src/context.ts';
import { closeRedisCluster, createRedisCluster, redisReady } from '../src/redis.ts';
import { defineRoute } from '../src/route.ts';
import { type Served, serve } from './support/serve.ts';

const ISSUER = 'https://users.souk.test';
const AUDIENCE = 'souk';

const s = await useSuite('kit-auth');
const redis = createRedisCluster(s.redisNodes);
await redisReady(redis);

let signing = await generateSigningKey('EdDSA');
const published: SigningKey[] = [signing];
let jwksFetches = 0;
const countFetches: Middleware = async (ctx, next) => {
  if (ctx.path === JWKS_PATH) jwksFetches++;
  await next();
};
// The issuing service: publishes its public keys.
const issuerApp = await serve([], { use: [countFetches, jwksEndpoint(() => buildJwks(published))] });

const verifier = createTokenVerifier({
  keys: remoteJwks(`${issuerApp.url}${JWKS_PATH}`, { cooldownMs: 300 }),
  issuer: ISSUER,
  audience: AUDIENCE,
});
const denyList = createDenyList({ redis, prefix: s.keyPrefix, timeoutMs: 2_000 });
const auth = authenticate({ verifier, denyList });

const Me = z.object({ sub: z.string(), roles: z.array(z.string()) });
// A service that verifies tokens locally against the issuer's JWKS.
const resourceApp: Served = await serve([
  defineRoute({
    method: 'GET',
    path: '/me',
    name: 'me',
    use: [auth],
    responses: { 200: { description: 'who', body: Me } },
    handler: ({ ctx }) => ({
      status: 200,
      body: { sub: ctx.state.principal!.sub, roles: ctx.state.principal!.roles },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/admin',
    name: 'admin',
    use: [auth, requireRole('admin')],
    responses: { 200: { description: 'admin only', body: z.object({ ok: z.boolean() }) } },
    handler: () => ({ status: 200, body: { ok: true } }),
  }),
]);

const issuer = () => createTokenIssuer({ key: signing, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 300 });

async function call(path: string, token?: string) {
  const res = await fetch(`${resourceApp.url}${path}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as Record<string, unknown>;
  return {
    status: res.status,
    body,
    type: res.headers.get('content-type'),
    challenge: res.headers.get('www-authenticate'),
  };
}

function assertProblem(r: Awaited<ReturnType<typeof call>>, status: number, detail?: RegExp) {
  assert.is(r.status, status, JSON.stringify(r.body));
  assert.match(r.type ?? '', /application\/problem\+json/);
  assert.is(r.body['status'], status);
  if (detail) assert.match(String(r.body['detail']), detail);
  if (status === 401) assert.match(r.challenge ?? '', /^Bearer/);
}

const jwt = suite('jwt verification');

jwt('a valid token is accepted and the principal reaches the route', async () => {
  const { token } = await issuer().issue({ sub: 'user-1', roles: ['customer'] });
  const r = await call('/me', token);
  assert.is(r.status, 200);
  assert.equal(r.body, { sub: 'user-1', roles: ['customer'] });
});

jwt('the token header names the key', async () => {
  const { token } = await issuer().issue({ sub: 'user-1' });
  const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!)));
  assert.equal(header, { alg: 'EdDSA', kid: signing.kid, typ: 'JWT' });
});

jwt('no token, a malformed header: 401 problem with a Bearer challenge', async () => {
  assertProblem(await call('/me'), 401, /bearer token required/);
  const res = await fetch(`${resourceApp.url}/me`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
  assert.is(res.status, 401);
});

jwt('a tampered token gets 401', async () => {
  const { token } = await issuer().issue({ sub: 'user-1', roles: ['customer'] });
  const [h, p, sig] = token.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
  const forged = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }));
  assertProblem(await call('/admin', `${h}.${forged}.${sig}`), 401, /signature/);
  const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
  assertProblem(await call('/me', `${h}.${p}.${flipped}`), 401);
});

jwt('an expired token gets 401', async () => {
  const { token } = await issuer().issue({ sub: 'user-1', ttlSeconds: -60 });
  assertProblem(await call('/me', token), 401, /expired/);
});

jwt('alg=none gets 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: signing.kid }));
  const payload = base64url.encode(
    JSON.stringify({
      sub: 'user-1',
      roles: ['admin'],
      iss: ISSUER,
      aud: AUDIENCE,
      iat: now,
      exp: now + 300,
      jti: 'x',
    }),
  );
  assertProblem(await call('/admin', `${header}.${payload}.`), 401);
});

jwt('a token signed by another key gets 401, whether it claims our kid or its own', async () => {
  const stranger = await generateSigningKey('EdDSA');
  const own = createTokenIssuer({ key: stranger, issuer: ISSUER, audience: AUDIENCE });
  assertProblem(await call('/me', (await own.issue({ sub: 'user-1' })).token), 401);
  const impostor = createTokenIssuer({
    key: { ...stranger, kid: signing.kid },
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  assertProblem(await call('/me', (await impostor.issue({ sub: 'user-1' })).token), 401, /signature/);
});

jwt('a wrong issuer or audience gets 401', async () => {
  const other = createTokenIssuer({ key: signing, issuer: 'https://evil.test', audience: AUDIENCE });
  assertProblem(await call('/me', (await other.issue({ sub: 'user-1' })).token), 401, /iss/);
  const elsewhere = createTokenIssuer({ key: signing, issuer: ISSUER, audience: 'another' });
  assertProblem(await call('/me', (await elsewhere.issue({ sub: 'user-1' })).token), 401, /aud/);
});

jwt('a token without the role gets 403, with it 200', async () => {
  const customer = await issuer().issue({ sub: 'user-1', roles: ['customer'] });
  assertProblem(await call('/admin', customer.token), 403, /admin/);
  const admin = await issuer().issue({ sub: 'user-2', roles: ['admin'] });
  assert.is((await call('/admin', admin.token)).status, 200);
});

jwt('a denied jti gets 401, for as long as the token lives and no longer', async () => {
  const { token, jti, expiresAt } = await issuer().issue({ sub: 'user-1', ttlSeconds: 120 });
  assert.is((await call('/me', token)).status, 200);
  await denyList.deny(jti, expiresAt);
  assertProblem(await call('/me', token), 401, /revoked/);
  const ttl = await redis.pttl(`${s.keyPrefix}deny:{${jti}}`);
  assert.ok(ttl > 110_000 && ttl <= 120_000, `deny-list entry lives as long as the token: ${ttl}`);
  const other = await issuer().issue({ sub: 'user-1' });
  assert.is((await call('/me', other.token)).status, 200, 'other tokens of the user still work');
});

const jwks = suite('jwks');

jwks('the document holds only public keys, with kid, alg and use', async () => {
  const es = await generateSigningKey('ES256');
  const doc = buildJwks([signing, es]);
  assert.is(doc.keys.length, 2);
  for (const key of doc.keys) {
    assert.is(key.d, undefined);
    assert.is(key.use, 'sig');
    assert.ok(key.kid && key.alg);
  }
  assert.is(doc.keys[1]!.crv, 'P-256');
  const res = await fetch(`${issuerApp.url}${JWKS_PATH}`);
  assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
  assert.match(res.headers.get('content-type') ?? '', /jwk-set\+json/);
});

jwks('fetched over HTTP once and cached; a rotated key is fetched again after the cooldown', async () => {
  const fresh = createTokenVerifier({
    keys: remoteJwks(`${issuerApp.url}${JWKS_PATH}`, { cooldownMs: 300 }),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  const before = jwksFetches;
  for (let i = 0; i < 20; i++) {
    assert.is((await fresh.verify((await issuer().issue({ sub: `u${i}` })).token)).sub, `u${i}`);
  }
  assert.is(jwksFetches - before, 1, 'twenty verifications, one fetch');

  // Rotation: the issuer signs with a new key and publishes both.
  signing = await generateSigningKey('EdDSA');
  published.push(signing);
  await new Promise((r) => setTimeout(r, 400));
  const rotated = await issuer().issue({ sub: 'after-rotation' });
  assert.is((await fresh.verify(rotated.token)).sub, 'after-rotation');
  assert.is(jwksFetches - before, 2, 'the unknown kid caused one refetch');

  // Forged kids cannot make the verifier hammer the issuer: the cooldown bounds refetches.
  const forger = createTokenIssuer({
    key: await generateSigningKey('EdDSA'),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  for (let i = 0; i < 10; i++) {
    const forged = (await forger.issue({ sub: 'x' })).token;
    await fresh.verify(forged).then(
      () => assert.unreachable('a forged token verified'),
      (err: Error) => assert.is(err.name, 'InvalidTokenError'),
    );
  }
  assert.ok(jwksFetches - before <= 3, `refetches bounded by the cooldown: ${jwksFetches - before}`);
});

jwks('an unreachable issuer is a 503, not a 401', async () => {
  const lonely = createTokenVerifier({
    keys: remoteJwks('http://127.0.0.1:9/.well-known/jwks.json', { timeoutMs: 500 }),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  const app = await serve([
    defineRoute({
      method: 'GET',
      path: '/me',
      name: 'me',
      use: [authenticate({ verifier: lonely })],
      responses: { 200: { description: 'who' } },
      handler: () => ({ status: 200 }),
    }),
  ]);
  try {
    const { token } = await issuer().issue({ sub: 'user-1' });
    const res = await fetch(`${app.url}/me`, { headers: { Authorization: `Bearer ${token}` } });
    assert.is(res.status, 503);
  } finally {
    await app.close();
  }
});

const keys = suite('keys');

keys.after(async () => {
  await resourceApp.close();
  await issuerApp.close();
  await closeRedisCluster(redis);
  await s.close();
});

keys('a key imported from PKCS#8 or JWK signs tokens the JWKS verifies', async () => {
  const original = await generateSigningKey('ES256', 'es-1');
  const fromPem = await importSigningKey(await exportPKCS8(original.privateKey), 'ES256', 'es-1');
  const fromJwk = await importSigningKey(
    JSON.stringify(await exportJWK(original.privateKey)),
    'ES256',
    'es-1',
  );
  assert.equal(fromPem.publicJwk, original.publicJwk);
  assert.equal(fromJwk.publicJwk, original.publicJwk);
  const local = createTokenVerifier({
    keys: createLocalJWKSet(buildJwks([original])),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  const token = await new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .setSubject('s')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti('j')
    .setExpirationTime('5m')
    .sign(fromPem.privateKey);
  const principal = await local.verify(token);
  assert.equal(principal.roles, ['admin']);
  const issued = await createTokenIssuer({ key: fromJwk, issuer: ISSUER, audience: AUDIENCE }).issue({
    sub: 'k',
  });
  assert.is((await local.verify(issued.token)).sub, 'k');
});

jwt.run();
jwks.run();
keys.run();
