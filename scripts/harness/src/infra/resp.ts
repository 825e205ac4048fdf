import net from 'node:net';

export type RespValue = string | number | null | RespValue[] | Error;

/** Parses one RESP reply at `buf[pos]`; returns undefined when more bytes are needed. */
function parse(buf: Buffer, pos: number): [RespValue, number] | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: RespValue[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return undefined;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`unexpected RESP type ${type}`);
  }
}

/**
 * Sends one command to a Redis node on a fresh connection. Used for administration and health
 * probes, where a client with reconnects and cluster routing would only get in the way.
 */
export function redisCall(
  port: number,
  args: (string | number)[],
  host = '127.0.0.1',
  timeoutMs = 2000,
): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    let buf = Buffer.alloc(0);
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`redis ${host}:${port} timed out`)));
    sock.once('error', fail);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, 0);
      if (!r) return;
      sock.destroy();
      if (r[0] instanceof Error) reject(r[0]);
      else resolve(r[0]);
    });
    const parts = args.map(String);
    sock.write(`*${parts.length}\r\n${parts.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** INFO-style "key:value" lines as a map. */
export function infoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
