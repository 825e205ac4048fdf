import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafkaMock } from '@souk/harness/infra';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { Kafka, logLevel } from 'kafkajs';
import { test } from 'uvu';
import { OutboxRelay } from '../src/events/relay.ts';
import { effectConsumer, effects, openEventsDb, orderViolations, writeChange } from './events-support.ts';

test('every broker down for 10 s during 1000 writes: all 1000 events arrive, in order per key', async () => {
  const s = await useSuite('kit-events-broker-down');
  const mock = await startKafkaMock();
  const db = await openEventsDb(s.databaseUrl);
  const kafka = new Kafka({
    clientId: 'events-outage-test',
    brokers: mock.brokers,
    logLevel: logLevel.NOTHING,
  });
  const resolveTopic = (topic: string) => `outage.${topic}`;
  const relay = new OutboxRelay({
    databaseUrl: s.databaseUrl,
    kafka,
    resolveTopic,
    backoff: { maxMs: 2000 },
  });
  const groupId = s.groupId('outage');
  const consumer = effectConsumer(db, { kafka, groupId, resolveTopic });
  const brokers = [1, 2, 3];
  try {
    await mock.control.createTopic('outage.inventory.events', 4, 3);
    relay.start();
    await consumer.start();
    await consumer.joined();

    const written = new Set<string>();
    const started = Date.now();
    const outage = (async () => {
      await sleep(1000);
      for (const id of brokers) await mock.control.brokerDown(id);
      const downAt = Date.now();
      await sleep(10_000);
      for (const id of brokers) await mock.control.brokerUp(id);
      return { downAt, upAt: Date.now() };
    })();
    // 1000 writes over ~12 s, from 4 writers, on 50 items.
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 250; i++) {
          const due = started + (i * 4 + w) * 12;
          if (due > Date.now()) await sleep(due - Date.now());
          written.add((await writeChange(db, (i * 4 + w) % 50)).id);
        }
      }),
    );
    const { downAt, upAt } = await outage;
    assert.ok(upAt - downAt >= 10_000);

    const mine = async () => (await effects(db, groupId)).filter((r) => written.has(r.event_id));
    await waitFor('all 1000 events', async () => (await mine()).length >= 1000, 120_000);
    const rows = await mine();
    assert.equal(written.size, 1000);
    assert.equal(rows.length, 1000, 'each event applied once');
    assert.deepEqual(orderViolations(rows), []);
    // The outage was real: what was written during it went out only once the brokers were back.
    const during = await db.primary.$queryRawUnsafe<{ sent_at: Date }[]>(
      'SELECT sent_at FROM souk_outbox WHERE created_at BETWEEN $1 AND $2',
      new Date(downAt + 500),
      new Date(upAt - 500),
    );
    assert.ok(during.length > 100, `${during.length} events written during the outage`);
    for (const row of during)
      assert.ok(row.sent_at.getTime() >= upAt - 100, 'published after the brokers returned');
  } finally {
    await consumer.stop();
    await relay.stop();
    await db.close();
    await mock.stop();
    await s.close();
  }
});

test.run();
