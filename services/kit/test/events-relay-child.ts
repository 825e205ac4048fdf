/**
 * A relay in its own process, for crash tests. With PAUSE=before-publish (or after-publish) it prints
 * `paused <event ids>` once it holds rows at that point, and waits there to be killed.
 */
import { Kafka, logLevel } from 'kafkajs';
import { OutboxRelay, type OutboxRow } from '../src/events/relay.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const prefix = env('TOPIC_PREFIX');
const pause = process.env['PAUSE'];
const hold = (rows: OutboxRow[]) => {
  process.stdout.write(`paused ${rows.map((r) => r.eventId).join(',')}\n`);
  return new Promise<void>(() => {});
};
const relay = new OutboxRelay({
  databaseUrl: env('DATABASE_URL'),
  kafka: new Kafka({
    clientId: 'relay-child',
    brokers: env('BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  }),
  resolveTopic: (topic) => `${prefix}${topic}`,
  hooks: {
    ...(pause === 'before-publish' ? { beforePublish: hold } : {}),
    ...(pause === 'after-publish' ? { afterPublish: hold } : {}),
  },
});
relay.start();
process.stdout.write('started\n');
process.on('SIGTERM', () => {
  relay.stop().then(() => process.exit(0));
});
