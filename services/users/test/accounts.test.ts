import { useSuite } from '@souk/harness/suite';
import { InMemorySpanExporter } from '@souk/kit';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Answer, call, freshEmail, PASSWORD, startApp } from './support.ts';

const s = await useSuite('users-accounts');
const spans = new InMemorySpanExporter();
const app = await startApp(s, { READ_YOUR_WRITES_MS: '1000' }, { spanExporter: spans });

const register = (body: unknown) => call(app.url, 'POST', '/users', { body });
const fields = (r: Answer) =>
  ((r.body['errors'] ?? []) as { field: string; in: string }[]).map((e) => e.field);

function assertProblem(r: Answer, status: number) {
  assert.is(r.status, status, JSON.stringify(r.body));
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(r.body['status'], status);
  assert.type(r.body['title'], 'string');
}

async function loggedIn(email = freshEmail()) {
  assert.is((await register({ email, password: PASSWORD, name: 'Grace' })).status, 201);
  const login = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  assert.is(login.status, 201);
  return {
    email,
    token: login.body['accessToken'] as string,
    refreshToken: login.body['refreshToken'] as string,
  };
}

const registration = suite('registration');

registration('201 with the normalised email, Location, and no password in the answer', async () => {
  const email = freshEmail('New');
  const r = await register({
    email: `  ${email.toUpperCase()}\t`,
    password: PASSWORD,
    name: '  Grace Hopper ',
  });
  assert.is(r.status, 201);
  assert.is(r.headers.get('location'), '/users/me');
  assert.is(r.body['email'], email.toLowerCase());
  assert.is(r.body['name'], 'Grace Hopper');
  assert.is(r.body['role'], 'customer');
  assert.not.ok('password' in r.body || 'passwordHash' in r.body);
});

registration('a duplicate email, in case and whitespace variants, is a 409 problem', async () => {
  const email = freshEmail('dup');
  assert.is((await register({ email, password: PASSWORD, name: 'One' })).status, 201);
  for (const variant of [email, email.toUpperCase(), `  ${email} `, `\n${email.replace('dup', 'DUP')}`]) {
    const r = await register({ email: variant, password: PASSWORD, name: 'Two' });
    assertProblem(r, 409);
    assert.equal(fields(r), ['email']);
  }
});

registration('weak passwords are 422 naming password', async () => {
  const email = freshEmail('weak');
  for (const password of [
    'short pass',
    email,
    email.toUpperCase(),
    'password1234',
    'Password1234',
    'aaaaaaaaaaaaaaa',
    'x'.repeat(300),
  ]) {
    const r = await register({ email, password, name: 'Weak' });
    assertProblem(r, 422);
    assert.equal(fields(r), ['password'], `${password}: ${JSON.stringify(r.body)}`);
  }
});

registration('bad input is a 4xx problem naming the field, never a 500', async () => {
  const invalidEmail = await register({ email: 'not-an-email', password: PASSWORD, name: 'X' });
  assertProblem(invalidEmail, 422);
  assert.equal(fields(invalidEmail), ['email']);
  const missing = await register({ email: freshEmail() });
  assertProblem(missing, 422);
  assert.equal(fields(missing).sort(), ['name', 'password']);
  const wrongTypes = await register({ email: 7, password: [], name: {} });
  assertProblem(wrongTypes, 422);
  assert.equal(fields(wrongTypes).sort(), ['email', 'name', 'password']);
  assertProblem(await register('{"email": "a@b.co", "password": '), 400);
  assertProblem(await register('null'), 422);
  assertProblem(await register('[]'), 422);
  assertProblem(
    await call(app.url, 'POST', '/users', { body: 'email=a', headers: { 'Content-Type': 'text/plain' } }),
    415,
  );
  assertProblem(await call(app.url, 'POST', '/sessions', { body: '{nope' }), 400);
  assertProblem(await call(app.url, 'POST', '/sessions', { body: { email: 'a@b.co' } }), 422);
  assertProblem(await call(app.url, 'PUT', '/users/me'), 405);
});

/** The Prisma spans `work` caused, as `<operation>@<primary|replica>`. */
const targets = async (work: () => Promise<unknown>) => {
  await app.service.tracing.flush();
  spans.reset();
  await work();
  await new Promise((r) => setTimeout(r, 50));
  return spans
    .getFinishedSpans()
    .filter((span) => span.name.startsWith('prisma '))
    .map((span) => `${span.name}@${String(span.attributes['souk.db.target'])}`);
};

const profile = suite('/users/me');

profile('PATCH name and email (unique), then GET shows them', async () => {
  const { token } = await loggedIn();
  const taken = freshEmail('taken');
  assert.is((await register({ email: taken, password: PASSWORD, name: 'Other' })).status, 201);
  const clash = await call(app.url, 'PATCH', '/users/me', {
    token,
    body: { email: ` ${taken.toUpperCase()}` },
  });
  assertProblem(clash, 409);
  assert.equal(fields(clash), ['email']);

  const next = freshEmail('moved');
  const r = await call(app.url, 'PATCH', '/users/me', {
    token,
    body: { name: 'Grace B. Hopper', email: next.toUpperCase() },
  });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body['email'], next);
  const got = await call(app.url, 'GET', '/users/me', { token });
  assert.is(got.body['name'], 'Grace B. Hopper');
  assert.is(got.body['email'], next);
  const bad = await call(app.url, 'PATCH', '/users/me', { token, body: { email: 'nope', name: '' } });
  assertProblem(bad, 422);
  assert.equal(fields(bad).sort(), ['email', 'name']);
});

