import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, newItem, registerAndLogin, startInventory, startUsersApp } from './support.ts';

// TOKEN_CHECK=jwks: tokens are verified locally against users' JWKS and the Redis deny-list.
const usersSuite = await useSuite('inventory-jwks-users');
const s = await useSuite('inventory-jwks');
const users = await startUsersApp(usersSuite);
// The deny-list is shared with users: the same key prefix.
const inventory = await startInventory(
  s,
  users.url,
  { TOKEN_CHECK: 'jwks', REDIS_KEY_PREFIX: usersSuite.keyPrefix },
  users.service.tracing,
);
const base = inventory.url;

test('a token verified through the JWKS writes; a forged one does not; users being down does not matter', async () => {
  const alice = await registerAndLogin(users.url, 'alice');
  const created = await call(base, 'POST', '/items', { token: alice.token, body: newItem() });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body['ownerId'], alice.id);
  const [header, payload] = alice.token.split('.') as [string, string, string];
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
  assert.equal((await call(base, 'POST', '/items', { token: none, body: newItem() })).status, 401);
  const resigned = `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;
  assert.equal((await call(base, 'POST', '/items', { token: resigned, body: newItem() })).status, 401);
  // Logging out puts the token's jti on the deny-list: refused at once.
  const bob = await registerAndLogin(users.url, 'bob');
  assert.equal((await call(users.url, 'DELETE', '/sessions/current', { token: bob.token })).status, 204);
  const revoked = await call(base, 'POST', '/items', { token: bob.token, body: newItem() });
  assert.equal(revoked.status, 401);
  // The keys are cached: with users stopped, a valid token still writes.
  await users.stop();
  const again = await call(base, 'POST', '/items', { token: alice.token, body: newItem({ title: 'Saw' }) });
  assert.equal(again.status, 201);
});

test.after(async () => {
  await inventory.stop();
  await s.close();
  await usersSuite.close();
});

test.run();
