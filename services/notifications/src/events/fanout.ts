import { createRedisCluster, type RedisCluster, redisReady, withTimeout } from '@souk/kit';
import type { NotificationView } from '../data/notifications.ts';

/** An event as the admin stream shows it: what and when, never its data (no PII). */
export interface EventSummary {
  id: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  occurredAt: string;
  topic: string;
}

export type FanoutMessage =
  | { t: 'notification'; userId: string; notification: NotificationView }
  | { t: 'user-deleted'; userId: string }
  | { t: 'event'; event: EventSummary };

interface Log {
  warn(obj: object, msg?: string): void;
}

export interface FanoutOptions {
  /**
   * The publishing client (the service's cluster client). Without Redis, messages go straight to
   * `onMessage` in this process: right for a single replica, which is all a service without Redis runs.
   */
  redis: RedisCluster | undefined;
  /** Node addresses, for the subscriber's own connection. */
  nodes: string | undefined;
  prefix: string;
  onMessage: (message: FanoutMessage) => void;
  log: Log;
}

/**
 * Every replica hears what any replica stored, through one Redis pub/sub channel on the cluster.
 * Redis Cluster forwards a PUBLISH to every node over the cluster bus, so a subscriber connected
 * to any node receives it: each replica needs one subscription whatever its clients, and the
 * admin stream (all events) is the same channel. Pub/sub is at most once: a lost message is
 * noticed by the gap in the user's ids at the next one (or on reconnect) and read from the database.
 */
export class Fanout {
  readonly #o: FanoutOptions;
  readonly #channel: string;
  #subscriber: RedisCluster | undefined;

  constructor(options: FanoutOptions) {
    this.#o = options;
    this.#channel = `${options.prefix}notifications:fanout`;
  }

  async start(): Promise<void> {
    if (!this.#o.redis || !this.#o.nodes) return;
    const sub = createRedisCluster(this.#o.nodes, {
      overrides: {
        enableOfflineQueue: true,
        redisOptions: { connectTimeout: 1_000, autoResubscribe: true, maxRetriesPerRequest: null },
      },
    });
    this.#subscriber = sub;
    sub.on('message', (channel: string, raw: string) => {
      if (channel !== this.#channel) return;
      try {
        this.#o.onMessage(JSON.parse(raw) as FanoutMessage);
      } catch (error) {
        this.#o.log.warn({ err: error }, 'bad fan-out message');
      }
    });
    await redisReady(sub, 10_000);
    await sub.subscribe(this.#channel);
  }

  /** Best effort: when Redis is out, clients catch up from the database on their next message or reconnect. */
  async publish(message: FanoutMessage): Promise<void> {
    if (!this.#o.redis) {
      this.#o.onMessage(message);
      return;
    }
    try {
      await withTimeout(this.#o.redis.publish(this.#channel, JSON.stringify(message)), 1_000);
    } catch (error) {
      this.#o.log.warn({ err: error, t: message.t }, 'fan-out publish failed');
    }
  }

  async close(): Promise<void> {
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (!sub) return;
    await withTimeout(sub.quit(), 1_000).catch(() => sub.disconnect());
  }
}
