import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  authenticateUpgrade,
  type DenyList,
  forbidden,
  type Logger,
  notFound,
  Problem,
  rejectUpgrade,
  type TokenVerifier,
  type UpgradeHandler,
} from '@souk/kit';
import { WebSocket, WebSocketServer } from 'ws';
import type { NotificationsRepository, NotificationView } from '../data/notifications.ts';
import type { NotificationsMetrics } from '../domain/metrics.ts';
import type { EventSummary } from '../events/fanout.ts';

/** The subprotocol a client must offer (next to `bearer.<token>`); the server answers with it. */
export const STREAM_PROTOCOL = 'souk.notifications.v1';
export const STREAM_PATH = '/notifications/stream';
export const EVENTS_PATH = '/notifications/events';

/** Close code for a user whose account was deleted while connected. */
const ACCOUNT_DELETED = 4403;

/**
 * One user's connection. Everything sent goes through `#queue`, one step at a time, so the replay
 * and the live messages never interleave, and an id at or below `lastSent` is never sent twice.
 */
class UserConnection {
  #queue: Promise<void> = Promise.resolve();
  lastSent: number;

  constructor(
    readonly ws: WebSocket,
    readonly userId: string,
    lastSent: number,
    private readonly repo: NotificationsRepository,
    private readonly onPushed: (mode: 'live' | 'replay') => void,
    private readonly log: Logger,
  ) {
    this.lastSent = lastSent;
  }

  enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error: unknown) => {
      this.log.warn({ err: error, userId: this.userId }, 'notification stream step failed; closing');
      this.ws.close(1011, 'server error');
    });
  }

  /** Sends everything stored after `lastSent`, from the database. */
  async catchUp(): Promise<number> {
    let sent = 0;
    for (;;) {
      if (this.ws.readyState !== WebSocket.OPEN) return sent;
      const rows = await this.repo.after(this.userId, this.lastSent);
      for (const n of rows) this.#send(n, 'replay');
      sent += rows.length;
      if (rows.length < 500) return sent;
    }
  }

  /** A live notification: sent if next in line; after a gap (a lost fan-out message) the gap is read first. */
  live(n: NotificationView): void {
    this.enqueue(async () => {
      if (n.id <= this.lastSent) return;
      if (n.id > this.lastSent + 1) await this.catchUp();
      if (n.id > this.lastSent) this.#send(n, 'live');
    });
  }

  #send(n: NotificationView, mode: 'live' | 'replay'): void {
    if (this.ws.readyState !== WebSocket.OPEN || n.id <= this.lastSent) return;
    this.ws.send(JSON.stringify({ type: 'notification', replay: mode === 'replay', notification: n }));
    this.lastSent = n.id;
    this.onPushed(mode);
  }
}

export interface StreamOptions {
  verifier: TokenVerifier;
  denyList: DenyList;
  repo: NotificationsRepository;
  metrics: NotificationsMetrics;
  log: Logger;
  pingMs: number;
}

/**
 * The WebSocket endpoints:
 * - `/notifications/stream` (any signed-in user): the user's notifications, resumed after
 *   `?lastId=N` (replayed from the database, then live);
 * - `/notifications/events` (admins): a summary of every event the service consumes.
 * The token is offered as the subprotocol `bearer.<token>`; no token or a bad one is a 401 on the
 * upgrade, a customer on the admin channel a 403.
 */
export class Stream implements UpgradeHandler {
  readonly #o: StreamOptions;
  readonly #wss: WebSocketServer;
  readonly #users = new Map<string, Set<UserConnection>>();
  readonly #admins = new Set<WebSocket>();
  readonly #ping: NodeJS.Timeout;
  readonly #alive = new WeakSet<WebSocket>();

  constructor(options: StreamOptions) {
    this.#o = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: 4 * 1024,
      handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
    });
    this.#ping = setInterval(() => {
      for (const ws of this.#wss.clients) {
        if (!this.#alive.has(ws)) {
          ws.terminate();
          continue;
        }
        this.#alive.delete(ws);
        ws.ping();
      }
    }, options.pingMs);
    this.#ping.unref();
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    this.#accept(req, socket, head).catch((error: unknown) => {
      if (!(error instanceof Problem)) this.#o.log.error({ err: error }, 'websocket upgrade failed');
      rejectUpgrade(socket, error instanceof Problem ? error : 500);
    });
  }

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (path !== STREAM_PATH && path !== EVENTS_PATH) throw notFound('no WebSocket here');
    const principal = await authenticateUpgrade(req, {
      verifier: this.#o.verifier,
      denyList: this.#o.denyList,
    });
    if (path === EVENTS_PATH && !principal.roles.includes('admin')) throw forbidden('requires role admin');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(STREAM_PROTOCOL)) {
      throw new Problem(400, { detail: `offer the subprotocol ${STREAM_PROTOCOL}` });
    }
    const param = url.searchParams.get('lastId');
    let lastId: number | undefined;
    if (param !== null) {
      lastId = Number(param);
      if (!Number.isSafeInteger(lastId) || lastId < 0)
        throw new Problem(400, { detail: 'lastId must be an integer >= 0' });
    }
    // The live position is read before the upgrade, so nothing stored from here on is missed.
    const start = lastId ?? (path === STREAM_PATH ? await this.#o.repo.lastId(principal.sub) : 0);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#alive.add(ws);
      ws.on('pong', () => this.#alive.add(ws));
      ws.on('message', () => {});
      if (path === EVENTS_PATH) this.#openAdmin(ws);
      else this.#openUser(ws, principal.sub, start);
    });
  }

  #openUser(ws: WebSocket, userId: string, lastId: number): void {
    const { metrics, repo, log } = this.#o;
    const conn = new UserConnection(ws, userId, lastId, repo, (mode) => metrics.pushed.inc({ mode }), log);
    const set = this.#users.get(userId) ?? new Set<UserConnection>();
    this.#users.set(userId, set);
    set.add(conn);
    metrics.clients.inc({ channel: 'user' });
    ws.on('close', () => {
      metrics.clients.dec({ channel: 'user' });
      const current = this.#users.get(userId);
      current?.delete(conn);
      if (current?.size === 0) this.#users.delete(userId);
    });
    conn.enqueue(async () => {
      const replayed = await conn.catchUp();
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'ready', lastId: conn.lastSent, replayed }));
      }
    });
  }

  #openAdmin(ws: WebSocket): void {
    this.#admins.add(ws);
    this.#o.metrics.clients.inc({ channel: 'admin' });
    ws.on('close', () => {
      this.#admins.delete(ws);
      this.#o.metrics.clients.dec({ channel: 'admin' });
    });
    ws.send(JSON.stringify({ type: 'ready' }));
  }

  /** A notification stored by any replica (through the fan-out). */
  notification(userId: string, n: NotificationView): void {
    for (const conn of this.#users.get(userId) ?? []) conn.live(n);
  }

  userDeleted(userId: string): void {
    for (const conn of this.#users.get(userId) ?? []) conn.ws.close(ACCOUNT_DELETED, 'account deleted');
  }

  event(event: EventSummary): void {
    if (this.#admins.size === 0) return;
    const text = JSON.stringify({ type: 'event', event });
    for (const ws of this.#admins) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  /** Clients connected to this replica (both channels). */
  get size(): number {
    return this.#wss.clients.size;
  }

  async close(): Promise<void> {
    clearInterval(this.#ping);
    for (const ws of this.#wss.clients) ws.close(1001, 'server shutting down');
    const deadline = Date.now() + 2_000;
    while (this.#wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
