import type { Logger } from '@souk/kit';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationsDb } from '../data/database.ts';
import type { NotificationsMetrics } from './metrics.ts';

/** SMTP when a URL is given; otherwise each mail is rendered as JSON (and logged by the mailer). */
export function mailTransport(smtpUrl: string | undefined): Transporter {
  return smtpUrl ? nodemailer.createTransport(smtpUrl) : nodemailer.createTransport({ jsonTransport: true });
}

export interface MailerOptions {
  db: NotificationsDb;
  transport: Transporter;
  from: string;
  pollMs: number;
  metrics: NotificationsMetrics;
  log: Logger;
}

interface PendingMail {
  user_id: string;
  id: bigint;
  title: string;
  body: string;
  email: string | null;
  display_name: string | null;
}

/**
 * Sends the e-mail of each notification once. The notification row is its outbox entry
 * (`email_status = 'pending'`): one row at a time is locked (SKIP LOCKED, so replicas share the
 * work), sent, and marked sent in the same transaction. A crash between the send and the commit
 * sends that one mail again, the only case of a second mail. Replaying notifications to a client
 * never touches this.
 */
export class Mailer {
  readonly #o: MailerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: MailerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.#o.pollMs);
    this.#timer.unref();
    this.kick();
  }

  /** Sends what is pending now (called after each stored notification, and on a timer). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          while (!this.#stopped && (await this.#sendOne())) {}
        } catch (error) {
          this.#o.log.warn({ err: error }, 'sending e-mail failed; retried on the next round');
          this.#o.metrics.mailed.inc({ result: 'failed' });
          break;
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once nothing is being sent. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.idle();
    this.#o.transport.close();
  }

  async #sendOne(): Promise<boolean> {
    const { db, transport, from, log, metrics } = this.#o;
    return db.primary.$transaction(
      async (tx) => {
        const [mail] = await tx.$queryRaw<PendingMail[]>`
          SELECT n."user_id", n."id", n."title", n."body", r."email", r."display_name"
          FROM "notifications" n LEFT JOIN "notification_recipients" r ON r."user_id" = n."user_id"
          WHERE n."email_status" = 'pending'
          ORDER BY n."created_at" LIMIT 1
          FOR UPDATE OF n SKIP LOCKED`;
        if (!mail) return false;
        let status: 'sent' | 'skipped' = 'skipped';
        if (mail.email) {
          const info = await transport.sendMail({
            from,
            to: mail.display_name ? { name: mail.display_name, address: mail.email } : mail.email,
            subject: mail.title,
            text: mail.body,
          });
          status = 'sent';
          metrics.mailed.inc({ result: 'sent' });
          const json = (info as { message?: unknown }).message;
          log.info(
            {
              userId: mail.user_id,
              notificationId: Number(mail.id),
              messageId: info.messageId,
              ...(typeof json === 'string' ? { mail: JSON.parse(json) as unknown } : {}),
            },
            'mail sent',
          );
        }
        await tx.$executeRaw`
          UPDATE "notifications" SET "email_status" = ${status}::"notification_email_status", "emailed_at" = now()
          WHERE "user_id" = ${mail.user_id}::uuid AND "id" = ${mail.id}`;
        return true;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }
}
