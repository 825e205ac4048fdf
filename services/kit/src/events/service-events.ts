import type { Kafka } from 'kafkajs';
import type { BaseConfig } from '../config.ts';
import type { Service } from '../service.ts';
import { createKafka } from './kafka.ts';
import { registerKafkaHealth } from './kafka-health.ts';
import { OutboxRelay, type OutboxRelayOptions } from './relay.ts';

export interface EventsConfig {
  SERVICE_NAME: string;
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_PREFIX: string;
  DATABASE_URL: string;
  OUTBOX_POLL_MS?: number;
}

/** A service's side of the event backbone, every name under its KAFKA_TOPIC_PREFIX. */
export interface ServiceEvents {
  kafka: Kafka;
  /** A contract's topic as this environment names it. */
  resolveTopic(topic: string): string;
  /** A consumer group of this service, as this environment names it. */
  groupId(name: string): string;
  /** The service's outbox relay, stopped in the shutdown's 'relays' phase. */
  relay(options?: Partial<OutboxRelayOptions>): OutboxRelay;
}

/** The Kafka client (its check on /readyz, closed at shutdown) and the prefixing every service applies. */
export function connectEvents(service: Service<BaseConfig>, config: EventsConfig): ServiceEvents {
  const kafka = createKafka(
    config.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    { clientId: config.SERVICE_NAME },
  );
  const kafkaHealth = registerKafkaHealth(service.health, kafka);
  service.shutdown.register('kafka health', () => kafkaHealth.close(), { phase: 'clients' });
  const resolveTopic = (topic: string) => `${config.KAFKA_TOPIC_PREFIX}${topic}`;
  return {
    kafka,
    resolveTopic,
    groupId: (name) => `${config.KAFKA_TOPIC_PREFIX}${name}`,
    relay: (options = {}) =>
      new OutboxRelay({
        databaseUrl: config.DATABASE_URL,
        kafka,
        resolveTopic,
        ...(config.OUTBOX_POLL_MS ? { pollIntervalMs: config.OUTBOX_POLL_MS } : {}),
        metrics: service.metrics,
        logger: service.logger,
        shutdown: service.shutdown,
        ...options,
      }),
  };
}
