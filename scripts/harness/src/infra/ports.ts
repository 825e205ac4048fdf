import net from 'node:net';

/** True when nothing listens on 127.0.0.1:port and we could bind it. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** True when something accepts connections on host:port. */
export function isListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const taken = new Set<number>();

/**
 * Free ports for private instances. They come from 21000-32767, below the kernel's ephemeral range
 * and above the shared instance's and `npm start`'s fixed ports (20000-20999),
 * so an outgoing connection cannot grab one between this check and the server's bind. A server
 * that still loses a race fails to start, and its starter retries with new ports.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = 21000 + Math.floor(Math.random() * 11768);
    if (taken.has(p) || ports.includes(p)) continue;
    if (await isPortFree(p)) ports.push(p);
  }
  for (const p of ports) taken.add(p);
  return ports;
}

/** `count` consecutive free ports (the shared instance's layout, for testing it on other ports). */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const first = 21000 + Math.floor(Math.random() * (11768 - count));
    const range = Array.from({ length: count }, (_, i) => first + i);
    if (range.some((p) => taken.has(p))) continue;
    let free = true;
    for (const p of range) if (!(await isPortFree(p))) free = false;
    if (!free) continue;
    for (const p of range) taken.add(p);
    return first;
  }
}

export function releasePorts(ports: number[]): void {
  for (const p of ports) taken.delete(p);
}

export function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}
