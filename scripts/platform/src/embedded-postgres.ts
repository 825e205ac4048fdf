/**
 * PostgreSQL for `npm start` where no server can be had: one PGlite (PostgreSQL compiled to Wasm,
 * in this process) per service database, each served on 127.0.0.1 over the PostgreSQL wire protocol
 * by pglite-socket, so the services connect with their usual drivers and run their migrations.
 *
 * What that is and is not (measured with pglite-socket 0.2.17, PGlite 0.5.14):
 * - One PostgreSQL session per database. pglite-socket accepts several connections; they take
 *   turns a query (or a whole transaction) at a time (see pglite-session.ts).
 *   Session state is shared by every connection: SET, advisory locks (each connection gets every
 *   lock), LISTEN. A NOTIFY is delivered to the connection that sent it, never to a listener, so
 *   outbox relays must poll (OUTBOX_POLL_MS).
 * - No replication: the "replica" is the primary.
 * - Cancel requests are ignored (pglite-socket drops them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { SessionQueue } from './pglite-session.ts';

export interface EmbeddedPostgresOptions {
  databases: readonly string[];
  /** Keeps database `d` in `<dir>/<d>`, so data outlives a restart; unset: in memory. */
  dir?: string;
  /** Database i listens on `basePort + i`. */
  basePort: number;
  host?: string;
  /**
   * Connections each database accepts (multiplexed onto its one session): a service's pool, its
   * replica pool (the same server), its outbox relay and a migration connection.
   */
  maxConnections?: number;
}

export interface EmbeddedDatabase {
  name: string;
  port: number;
  url: string;
}

export interface EmbeddedPostgres {
  databases: EmbeddedDatabase[];
  url(database: string): string;
  stop(): Promise<void>;
}

/** Outbox relays' pace when NOTIFY cannot wake them. */
export const EMBEDDED_OUTBOX_POLL_MS = 100;

/** Connections per pool of a service: its primary and replica pools, relay and locks stay under `maxConnections`. */
export const EMBEDDED_POOL_SIZE = 4;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const running: { db: PGlite; server: PGLiteSocketServer; info: EmbeddedDatabase }[] = [];
  const stop = async () => {
    for (const r of running.splice(0).reverse()) {
      await r.server.stop().catch(() => {});
      await r.db.close().catch(() => {});
    }
  };
  try {
    for (const [i, name] of options.databases.entries()) {
      const port = options.basePort + i;
      const dataDir = options.dir ? path.join(options.dir, name) : undefined;
      if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
      const db = await PGlite.create(dataDir ? { dataDir } : {});
      const server = new PGLiteSocketServer({
        db,
        host,
        port,
        maxConnections: options.maxConnections ?? 16,
      });
      // Its handlers take the queue when they are created, at connection time.
      (server as unknown as { queryQueue: SessionQueue }).queryQueue = new SessionQueue(db);
      try {
        await server.start();
      } catch (error) {
        await db.close().catch(() => {});
        throw new Error(
          `embedded PostgreSQL for ${name} cannot listen on ${host}:${port}: ${(error as Error).message}`,
        );
      }
      // A PGlite instance has one database, `postgres`, whatever name a client asks for.
      const url = `postgresql://postgres@${host}:${port}/postgres`;
      running.push({ db, server, info: { name, port, url } });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const databases = running.map((r) => r.info);
  return {
    databases,
    url(database) {
      const found = databases.find((d) => d.name === database);
      if (!found) throw new Error(`no embedded database ${database}`);
      return found.url;
    },
    stop,
  };
}
