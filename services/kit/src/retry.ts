import { backoffDelay, sleep } from './backoff.ts';

/**
 * Calls a flaky dependency a bounded number of times: each attempt gets `timeoutMs` (its signal
 * aborts then, and the attempt counts as timed out whether or not it ever settles), transient
 * errors are retried after a full-jitter backoff, anything else is thrown at once. A timeout is
 * not retried unless asked: for a call with effects, a timed-out attempt may have taken effect.
 */
export interface RetryOptions {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
  /** Per attempt; none when absent. */
  timeoutMs?: number;
  /** Whether an error is worth another attempt. */
  retryable(error: unknown): boolean;
  retryTimeouts?: boolean;
  signal?: AbortSignal;
  /** Called before each retry, e.g. to count it. */
  onRetry?(error: unknown, attempt: number): void;
}

export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError';
  constructor(
    readonly attempts: number,
    timeoutMs: number,
  ) {
    super(`no answer within ${timeoutMs} ms (attempt ${attempts})`);
  }
}

export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`still failing after ${attempts} attempts`, { cause });
  }
}

export async function retry<T>(
  call: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = call(attempt, controller.signal);
      work.catch(() => {});
      const racers: Promise<T>[] = [work];
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        racers.push(
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const error = new AttemptTimeoutError(attempt, ms);
              controller.abort(error);
              reject(error);
            }, ms);
          }),
        );
      }
      return { value: await Promise.race(racers), attempts: attempt };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const timedOut = error instanceof AttemptTimeoutError;
      if (timedOut ? !options.retryTimeouts : !options.retryable(error)) throw error;
      if (attempt >= options.maxAttempts) {
        throw timedOut ? error : new RetriesExhaustedError(attempt, error);
      }
      options.onRetry?.(error, attempt);
      await sleep(backoffDelay(attempt - 1, options), options.signal);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
