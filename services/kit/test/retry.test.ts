import assert from 'node:assert/strict';
import { test } from 'uvu';
import { AttemptTimeoutError, RetriesExhaustedError, retry } from '../src/retry.ts';

class Transient extends Error {}
const base = { maxAttempts: 3, baseMs: 1, maxMs: 5, retryable: (e: unknown) => e instanceof Transient };

test('transient errors are retried until an attempt succeeds', async () => {
  const seen: number[] = [];
  const result = await retry(async (attempt) => {
    seen.push(attempt);
    if (attempt < 3) throw new Transient('busy');
    return 'ok';
  }, base);
  assert.deepEqual(result, { value: 'ok', attempts: 3 });
  assert.deepEqual(seen, [1, 2, 3]);
});

test('the attempts are bounded, and the last error is the cause', async () => {
  let calls = 0;
  const error = await retry(async () => {
    calls++;
    throw new Transient(`busy ${calls}`);
  }, base).catch((e: unknown) => e);
  assert.ok(error instanceof RetriesExhaustedError);
  assert.equal(error.attempts, 3);
  assert.equal((error.cause as Error).message, 'busy 3');
  assert.equal(calls, 3);
});

test('an error that is not transient is thrown at once', async () => {
  let calls = 0;
  const error = await retry(async () => {
    calls++;
    throw new TypeError('bad request');
  }, base).catch((e: unknown) => e);
  assert.ok(error instanceof TypeError);
  assert.equal(calls, 1);
});

test('an attempt that does not answer in time is abandoned, its signal aborted, and not retried', async () => {
  let calls = 0;
  let aborted = false;
  const error = await retry(
    (_attempt, signal) => {
      calls++;
      return new Promise<string>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          setTimeout(() => resolve('too late'), 5);
        });
      });
    },
    { ...base, timeoutMs: 30 },
  ).catch((e: unknown) => e);
  assert.ok(error instanceof AttemptTimeoutError);
  assert.equal(error.attempts, 1);
  assert.equal(calls, 1);
  assert.ok(aborted);
});

test('timeouts are retried when asked', async () => {
  let calls = 0;
  const result = await retry(
    (attempt) => {
      calls++;
      return attempt === 1 ? new Promise<string>(() => {}) : Promise.resolve('second');
    },
    { ...base, timeoutMs: 20, retryTimeouts: true },
  );
  assert.deepEqual(result, { value: 'second', attempts: 2 });
  assert.equal(calls, 2);
});

test.run();
