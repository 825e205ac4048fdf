import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import { Metrics } from '../src/metrics.ts';
import { type Db, effectConsumer, effects, openEventsDb, writeChange } from './events-support.ts';

const s = await useSuite('kit-events-crash');
const kafka = new Kafka({
  clientId: 'events-crash-test',
  brokers: s.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const prefix = `${s.id}.`;
const resolveTopic = (topic: string) => `${prefix}${topic}`;
const children = new Set<ChildProcess>();
let db: Db;

const test = suite('relay crash');

test.before(async () => {
  db = await openEventsDb(s.databaseUrl);
});

test.after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await db?.close();
  await s.close();
});

/** Starts the relay in a child process; resolves with it and, once it printed one, its `paused` line. */
function startRelay(pause?: 'before-publish' | 'after-publish') {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./events-relay-child.ts', import.meta.url))],
    {
      env: {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        BROKERS: s.kafkaBrokers.join(','),
        TOPIC_PREFIX: prefix,
        ...(pause ? { PAUSE: pause } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ?? code);
    }),
  );
  let out = '';
  const paused = new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = /^paused (.*)$/m.exec(out);
      if (line) resolve(line[1]!.split(','));
    });
    exited.then(() => reject(new Error(`relay exited before pausing: ${out}`)));
  });
  paused.catch(() => {});
  return { child, paused, exited };
}

const sentAt = async (id: string) =>
  (
    await db.primary.$queryRawUnsafe<{ sent_at: Date | null }[]>(
      'SELECT sent_at FROM souk_outbox WHERE event_id = $1::uuid',
      id,
    )
  )[0]?.sent_at;

for (const pause of ['before-publish', 'after-publish'] as const) {
  test(`a relay killed ${pause.replace('-', ' ')} leaves the event pending; after a restart it is applied once`, async () => {
    const groupId = s.groupId(`crash-${pause}`);
    const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
    const consumer = effectConsumer(db, { kafka, groupId, resolveTopic, metrics });
    await consumer.start();
    await consumer.joined();
    const crashing = startRelay(pause);
    const { id } = await writeChange(db, pause === 'before-publish' ? 1 : 2);
    const held = await crashing.paused;
    assert.ok(held.includes(id), 'the relay holds the committed event');
    crashing.child.kill('SIGKILL');
    assert.equal(await crashing.exited, 'SIGKILL');
    assert.equal(await sentAt(id), null, 'the event is still pending after the crash');
    if (pause === 'after-publish') {
      // It did reach Kafka once: the consumer applies it.
      await waitFor('the first delivery', async () =>
        (await effects(db, groupId)).some((r) => r.event_id === id),
      );
    } else {
      assert.equal((await effects(db, groupId)).length, 0, 'nothing was published');
    }

    const restarted = startRelay();
    await waitFor('the event to be marked sent', async () => (await sentAt(id)) != null);
    await waitFor('the effect', async () => (await effects(db, groupId)).some((r) => r.event_id === id));
    if (pause === 'after-publish') {
      await waitFor('the second delivery', async () =>
        /result="duplicate"[^}]*\} 1/.test(await metrics.text()),
      );
    } else {
      await new Promise((r) => setTimeout(r, 1000));
    }
    const rows = (await effects(db, groupId)).filter((r) => r.event_id === id);
    assert.equal(rows.length, 1, 'applied exactly once');
    restarted.child.kill('SIGTERM');
    assert.equal(await restarted.exited, 0);
    await consumer.stop();
  });
}

test.run();
