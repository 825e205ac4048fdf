/**
 * Shares PGlite's one PostgreSQL session among the connections pglite-socket accepts, a protocol
 * cycle at a time: the connection whose message runs keeps the session until the session is idle
 * again (ReadyForQuery 'I': its Sync or simple query answered, no transaction open), and only then
 * may another connection's messages run.
 *
 * pglite-socket's own queue (0.2.17) hands the session over between any two messages outside an
 * explicit transaction. Clients send a query as several messages (Parse, Bind, Describe, Execute,
 * Sync), so two connections querying at once could bind and run each other's unnamed statement
 * and portal: one got the other's rows, the other none. Its queue also stops for good after a
 * failed message.
 */
import type { PGlite } from '@electric-sql/pglite';

const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const IDLE = 0x49; // 'I'

/** Follows the backend's messages across chunks; knows whether the last one was ReadyForQuery. */
export class BackendMessages {
  readonly #header = new Uint8Array(5);
  #headerFill = 0;
  #remaining = 0;
  #lastByte = 0;
  /** The transaction status of the last message when it was ReadyForQuery ('I', 'T', 'E'). */
  readyStatus: number | undefined;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#headerFill < 5) {
        this.#header[this.#headerFill++] = chunk[i++]!;
        if (this.#headerFill === 5) {
          const h = this.#header;
          this.#remaining = (((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0) - 4;
          if (this.#remaining <= 0) this.#ended();
        }
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - i);
      this.#lastByte = chunk[i + n - 1]!;
      i += n;
      this.#remaining -= n;
      if (this.#remaining === 0) this.#ended();
    }
  }

  #ended(): void {
    this.readyStatus = this.#header[0] === READY_FOR_QUERY ? this.#lastByte : undefined;
    this.#headerFill = 0;
  }
}

interface Job {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/** Drop-in for pglite-socket's query queue (the same four methods its handlers call). */
export class SessionQueue {
  readonly #db: PGlite;
  #queue: Job[] = [];
  #owner: number | undefined;
  #running = false;

  constructor(db: PGlite) {
    this.#db = db;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ handlerId, message, onData, resolve, reject });
      void this.#drain();
    });
  }

  getQueueLength(): number {
    return this.#queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.#queue = this.#queue.filter((job) => {
      if (job.handlerId !== handlerId) return true;
      job.reject(new Error('connection closed'));
      return false;
    });
  }

  /** A connection went away: roll back what it left open and let the others have the session. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.#owner !== handlerId) return;
    if (this.#db.isInTransaction()) await this.#db.exec('ROLLBACK').catch(() => {});
    this.#owner = undefined;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const owner = this.#owner;
        const at = owner === undefined ? 0 : this.#queue.findIndex((job) => job.handlerId === owner);
        // Nothing queued, or the session's holder has not sent its next message yet.
        if (at < 0 || this.#queue.length === 0) return;
        const job = this.#queue.splice(at, 1)[0]!;
        this.#owner = job.handlerId;
        const messages = new BackendMessages();
        let bytes = 0;
        try {
          await this.#db.runExclusive(() =>
            this.#db.execProtocolRawStream(job.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                messages.push(data);
                job.onData(data);
              },
            }),
          );
          job.resolve(bytes);
        } catch (error) {
          job.reject(error);
        }
        if (messages.readyStatus === IDLE || job.message[0] === TERMINATE) this.#owner = undefined;
      }
    } finally {
      this.#running = false;
    }
  }
}
