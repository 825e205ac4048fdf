import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kafka, type KafkaConfig, logLevel, Partitioners, type Producer } from 'kafkajs';

/**
 * A producer that keeps per-key order: one request in flight per broker, acks from all in-sync
 * replicas, retries. Not kafkajs's idempotent producer: it needs InitProducerId from a controller
 * the local mock cluster does not have; duplicates from retries are absorbed by the consumers' inbox.
 */
export function orderedProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
  });
}

export function createKafka(brokers: string[], options: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'souk',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    ...options,
  });
}

/** Brokers from SOUK_KAFKA_BROKERS, else from the local infrastructure's `.souk/infra.env`. */
export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  let list = env['SOUK_KAFKA_BROKERS'];
  if (!list) {
    const file =
      env['SOUK_INFRA_ENV'] ?? fileURLToPath(new URL('../../../../.souk/infra.env', import.meta.url));
    try {
      const line = readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('SOUK_KAFKA_BROKERS='));
      list = line?.slice('SOUK_KAFKA_BROKERS='.length).trim().replace(/^"|"$/g, '');
    } catch {}
  }
  if (!list) throw new Error('no Kafka brokers: set SOUK_KAFKA_BROKERS (or run `npm run infra up`)');
  return list
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}