profile('a password change needs the current password, and ends the other sessions', async () => {
  const first = await loggedIn();
  const second = await call(app.url, 'POST', '/sessions', {
    body: { email: first.email, password: PASSWORD },
  });
  const next = 'a much better passphrase';
  const without = await call(app.url, 'PATCH', '/users/me', { token: first.token, body: { password: next } });
  assertProblem(without, 422);
  assert.equal(fields(without), ['currentPassword']);
  const wrong = await call(app.url, 'PATCH', '/users/me', {
    token: first.token,
    body: { password: next, currentPassword: 'not my password at all' },
  });
  assertProblem(wrong, 422);
  assert.equal(fields(wrong), ['currentPassword']);
  const weak = await call(app.url, 'PATCH', '/users/me', {
    token: first.token,
    body: { password: 'short', currentPassword: PASSWORD },
  });
  assertProblem(weak, 422);
  assert.equal(fields(weak), ['password']);

  const ok = await call(app.url, 'PATCH', '/users/me', {
    token: first.token,
    body: { password: next, currentPassword: PASSWORD },
  });
  assert.is(ok.status, 200);
  assert.is(
    (await call(app.url, 'POST', '/sessions', { body: { email: first.email, password: PASSWORD } })).status,
    401,
  );
  assert.is(
    (await call(app.url, 'POST', '/sessions', { body: { email: first.email, password: next } })).status,
    201,
  );
  // This session goes on; the other one is over.
  assert.is((await call(app.url, 'GET', '/users/me', { token: first.token })).status, 200);
  assert.is(
    (await call(app.url, 'GET', '/users/me', { token: second.body['accessToken'] as string })).status,
    401,
  );
  const refresh = await call(app.url, 'POST', '/sessions/refresh', {
    body: { refreshToken: second.body['refreshToken'] },
  });
  assert.is(refresh.status, 401);
});

profile(
  'profile reads go to the replica, or the primary just after the account changed; login reads the primary',
  async () => {
    const { token } = await loggedIn();
    // Registered a moment ago: read-your-writes sends the read to the primary.
    const fresh = await targets(() => call(app.url, 'GET', '/users/me', { token }));
    assert.ok(fresh.includes('prisma User.findUnique@primary'), fresh.join(', '));
    assert.not.ok(
      fresh.some((t) => t.endsWith('@replica')),
      fresh.join(', '),
    );
    await new Promise((r) => setTimeout(r, 1_100));
    await s.waitForReplica();
    const read = await targets(() => call(app.url, 'GET', '/users/me', { token }));
    assert.ok(read.includes('prisma User.findUnique@replica'), read.join(', '));
    assert.not.ok(
      read.some((t) => t.endsWith('@primary') && t.includes('User.')),
      read.join(', '),
    );
    const email = freshEmail('primary');
    assert.is((await register({ email, password: PASSWORD, name: 'P' })).status, 201);
    const login = await targets(() =>
      call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } }),
    );
    assert.ok(login.includes('prisma User.findUnique@primary'), login.join(', '));
    assert.not.ok(
      login.some((t) => t.endsWith('@replica')),
      login.join(', '),
    );
  },
);

const operations = suite('operations');

operations('OpenAPI documents every route with its schemas', async () => {
  const doc = await call(app.url, 'GET', '/openapi.json');
  assert.is(doc.status, 200);
  const paths = doc.body['paths'] as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  for (const [path, method] of [
    ['/users', 'post'],
    ['/users/me', 'get'],
    ['/users/me', 'patch'],
    ['/users/me', 'delete'],
    ['/sessions', 'post'],
    ['/sessions/refresh', 'post'],
    ['/sessions/current', 'delete'],
    ['/tokens/validate', 'post'],
    ['/.well-known/jwks.json', 'get'],
  ] as const) {
    assert.ok(paths[path]?.[method], `${method} ${path} documented`);
  }
  assert.ok(paths['/sessions']?.['post']?.responses['429']);
  const schemas = (doc.body['components'] as { schemas: Record<string, unknown> }).schemas;
  for (const name of ['User', 'Registration', 'TokenPair', 'Introspection']) assert.ok(schemas[name], name);
});

operations(
  '/livez, /readyz with db critical and redis/kafka degraded-only, /metrics with domain counters',
  async () => {
    assert.is((await call(app.url, 'GET', '/livez')).status, 200);
    const ready = await call(app.url, 'GET', '/readyz');
    assert.is(ready.status, 200, JSON.stringify(ready.body));
    const checks = ready.body['checks'] as Record<string, { status: string; critical: boolean }>;
    assert.equal(Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, [v.status, v.critical]])), {
      db: ['up', true],
      'db-replica': ['up', false],
      redis: ['up', false],
      kafka: ['up', false],
    });
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const name of [
      'souk_users_registrations_total',
      'souk_users_logins_total{',
      'souk_users_refresh_reuse_detected_total',
      'souk_users_refreshes_total{',
      'souk_outbox_pending',
    ]) {
      assert.ok(text.includes(name), name);
    }
    const registrations = Number(/^souk_users_registrations_total\{[^}]*\} (\d+)/m.exec(text)?.[1]);
    assert.ok(registrations >= 5, `registrations ${registrations}`);
  },
);

operations.after(async () => {
  await app.stop();
  await s.close();
});

registration.run();
profile.run();
operations.run();
