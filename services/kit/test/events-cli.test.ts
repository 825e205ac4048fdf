import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useSuite } from '@souk/harness/suite';
import { Kafka, logLevel } from 'kafkajs';
import { test } from 'uvu';
import { toMessage } from '../src/events/codec.ts';
import { ItemDeleted } from '../src/events/contracts/inventory.ts';
import { deadLetter } from '../src/events/dead-letter.ts';
import { Header } from '../src/events/envelope.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

test('tail prints envelopes and dead-letter reasons; replay-dlq sends dead letters home once', async () => {
  const s = await useSuite('kit-events-cli');
  const events = (...args: string[]) =>
    exec('npm', ['run', '--silent', 'events', '--', ...args], {
      cwd: root,
      env: { ...process.env, SOUK_KAFKA_BROKERS: s.kafkaBrokers.join(',') },
      timeout: 60_000,
    });
  const kafka = new Kafka({
    clientId: 'events-cli-test',
    brokers: s.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = s.topic('inventory.events');
  const producer = kafka.producer();
  try {
    const event = ItemDeleted.create('0195f1c2-7a3b-7c00-8000-0000000000aa', {
      itemId: '0195f1c2-7a3b-7c00-8000-0000000000aa',
    });
    const original = toMessage(event);
    const letter = deadLetter(
      {
        key: Buffer.from(String(original.key)),
        value: Buffer.from(String(original.value)),
        headers: original.headers as Record<string, string>,
        offset: '41',
        timestamp: String(Date.now()),
        attributes: 0,
      },
      {
        topic,
        partition: 2,
        offset: '41',
        reason: 'Error: stock service said no',
        attempts: 5,
        consumerGroup: 'g',
      },
    );
    await producer.connect();
    await producer.send({ topic: letter.topic, acks: -1, messages: [letter.message] });

    const dlqTail = await events(
      'tail',
      `${topic}.dlq`,
      '--from-beginning',
      '--limit',
      '1',
      '--timeout',
      '30',
    );
    const shown = JSON.parse(dlqTail.stdout.trim()) as {
      key: string;
      envelope: { id: string };
      deadLetter: { reason: string; attempts: number; from: string };
    };
    assert.equal(shown.envelope.id, event.id);
    assert.equal(shown.key, event.aggregateId);
    assert.deepEqual(
      { reason: shown.deadLetter.reason, attempts: shown.deadLetter.attempts, from: shown.deadLetter.from },
      { reason: 'Error: stock service said no', attempts: 5, from: `${topic}/2@41` },
    );

    const first = await events('replay-dlq', topic);
    assert.equal(first.stdout.trim(), `replayed 1 dead letter(s) from ${topic}.dlq: 1 to ${topic}`);
    const again = await events('replay-dlq', topic);
    assert.equal(
      again.stdout.trim(),
      `replayed 0 dead letter(s) from ${topic}.dlq`,
      'each letter is replayed once',
    );

    const back = await events('tail', topic, '--from-beginning', '--limit', '1', '--timeout', '30');
    const replayed = JSON.parse(back.stdout.trim()) as {
      envelope: { id: string };
      headers: Record<string, string>;
    };
    assert.equal(replayed.envelope.id, event.id);
    assert.equal(replayed.headers[Header.eventType], 'ItemDeleted');
    assert.equal(replayed.headers[Header.dlqReason], undefined, 'dead-letter headers are dropped');
  } finally {
    await producer.disconnect();
    await s.close();
  }
});

test.run();
