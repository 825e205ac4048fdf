import { waitFor } from '@souk/harness/infra/processes';
import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { headerStrings } from '@souk/kit/events/codec';
import {
  type EventEnvelope,
  PaymentCaptureRequested,
  PaymentRefundRequested,
  PaymentRequested,
  PaymentVoidRequested,
  toMessage,
  uuidv7,
} from '@souk/kit/events/index';
import { tokenizeCard } from '@souk/kit/payments/card-token';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { createPayments, type Payments } from '../src/app.ts';
import { paymentsConfig } from '../src/config.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

/** Settings for tests: a short provider timeout and quick retries. */
export function paymentsEnv(
  s: Suite,
  usersUrl: string,
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    ...s.serviceEnv('payments'),
    LOG_LEVEL: 'info',
    USERS_URL: usersUrl,
    PROVIDER_TIMEOUT_MS: '400',
    PROVIDER_MAX_ATTEMPTS: '3',
    PROVIDER_RETRY_BASE_MS: '10',
    PROVIDER_RETRY_MAX_MS: '50',
    ...env,
  };
}

/** Payments in-process on port 0, on the suite's database (migrated at start), prefix and topics. */
export async function startPayments(
  s: Suite,
  usersUrl = 'http://127.0.0.1:9',
  env: Record<string, string> = {},
): Promise<Payments & { url: string; logs: LogLine[]; rawLogs: string[] }> {
  const config = loadConfig(paymentsConfig, paymentsEnv(s, usersUrl, env));
  const logs: LogLine[] = [];
  const rawLogs: string[] = [];
  const payments = await createPayments({
    config,
    logDestination: {
      write: (line: string) => {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  });
  const { url } = await payments.start();
  return Object.assign(payments, { url, logs, rawLogs });
}

export interface Received {
  topic: string;
  envelope: EventEnvelope;
  headers: Record<string, string>;
}

/**
 * The saga's side of the conversation: sends commands to orders.events and reads everything on
 * payments.events (and the dead-letter topic of orders.events) back from Kafka.
 */
export class Saga {
  readonly received: Received[] = [];
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #consumer: ReturnType<Kafka['consumer']>;
  readonly #s: Suite;

  constructor(s: Suite) {
    this.#s = s;
    this.#kafka = new Kafka({ clientId: 'saga-test', brokers: s.kafkaBrokers, logLevel: logLevel.NOTHING });
    this.#producer = this.#kafka.producer({ allowAutoTopicCreation: true });
    this.#consumer = this.#kafka.consumer({
      groupId: s.groupId('saga'),
      sessionTimeout: 6_000,
      maxWaitTimeInMs: 100,
    });
  }

  async start(): Promise<void> {
    await this.#producer.connect();
    // Both topics exist before anyone subscribes, so the consumers see them from their first join.
    await this.#producer.send({
      topic: this.#s.topic('payments.events'),
      messages: [{ key: 'warm-up', value: 'null' }],
    });
    await this.#producer.send({
      topic: this.#s.topic('orders.events.dlq'),
      messages: [{ key: 'warm-up', value: 'null' }],
    });
    await this.#consumer.connect();
    const joined = new Promise<void>((resolve) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => resolve());
    });
    await this.#consumer.subscribe({
      topics: [this.#s.topic('payments.events'), this.#s.topic('orders.events.dlq')],
      fromBeginning: true,
    });
    await this.#consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (message.key?.toString() === 'warm-up') return;
        const headers = headerStrings(message.headers);
        const value = message.value?.toString('utf8') ?? 'null';
        let envelope: EventEnvelope;
        try {
          envelope = JSON.parse(value) as EventEnvelope;
        } catch {
          envelope = { raw: value } as unknown as EventEnvelope;
        }
        this.received.push({ topic, envelope, headers });
      },
    });
    await joined;
  }

  /** Sends envelopes as the orders relay would (keyed by order id, with the kit's headers). */
  async send(...events: EventEnvelope[]): Promise<void> {
    await this.#producer.send({
      topic: this.#s.topic('orders.events'),
      acks: -1,
      messages: events.map((e) => toMessage(e)),
    });
  }

  async sendRaw(key: string, value: string, headers: Record<string, string> = {}): Promise<void> {
    await this.#producer.send({ topic: this.#s.topic('orders.events'), messages: [{ key, value, headers }] });
  }

  outcomes(orderId: string): EventEnvelope[] {
    return this.received
      .filter((r) => r.topic === this.#s.topic('payments.events') && r.envelope.aggregateId === orderId)
      .map((r) => r.envelope);
  }

  deadLetters(): Received[] {
    return this.received.filter((r) => r.topic === this.#s.topic('orders.events.dlq'));
  }

  /** Waits until `orderId` has at least `count` outcomes; returns them. */
  async waitForOutcomes(orderId: string, count: number, timeoutMs = 20_000): Promise<EventEnvelope[]> {
    await waitFor(
      `${count} outcomes for ${orderId}`,
      () => this.outcomes(orderId).length >= count,
      timeoutMs,
    );
    return this.outcomes(orderId);
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect().catch(() => {});
    await this.#producer.disconnect().catch(() => {});
  }
}

/** Waits a little longer for anything more to arrive (to show that nothing else does). */
export const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

/** The saga's commands, with fresh ids unless given. */
export const commands = {
  authorize(
    card: string,
    amountCents: number,
    options: { orderId?: string; stepId?: string; currency?: string } = {},
  ) {
    const orderId = options.orderId ?? uuidv7();
    const { token, last4 } = tokenizeCard(card);
    return PaymentRequested.create(orderId, {
      orderId,
      stepId: options.stepId ?? uuidv7(),
      userId: '0195f1c2-7a3b-7c00-8000-00000000000a',
      amountCents,
      currency: options.currency ?? 'EUR',
      card: { token, last4 },
    });
  },
  capture(orderId: string, paymentId: string, amountCents: number, stepId = uuidv7(), currency = 'EUR') {
    return PaymentCaptureRequested.create(orderId, { orderId, stepId, paymentId, amountCents, currency });
  },
  void(orderId: string, paymentId?: string, stepId = uuidv7()) {
    return PaymentVoidRequested.create(orderId, {
      orderId,
      stepId,
      ...(paymentId ? { paymentId } : {}),
      reason: 'payment_timeout',
    });
  },
  refund(orderId: string, paymentId: string, amountCents: number, stepId = uuidv7(), currency = 'EUR') {
    return PaymentRefundRequested.create(orderId, {
      orderId,
      stepId,
      paymentId,
      amountCents,
      currency,
      reason: 'customer_requested',
    });
  },
};

/** The ledger of an order straight from the primary: operations, entries and balances. */
export async function ledgerOf(payments: Payments, orderId: string) {
  const db = payments.db.primary;
  const payment = await db.payment.findUnique({ where: { orderId } });
  const operations = await db.paymentOperation.findMany({
    where: { orderId },
    orderBy: { createdAt: 'asc' },
  });
  const entries = payment
    ? await db.ledgerEntry.findMany({ where: { paymentId: payment.id }, orderBy: { id: 'asc' } })
    : [];
  const balances = { customer: 0, hold: 0, merchant: 0 };
  for (const e of entries) balances[e.account] += Number(e.amountCents);
  return { payment, operations, entries, balances };
}
