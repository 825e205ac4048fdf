/**
 * Operator tooling for the event backbone, as `npm run events -- <command>`:
 *
 *   tail <topic> [--from-beginning] [--limit N] [--timeout S]   print envelopes (and dead-letter reasons)
 *   replay-dlq <topic> [--timeout S]                           republish `<topic>.dlq` to where it came from
 *   snapshot                                                   publish new contract versions' schemas
 *   check                                                      check contracts against published schemas
 *
 * Brokers come from SOUK_KAFKA_BROKERS, or the local infrastructure's `.souk/infra.env`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { headerStrings } from './codec.ts';
import { revive } from './dead-letter.ts';
import { dlqTopicOf, Header } from './envelope.ts';
import { brokersFromEnv, createKafka, orderedProducer } from './kafka.ts';
import { checkContracts, publishSnapshots } from './snapshots.ts';

type Print = (line: string) => void;

export interface TailOptions {
  fromBeginning?: boolean;
  limit?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One line per message: where it is, its key and headers, the envelope, and why it was dead-lettered. */
export function describeMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): Record<string, unknown> {
  const headers = headerStrings(message.headers);
  let envelope: unknown = message.value?.toString('utf8') ?? null;
  try {
    envelope = JSON.parse(envelope as string);
  } catch {}
  const line: Record<string, unknown> = {
    topic,
    partition,
    offset: message.offset,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: message.key?.toString('utf8') ?? null,
    headers,
    envelope,
  };
  if (headers[Header.dlqReason] !== undefined) {
    line['deadLetter'] = {
      reason: headers[Header.dlqReason],
      attempts: Number(headers[Header.dlqAttempts]),
      from: `${headers[Header.dlqTopic]}/${headers[Header.dlqPartition]}@${headers[Header.dlqOffset]}`,
      consumerGroup: headers[Header.dlqConsumer],
      at: headers[Header.dlqAt],
    };
  }
  return line;
}

/** Prints messages of a topic until `limit`, `timeoutMs` or the signal; resolves with how many. */
export async function tail(
  kafka: Kafka,
  topic: string,
  print: Print,
  options: TailOptions = {},
): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `souk-events-tail-${randomBytes(4).toString('hex')}`,
    sessionTimeout: 6_000,
    maxWaitTimeInMs: 200,
  });
  let count = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = options.timeoutMs ? setTimeout(finish, options.timeoutMs) : undefined;
  options.signal?.addEventListener('abort', () => finish(), { once: true });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (options.limit !== undefined && count >= options.limit) return;
        print(JSON.stringify(describeMessage(topic, partition, message)));
        count++;
        if (options.limit !== undefined && count >= options.limit) finish();
      },
    });
    await finished;
    return count;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

export interface ReplayResult {
  dlq: string;
  replayed: number;
  /** Replayed messages per topic they went back to. */
  byTopic: Record<string, number>;
}

/**
 * Republishes the dead letters of `topic` not replayed yet (the replay group's committed offsets
 * remember), each to the topic it came from, without the dead-letter headers. Consumers that did
 * handle an event before skip it by its id, so replaying is safe.
 */
export async function replayDeadLetters(kafka: Kafka, topic: string, options: { timeoutMs?: number } = {}) {
  const dlq = topic.endsWith('.dlq') ? topic : dlqTopicOf(topic);
  const groupId = `souk-events-replay.${dlq}`;
  const admin = kafka.admin();
  await admin.connect();
  /** Partitions with letters to replay, and the offset to stop before. */
  const ends = new Map<number, bigint>();
  try {
    const high = await admin.fetchTopicOffsets(dlq);
    const committed = await admin.fetchOffsets({ groupId, topics: [dlq] });
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset === '-1' ? 0 : p.offset)]),
    );
    for (const p of high) {
      const committedAt = done.get(p.partition) ?? 0n;
      const from = BigInt(p.low) > committedAt ? BigInt(p.low) : committedAt;
      if (BigInt(p.high) > from) ends.set(p.partition, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const result: ReplayResult = { dlq, replayed: 0, byTopic: {} };
  if (ends.size === 0) return result;

  const producer = orderedProducer(kafka);
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6_000, maxWaitTimeInMs: 200 });
  const left = new Set(ends.keys());
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = setTimeout(finish, options.timeoutMs ?? 60_000);
  await producer.connect();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        const end = ends.get(batch.partition) ?? 0n;
        const messages = batch.messages.filter((m) => BigInt(m.offset) < end);
        if (messages.length > 0) {
          const revived = messages.map((m) => revive(m, dlq));
          const byTopic = new Map<string, typeof revived>();
          for (const r of revived) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
          await producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([t, list]) => ({
              topic: t,
              messages: list.map((r) => r.message),
            })),
          });
          for (const [t, list] of byTopic) result.byTopic[t] = (result.byTopic[t] ?? 0) + list.length;
          result.replayed += messages.length;
          resolveOffset(messages.at(-1)!.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= end) left.delete(batch.partition);
        if (left.size === 0) finish();
      },
    });
    await finished;
    return result;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await producer.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'from-beginning': { type: 'boolean' },
      limit: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const [command, topic] = positionals;
  const print: Print = (line) => process.stdout.write(`${line}\n`);
  const timeoutMs = values.timeout !== undefined ? Number(values.timeout) * 1000 : undefined;
  switch (command) {
    case 'tail': {
      if (!topic) break;
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      const count = await tail(createKafka(brokersFromEnv()), topic, print, {
        fromBeginning: values['from-beginning'] ?? false,
        ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        signal: abort.signal,
      });
      process.stderr.write(`${count} message(s)\n`);
      return 0;
    }
    case 'replay-dlq': {
      if (!topic) break;
      const result = await replayDeadLetters(
        createKafka(brokersFromEnv()),
        topic,
        timeoutMs !== undefined ? { timeoutMs } : {},
      );
      const to = Object.entries(result.byTopic)
        .map(([t, n]) => `${n} to ${t}`)
        .join(', ');
      print(`replayed ${result.replayed} dead letter(s) from ${result.dlq}${to ? `: ${to}` : ''}`);
      return 0;
    }
    case 'snapshot': {
      const added = publishSnapshots();
      print(added.length ? `published ${added.join(', ')}` : 'every contract version is already published');
      return 0;
    }
    case 'check': {
      const result = checkContracts();
      for (const key of result.unpublished) print(`unpublished: ${key} (run \`npm run events -- snapshot\`)`);
      for (const key of result.removed) print(`removed: ${key} is published but no longer defined`);
      for (const { key, issues } of result.incompatible) {
        for (const issue of issues)
          print(`incompatible: ${key} ${issue.path} (${issue.direction}): ${issue.message}`);
      }
      return result.removed.length + result.incompatible.length > 0 ? 1 : 0;
    }
  }
  process.stderr.write(
    'usage: npm run events -- tail <topic> [--from-beginning] [--limit N] [--timeout S]\n' +
      '       npm run events -- replay-dlq <topic> [--timeout S]\n' +
      '       npm run events -- snapshot | check\n',
  );
  return 2;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
