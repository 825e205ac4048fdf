import type { Admin, Kafka } from 'kafkajs';
import type { CheckOptions, Health } from '../health.ts';
import { withTimeout } from '../redis.ts';

/**
 * A readiness check of the Kafka cluster: one admin connection, kept between checks, asks for the
 * cluster metadata. A failure drops the connection, so the next check starts afresh.
 */
export function kafkaHealthCheck(kafka: Kafka, timeoutMs = 1_500) {
  let admin: Admin | undefined;
  const drop = async () => {
    const current = admin;
    admin = undefined;
    await current?.disconnect().catch(() => {});
  };
  return {
    async check(): Promise<void> {
      try {
        if (!admin) {
          admin = kafka.admin({ retry: { retries: 0 } });
          await withTimeout(admin.connect(), timeoutMs, 'kafka connect');
        }
        const { brokers } = await withTimeout(admin.describeCluster(), timeoutMs, 'kafka metadata');
        if (brokers.length === 0) throw new Error('no brokers in the cluster metadata');
      } catch (error) {
        await drop();
        throw error;
      }
    },
    close: drop,
  };
}

/**
 * Registers the check as `kafka` on /readyz, non-critical by default: with the outbox, a broker
 * outage delays events but loses none, so the service keeps taking requests.
 */
export function registerKafkaHealth(
  health: Health,
  kafka: Kafka,
  options: CheckOptions & { name?: string } = {},
): { close(): Promise<void> } {
  const { name = 'kafka', critical = false, timeoutMs = 2_000 } = options;
  const probe = kafkaHealthCheck(kafka, timeoutMs - 250);
  health.register(name, () => probe.check(), { critical, timeoutMs });
  return { close: probe.close };
}
