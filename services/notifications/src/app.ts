import { createService, type Listening, requireRole, type Service, type ServiceHost } from '@souk/kit';
import { connectEvents } from '@souk/kit/events/service-events';
import { connectPlatform } from '@souk/kit/platform-clients';
import type { Transporter } from 'nodemailer';
import type { NotificationsConfig } from './config.ts';
import { type NotificationsDb, notificationsDatabase } from './data/database.ts';
import { NotificationsRepository } from './data/notifications.ts';
import { OrderOwnersRepository } from './data/order-owners.ts';
import { PrometheusClient } from './data/prometheus.ts';
import { RecipientsRepository } from './data/recipients.ts';
import { LiveCharts } from './domain/live-charts.ts';
import { Mailer, mailTransport } from './domain/mailer.ts';
import { notificationsMetrics } from './domain/metrics.ts';
import { Notifier } from './domain/notifier.ts';
import { notificationConsumer } from './events/consumer.ts';
import { Fanout } from './events/fanout.ts';
import { chartRoutes } from './routes/charts.ts';
import { consolePages } from './routes/console.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { Stream } from './routes/stream.ts';

export const VERSION = '0.1.0';

export interface NotificationsOptions extends ServiceHost {
  config: NotificationsConfig;
  /** Another nodemailer transport (default: SMTP_URL, or JSON). */
  transport?: Transporter;
}

export interface Notifications {
  service: Service<NotificationsConfig>;
  db: NotificationsDb;
  stream: Stream;
  mailer: Mailer;
  /** Listens, subscribes to the fan-out, then starts the consumer and the mailer. */
  start(): Promise<Listening>;
  /** Resolves once the consumer has joined its group (the first join takes seconds). */
  joined(): Promise<void>;
  stop(): Promise<boolean>;
}

/** Builds the notifications service from its configuration; nothing runs until `start()`. */
export async function createNotifications(options: NotificationsOptions): Promise<Notifications> {
  const { config } = options;
  const service = createService({
    config,
    version: VERSION,
    description:
      'Per-user notifications from the order, payment and user events: `GET /notifications`, a live ' +
      'WebSocket at /notifications/stream (token as the subprotocol `bearer.<token>` next to ' +
      '`souk.notifications.v1`; `?lastId=N` resumes), an admin event stream at /notifications/events, ' +
      'e-mail once per notification, and the live console at /console.',
    logDestination: options.logDestination,
    tracing: options.tracing,
  });
  const log = service.logger;
  const platform = await connectPlatform(service, {
    database: notificationsDatabase,
    waitForRedisMs: 5_000,
  });
  const { db } = platform;
  const verifier = platform.usersTokens(config.USERS_URL);
  const { denyList, redis } = platform;
  const auth = [platform.authenticate(verifier)];

  const charts = new LiveCharts(
    config.PROMETHEUS_URL ? new PrometheusClient(config.PROMETHEUS_URL) : undefined,
    config.CHART_RATE_WINDOW,
  );
  const counters = notificationsMetrics(service.metrics);
  const repo = new NotificationsRepository(db);
  const notifier = new Notifier(repo, new RecipientsRepository(), new OrderOwnersRepository());
  const stream = new Stream({ verifier, denyList, repo, metrics: counters, log, pingMs: config.WS_PING_MS });
  const fanout = new Fanout({
    redis,
    nodes: config.REDIS_NODES,
    prefix: config.REDIS_KEY_PREFIX,
    log,
    onMessage: (m) => {
      if (m.t === 'notification') stream.notification(m.userId, m.notification);
      else if (m.t === 'user-deleted') stream.userDeleted(m.userId);
      else stream.event(m.event);
    },
  });
  service.shutdown.register('fan-out', () => fanout.close(), { phase: 'clients' });
  const mailer = new Mailer({
    db,
    transport: options.transport ?? mailTransport(config.SMTP_URL),
    from: config.MAIL_FROM,
    pollMs: config.MAIL_POLL_MS,
    metrics: counters,
    log,
  });
  service.shutdown.register('mailer', () => mailer.stop(), { phase: 'relays' });

  const events = connectEvents(service, config);
  const consumer = notificationConsumer({
    kafka: events.kafka,
    db,
    notifier,
    groupId: events.groupId('notifications'),
    resolveTopic: events.resolveTopic,
    counters,
    metrics: service.metrics,
    logger: log,
    shutdown: service.shutdown,
    onCommitted: ({ event, stored, deletedUser }) => {
      if (stored) {
        void fanout.publish({ t: 'notification', userId: stored.userId, notification: stored.notification });
        mailer.kick();
      }
      if (deletedUser) void fanout.publish({ t: 'user-deleted', userId: deletedUser });
      void fanout.publish({ t: 'event', event });
    },
  });

  return {
    service,
    db,
    stream,
    mailer,
    async start() {
      await fanout.start();
      const listening = await service.start({
        routes: [...notificationRoutes(repo, auth), ...chartRoutes(charts, [...auth, requireRole('admin')])],
        use: [consolePages()],
        upgrade: stream,
      });
      mailer.start();
      await consumer.start();
      return listening;
    },
    joined: () => consumer.joined(),
    stop: () => service.stop(),
  };
}
