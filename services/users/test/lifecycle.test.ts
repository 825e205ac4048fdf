import { useSuite } from '@souk/harness/suite';
import { EventConsumer, on } from '@souk/kit/events/consumer';
import type { EventEnvelope } from '@souk/kit/events/envelope';
import { UserDeleted, UserRegistered, UserUpdated } from '@souk/kit/events/index';
import { createKafka } from '@souk/kit/events/kafka';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Tx, usersDatabase } from '../src/data/database.ts';
import { call, freshEmail, PASSWORD, startApp } from './support.ts';

const s = await useSuite('users-lifecycle');
const ADMIN = { ADMIN_EMAIL: ' Root@Souk.Example ', ADMIN_PASSWORD: 'admin passphrase for tests' };
let app = await startApp(s, ADMIN);

// Everything users publishes, read back from Kafka through the kit's consumer, as a downstream service would.
const seen: EventEnvelope[] = [];
const readerDb = await usersDatabase.open({ url: s.databaseUrl });
const consumer = new EventConsumer<Tx>({
  kafka: createKafka(s.kafkaBrokers),
  groupId: s.groupId('users-events-reader'),
  db: readerDb.primary,
  resolveTopic: (topic) => `${s.id}.${topic}`,
  handlers: [UserRegistered, UserUpdated, UserDeleted].map((contract) =>
    on(contract, async (event: EventEnvelope) => {
      seen.push(event);
    }),
  ),
  maxWaitTimeInMs: 100,
});
await consumer.start();

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `not seen within ${timeoutMs} ms: ${what}; seen ${JSON.stringify(seen.map((e) => e.type))}`,
  );
}

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const lifecycle = suite('account lifecycle');

lifecycle('register and update go out as events carrying only the contract’s fields', async () => {
  const email = freshEmail('evt');
  const reg = await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Evt' } });
  const id = reg.body['id'] as string;
  const registered = await eventually('UserRegistered', () =>
    seen.find((e) => e.type === 'UserRegistered' && e.aggregateId === id),
  );
  assert.equal(Object.keys(registered.data as object).sort(), [
    'displayName',
    'email',
    'registeredAt',
    'role',
    'userId',
  ]);
  assert.not.ok(JSON.stringify(registered).includes('argon2'), 'no password hash on the wire');

  const login = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  await call(app.url, 'PATCH', '/users/me', {
    token: login.body['accessToken'] as string,
    body: { name: 'Evt 2' },
  });
  const updated = await eventually('UserUpdated', () =>
    seen.find((e) => e.type === 'UserUpdated' && e.aggregateId === id),
  );
  assert.equal(updated.data, { userId: id, changes: { displayName: 'Evt 2' } });
});

lifecycle(
  'delete anonymises, revokes the sessions, emits UserDeleted, and the account cannot log in',
  async () => {
    const email = freshEmail('gone');
    const reg = await call(app.url, 'POST', '/users', {
      body: { email, password: PASSWORD, name: 'Gone Soon' },
    });
    const id = reg.body['id'] as string;
    const login = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
    const token = login.body['accessToken'] as string;
    const other = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });

    const del = await call(app.url, 'DELETE', '/users/me', { token });
    assert.is(del.status, 204);

    const [row] = await sql<{ email: string; display_name: string; password_hash: string; status: string }>(
      'SELECT email, display_name, password_hash, status FROM users WHERE id = $1',
      [id],
    );
    assert.ok(row, 'the row stays (order history refers to it)');
    assert.is(row.status, 'deleted');
    assert.is.not(row.email, email);
    assert.not.ok(row.email.includes(email.split('@')[0]!));
    assert.is(row.display_name, 'deleted user');
    assert.is(row.password_hash, '');
    const live = await sql('SELECT 1 FROM session_families WHERE user_id = $1 AND revoked_at IS NULL', [id]);
    assert.is(live.length, 0);

    assert.is((await call(app.url, 'GET', '/users/me', { token })).status, 401);
    assert.is(
      (await call(app.url, 'GET', '/users/me', { token: other.body['accessToken'] as string })).status,
      401,
    );
    assert.is(
      (
        await call(app.url, 'POST', '/sessions/refresh', {
          body: { refreshToken: other.body['refreshToken'] },
        })
      ).status,
      401,
    );
    const relogin = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
    assert.is(relogin.status, 401);
    // The address is free again.
    assert.is(
      (await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Back' } })).status,
      201,
    );

    const deleted = await eventually('UserDeleted', () =>
      seen.find((e) => e.type === 'UserDeleted' && e.aggregateId === id),
    );
    assert.equal(deleted.data, { userId: id });
    const [outbox] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM souk_outbox WHERE event_type = 'UserDeleted' AND aggregate_id = $1`,
      [id],
    );
    assert.is(outbox?.n, 1);
  },
);

const seeding = suite('admin seeding');

seeding(
  'the admin from ADMIN_EMAIL/ADMIN_PASSWORD is created once, however often the service starts',
  async () => {
    assert.is(app.adminSeed, 'created');
    await app.stop();
    app = await startApp(s, ADMIN);
    assert.is(app.adminSeed, 'unchanged');
    const admins = await sql<{ id: string; role: string; email: string }>(
      `SELECT id, role, email FROM users WHERE email = 'root@souk.example'`,
    );
    assert.is(admins.length, 1);
    assert.is(admins[0]?.role, 'admin');
    const login = await call(app.url, 'POST', '/sessions', {
      body: { email: 'root@souk.example', password: ADMIN.ADMIN_PASSWORD },
    });
    assert.is(login.status, 201);
    const check = await call(app.url, 'POST', '/tokens/validate', {
      body: { token: login.body['accessToken'] },
    });
    assert.equal(check.body['roles'], ['admin']);
    const [registered] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM souk_outbox WHERE event_type = 'UserRegistered' AND aggregate_id = $1`,
      [admins[0]!.id],
    );
    assert.is(registered?.n, 1, 'one UserRegistered for the admin across both starts');
  },
);

seeding('an existing customer named as ADMIN_EMAIL is promoted once, keeping its password', async () => {
  const email = freshEmail('promote');
  await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Soon Admin' } });
  await app.stop();
  app = await startApp(s, { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'another admin passphrase' });
  assert.is(app.adminSeed, 'promoted');
  await app.stop();
  app = await startApp(s, { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'another admin passphrase' });
  assert.is(app.adminSeed, 'unchanged');
  const login = await call(app.url, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  assert.is(login.status, 201);
  const check = await call(app.url, 'POST', '/tokens/validate', {
    body: { token: login.body['accessToken'] },
  });
  assert.equal(check.body['roles'], ['admin']);
});

seeding.after(async () => {
  await consumer.stop();
  await readerDb.close();
  await app.stop();
  await s.close();
});

lifecycle.run();
seeding.run();
