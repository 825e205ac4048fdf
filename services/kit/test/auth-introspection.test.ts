import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createIntrospectionVerifier } from '../src/auth/introspection.ts';
import { InvalidTokenError } from '../src/auth/tokens.ts';
import { HttpClient } from '../src/http-client.ts';
import { Metrics } from '../src/metrics.ts';
import { UpstreamError } from '../src/upstream-error.ts';

/** A real issuer double: `good` is active, anything else inactive; counts the calls it answers. */
let calls = 0;
const server: Server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    calls++;
    const { token } = JSON.parse(body) as { token: string };
    const exp = Math.floor(Date.now() / 1000) + 600;
    const answer =
      token === 'good'
        ? { active: true, sub: '0195f1c2-7a3b-7c00-8000-000000000001', roles: ['admin'], exp, jti: 'j1' }
        : { active: false };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tokens/validate`;
const metrics = new Metrics({ service: 'kit-test', defaultMetrics: false });
const client = new HttpClient({ metrics, timeoutMs: 1000, retries: 0 });

test('an active answer becomes a principal and is reused for the TTL', async () => {
  calls = 0;
  const verifier = createIntrospectionVerifier({ client, url, ttlMs: 1000, metrics });
  const principal = await verifier.verify('good');
  assert.equal(principal.sub, '0195f1c2-7a3b-7c00-8000-000000000001');
  assert.equal(principal.roles, ['admin']);
  assert.equal(principal.jti, 'j1');
  await verifier.verify('good');
  assert.equal(calls, 1, 'the second check is answered from the cache');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await verifier.verify('good');
  assert.equal(calls, 2, 'asked again once the entry expired');
  assert.match(await metrics.text(), /souk_auth_introspection_total\{result="hit",service="kit-test"\} 1/);
});

test('an inactive answer is an InvalidTokenError, cached for the shorter negative TTL', async () => {
  calls = 0;
  const verifier = createIntrospectionVerifier({ client, url, ttlMs: 10_000, negativeTtlMs: 500 });
  for (let i = 0; i < 2; i++) {
    try {
      await verifier.verify('forged');
      assert.unreachable('inactive token accepted');
    } catch (error) {
      assert.instance(error, InvalidTokenError);
    }
  }
  assert.equal(calls, 1);
  await new Promise((resolve) => setTimeout(resolve, 600));
  await verifier.verify('forged').catch(() => {});
  assert.equal(calls, 2);
});

test('an unreachable issuer is an UpstreamError (a 503), not an invalid token', async () => {
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/tokens/validate`;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  const verifier = createIntrospectionVerifier({ client, url: deadUrl });
  try {
    await verifier.verify('good');
    assert.unreachable('verified without an issuer');
  } catch (error) {
    assert.instance(error, UpstreamError);
    assert.equal((error as UpstreamError).status, 503);
  }
});

test.after(async () => {
  client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test.run();
