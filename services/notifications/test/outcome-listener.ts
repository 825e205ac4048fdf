import { WebSocket } from 'ws';

const STREAM_PROTOCOL = 'souk.notifications.v1';

interface StreamNotification {
  kind: string;
  data: Record<string, unknown>;
}

/**
 * Listens on users' notification streams and notes when each order's outcome notification
 * (`order_confirmed` / `order_cancelled`) arrives, for benchmarks that time an order end to end,
 * from its POST to the moment its buyer is told.
 */
export class OutcomeListener {
  /** Order id → performance.now() at arrival, and the kind that arrived. */
  readonly arrivals = new Map<string, { at: number; kind: string }>();
  readonly #sockets: WebSocket[] = [];
  readonly #waiters = new Map<string, (at: number) => void>();

  /** Opens one stream per token and resolves once every one is live (`ready`). */
  async listen(notificationsUrl: string, tokens: string[]): Promise<void> {
    await Promise.all(tokens.map((token) => this.#open(notificationsUrl, token)));
  }

  /** Resolves with the arrival time of the order's outcome notification. */
  outcome(orderId: string): Promise<number> {
    const known = this.arrivals.get(orderId);
    if (known) return Promise.resolve(known.at);
    return new Promise((resolve) => this.#waiters.set(orderId, resolve));
  }

  close(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  #open(base: string, token: string): Promise<void> {
    const ws = new WebSocket(new URL('/notifications/stream', base.replace(/^http/, 'ws')), [
      STREAM_PROTOCOL,
      `bearer.${token}`,
    ]);
    this.#sockets.push(ws);
    return new Promise((resolve, reject) => {
      ws.on('message', (raw) => {
        const at = performance.now();
        const message = JSON.parse(String(raw)) as { type: string; notification?: StreamNotification };
        if (message.type === 'ready') resolve();
        const n = message.notification;
        if (message.type !== 'notification' || !n) return;
        if (n.kind !== 'order_confirmed' && n.kind !== 'order_cancelled') return;
        const orderId = String(n.data['orderId']);
        if (this.arrivals.has(orderId)) return;
        this.arrivals.set(orderId, { at, kind: n.kind });
        this.#waiters.get(orderId)?.(at);
        this.#waiters.delete(orderId);
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
}
