import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { OrderConfirmed, uuidv7 } from '@souk/kit/events/index';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { test } from 'uvu';
import { customer, metric, Publisher, settle, startNotifications, startUsersFor } from './support.ts';

// SMTP_URL set: mails go out over SMTP, to a real SMTP server (smtp-server) listening here.
interface Received {
  to: string[];
  data: string;
}
const received: Received[] = [];
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, callback) {
    let data = '';
    stream.on('data', (c: Buffer) => {
      data += c.toString('utf8');
    });
    stream.on('end', () => {
      received.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
const smtpPort = (smtp.server.address() as AddressInfo).port;

const s = await useSuite('notifications-smtp');
const users = await startUsersFor(s);
const notifications = await startNotifications(s, users.url, {
  SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  MAIL_FROM: 'Souk <shop@souk.test>',
});
const publisher = new Publisher(s);
await publisher.connect();
const db = new pg.Pool({ connectionString: s.databaseUrl, max: 1 });

test('welcome and order mails go out over SMTP once each, a redelivery sends none', async () => {
  const dana = await customer(users.url, 'dana');
  await waitFor('the welcome mail', () => received.some((m) => m.to.includes(dana.email)), 30_000);
  const orderId = uuidv7();
  const event = OrderConfirmed.create(orderId, {
    orderId,
    userId: dana.id,
    paymentId: uuidv7(),
    totalCents: 2500,
    currency: 'EUR',
  });
  await publisher.send('orders.events', event, event);
  await waitFor(
    'the order mail',
    () => received.filter((m) => m.to.includes(dana.email)).length >= 2,
    20_000,
  );
  await waitFor(
    'the redelivery',
    async () =>
      (await metric(notifications.url, 'souk_events_consumed_total', {
        type: 'OrderConfirmed',
        result: 'duplicate',
      })) >= 1,
    20_000,
  );
  await notifications.mailer.idle();
  await settle(1_000);
  const mine = received.filter((m) => m.to.includes(dana.email));
  assert.equal(mine.length, 2);
  assert.match(mine[0]!.data, /Subject: Welcome to Souk, Test dana/);
  assert.ok(mine[1]!.data.includes(orderId.slice(-8)), 'the order in the subject');
  assert.match(mine[1]!.data, /25\.00 EUR is confirmed/);
  assert.match(mine[1]!.data, /From: Souk <shop@souk\.test>/);
  const rows = await db.query(
    `SELECT email_status, emailed_at FROM notifications WHERE user_id = $1 ORDER BY id`,
    [dana.id],
  );
  assert.deepEqual(
    rows.rows.map((r) => r.email_status),
    ['sent', 'sent'],
  );
  assert.ok(rows.rows.every((r) => r.emailed_at));
  assert.equal(
    await metric(notifications.url, 'souk_notifications_mailed_total', { result: 'sent' }),
    received.length,
  );
});

test.after(async () => {
  await publisher.disconnect();
  await db.end();
  await notifications.stop();
  await users.stop();
  await s.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

test.run();
