import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, importJWK } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importSigningKey } from '../src/auth/keys.ts';
import { toPkcs8Pem } from '../src/auth/pem.ts';
import { createTokenIssuer } from '../src/auth/tokens.ts';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const sec1 = pair.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

test('a SEC1 EC key becomes PKCS#8 that signs ES256 tokens verifying against its public key', async () => {
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  const converted = toPkcs8Pem(sec1);
  assert.match(converted, /BEGIN PRIVATE KEY/);
  const key = await importSigningKey(converted, 'ES256');
  const expected = pair.publicKey.export({ format: 'jwk' });
  assert.is(key.publicJwk.x, expected.x);
  assert.is(key.publicJwk.y, expected.y);
  const { token } = await createTokenIssuer({ key, issuer: 'i', audience: 'a' }).issue({ sub: 'u' });
  const publicKey = await importJWK(key.publicJwk, 'ES256');
  const { protectedHeader } = await compactVerify(token, publicKey);
  assert.is(protectedHeader.kid, key.kid);
});

test('PKCS#8 passes through unchanged', () => {
  assert.is(toPkcs8Pem(`\n${pkcs8}\n`), pkcs8.trim());
});

test('garbage is refused, not silently accepted', () => {
  assert.throws(() => toPkcs8Pem('-----BEGIN EC PRIVATE KEY-----\nnope\n-----END EC PRIVATE KEY-----'));
});

test.run();
