import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Problem } from './problem.ts';

/**
 * Takes over HTTP upgrade requests (WebSockets) on a service's port. `close` runs first on
 * shutdown, before in-flight requests drain: upgraded connections are long-lived and would
 * otherwise hold the drain until it cuts them.
 */
export interface UpgradeHandler {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

/**
 * Answers an upgrade request with a plain HTTP error (the upgrade never happens), the problem
 * as an RFC 9457 body, then closes the socket.
 */
export function rejectUpgrade(socket: Duplex, problem: Problem | number): void {
  const p = typeof problem === 'number' ? new Problem(problem) : problem;
  const body = JSON.stringify(p.toJSON());
  const headers: Record<string, string> = {
    ...p.headers,
    Connection: 'close',
    'Content-Type': 'application/problem+json',
    'Content-Length': String(Buffer.byteLength(body)),
  };
  const head = [`HTTP/1.1 ${p.status} ${p.title}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}
