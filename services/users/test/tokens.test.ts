import { useSuite } from '@souk/harness/suite';
import { remoteJwks } from '@souk/kit/auth/jwks';
import { importSigningKey } from '@souk/kit/auth/keys';
import { toPkcs8Pem } from '@souk/kit/auth/pem';
import { createTokenIssuer, createTokenVerifier } from '@souk/kit/auth/tokens';
import { base64url, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AUDIENCE, ISSUER } from '../src/app.ts';
import { call, ecKeyPem, freshEmail, PASSWORD, startApp } from './support.ts';

const s = await useSuite('users-tokens');
const pemA = ecKeyPem();
const keyA = await importSigningKey(toPkcs8Pem(pemA), 'ES256');
let app = await startApp(s, { JWT_PRIVATE_KEY: pemA });

async function session(base: string) {
  const email = freshEmail();
  assert.is(
    (await call(base, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Tok' } })).status,
    201,
  );
  const login = await call(base, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  assert.is(login.status, 201);
  const accessToken = login.body['accessToken'] as string;
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  return { accessToken, claims };
}

const me = (base: string, token: string) => call(base, 'GET', '/users/me', { token });
const validate = (base: string, token: string) => call(base, 'POST', '/tokens/validate', { body: { token } });

async function refused(token: string, why: string) {
  const r = await me(app.url, token);
  assert.is(r.status, 401, `${why}: /users/me answered ${r.status}`);
  assert.is(r.headers.get('content-type'), 'application/problem+json', why);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, why);
  const v = await validate(app.url, token);
  assert.is(v.status, 200, why);
  assert.equal(v.body, { active: false }, why);
}

const bad = suite('tokens that must not pass');

bad('the contract: ES256 with kid, sub/roles/jti/iat/exp, iss souk-users, aud souk, 15 minutes', async () => {
  const { accessToken, claims } = await session(app.url);
  const header = decodeProtectedHeader(accessToken);
  assert.is(header.alg, 'ES256');
  assert.is(header.kid, keyA.kid);
  assert.is(claims['iss'], 'souk-users');
  assert.is(claims['aud'], 'souk');
  assert.equal(claims['roles'], ['customer']);
  assert.type(claims['jti'], 'string');
  assert.is((claims['exp'] as number) - (claims['iat'] as number), 900);
  assert.is((await me(app.url, accessToken)).status, 200);
});

bad('tampered payload', async () => {
  const { accessToken, claims } = await session(app.url);
  const [h, , sig] = accessToken.split('.');
  const forged = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }));
  await refused(`${h}.${forged}.${sig}`, 'tampered');
});

bad('expired (signed by the real key, live session)', async () => {
  const { claims } = await session(app.url);
  const issuer = createTokenIssuer({ key: keyA, issuer: ISSUER, audience: AUDIENCE });
  const { token } = await issuer.issue({
    sub: claims['sub'] as string,
    roles: ['customer'],
    ttlSeconds: -120,
    claims: { sid: claims['sid'] },
  });
  await refused(token, 'expired');
});

bad('alg none', async () => {
  const { claims } = await session(app.url);
  const header = base64url.encode(JSON.stringify({ alg: 'none', kid: keyA.kid, typ: 'JWT' }));
  await refused(`${header}.${base64url.encode(JSON.stringify(claims))}.`, 'alg none');
});

bad('unknown kid, and a foreign key claiming the real kid', async () => {
  const { claims } = await session(app.url);
  const { privateKey } = await generateKeyPair('ES256');
  const sign = (kid: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(privateKey);
  await refused(await sign('no-such-kid'), 'unknown kid');
  await refused(await sign(keyA.kid), 'foreign key with the real kid');
});

bad('wrong audience and issuer', async () => {
  const { claims } = await session(app.url);
  for (const [iss, aud] of [
    ['souk-users', 'elsewhere'],
    ['someone-else', 'souk'],
  ]) {
    const token = await new SignJWT({ ...claims, iss, aud })
      .setProtectedHeader({ alg: 'ES256', kid: keyA.kid })
      .sign(keyA.privateKey);
    await refused(token, `iss ${iss} aud ${aud}`);
  }
});

bad('missing or malformed bearer, and a body that is not a token: 401 / 422 problems', async () => {
  assert.is((await call(app.url, 'GET', '/users/me')).status, 401);
  assert.is((await me(app.url, 'not-a-jwt')).status, 401);
  const v = await call(app.url, 'POST', '/tokens/validate', { body: { token: 42 } });
  assert.is(v.status, 422);
  assert.is((v.body['errors'] as { field: string }[])[0]?.field, 'token');
  assert.equal((await validate(app.url, 'a.b.c')).body, { active: false });
});

const rotation = suite('signing key rotation');

rotation(
  'a new key: old tokens keep verifying, new ones carry the new kid, JWKS publishes both',
  async () => {
    const old = await session(app.url);
    await app.stop();
    const pemB = ecKeyPem();
    const keyB = await importSigningKey(toPkcs8Pem(pemB), 'ES256');
    app = await startApp(s, { JWT_PRIVATE_KEY: pemB });

    const jwks = await call(app.url, 'GET', '/.well-known/jwks.json');
    assert.is(jwks.status, 200);
    assert.match(jwks.headers.get('content-type') ?? '', /application\/jwk-set\+json/);
    const keys = jwks.body['keys'] as Record<string, unknown>[];
    assert.equal(
      keys.map((k) => k['kid']),
      [keyB.kid, keyA.kid],
    );
    for (const k of keys) {
      assert.is(k['d'], undefined, 'no private part');
      assert.is(k['alg'], 'ES256');
    }

    assert.is((await me(app.url, old.accessToken)).status, 200);
    assert.is((await validate(app.url, old.accessToken)).body['active'], true);
    const fresh = await session(app.url);
    assert.is(decodeProtectedHeader(fresh.accessToken).kid, keyB.kid);

    // Another service verifies both through the published JWKS, as the kit's middleware does.
    const verifier = createTokenVerifier({
      keys: remoteJwks(`${app.url}/.well-known/jwks.json`),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    assert.is((await verifier.verify(old.accessToken)).sub, old.claims['sub']);
    assert.is((await verifier.verify(fresh.accessToken)).sub, fresh.claims['sub']);

    // The retired key stays published exactly as long as its last token can live (+ skew).
    const client = new pg.Client({ connectionString: s.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ left: number }>(
      `SELECT extract(epoch FROM "publish_until" - now())::float AS left FROM "signing_keys" WHERE "kid" = $1`,
      [keyA.kid],
    );
    await client.end();
    const left = rows[0]?.left ?? 0;
    assert.ok(left > 900 && left <= 960, `retired key published for ${left} s more`);
  },
);

rotation.after(async () => {
  await app.stop();
  await s.close();
});

bad.run();
rotation.run();
