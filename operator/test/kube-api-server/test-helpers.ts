/** Helpers for the test server's own tests: failed client calls as parsed Status bodies, polling. */
import * as assert from 'uvu/assert';
import type { Status } from './errors.ts';

interface ClientError {
  code?: number;
  body?: unknown;
}

/** Awaits a client call that must fail with `code`, returning the Status body the server sent. */
export async function expectStatus(call: Promise<unknown>, code: number): Promise<Status> {
  try {
    await call;
  } catch (err) {
    const e = err as ClientError;
    assert.is(e.code, code, `expected HTTP ${code}, got ${String(e.code)}: ${String(e.body)}`);
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Status) : (e.body as Status);
    assert.is(body.kind, 'Status');
    assert.is(body.code, code);
    return body;
  }
  assert.unreachable(`expected the call to fail with ${code}`);
  throw new Error('unreachable');
}

export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
