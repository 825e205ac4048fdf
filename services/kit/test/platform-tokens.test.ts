import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildJwks, JWKS_PATH } from '../src/auth/jwks.ts';
import { generateSigningKey } from '../src/auth/keys.ts';
import {
  PLATFORM_TOKEN_AUDIENCE,
  PLATFORM_TOKEN_ISSUER,
  usersTokenVerifier,
} from '../src/auth/platform-tokens.ts';
import { createTokenIssuer } from '../src/auth/tokens.ts';

test("verifies users' tokens against its published keys, and nothing issued for another audience or with EdDSA", async () => {
  const es256 = await generateSigningKey('ES256');
  const eddsa = await generateSigningKey('EdDSA');
  const server = createServer((req, res) => {
    if (req.url !== JWKS_PATH) return void res.writeHead(404).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(buildJwks([es256, eddsa])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const verifier = usersTokenVerifier(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const issue = (key = es256, audience = PLATFORM_TOKEN_AUDIENCE) =>
      createTokenIssuer({ key, issuer: PLATFORM_TOKEN_ISSUER, audience }).issue({
        sub: 'u1',
        roles: ['customer'],
      });

    const principal = await verifier.verify((await issue()).token);
    assert.is(principal.sub, 'u1');
    assert.equal(principal.roles, ['customer']);
    const refusal = (token: string) =>
      verifier.verify(token).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    assert.match(await refusal((await issue(es256, 'elsewhere')).token), /aud/);
    assert.match(await refusal((await issue(eddsa)).token), /alg/i);
  } finally {
    server.close();
  }
});

test.run();
