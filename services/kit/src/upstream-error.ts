import { Problem } from './problem.ts';

/**
 * A call to another service failed. It is a 503 Problem, so a route that lets it propagate
 * answers problem+json without a try/catch; the upstream's address stays in the log only.
 */
export class UpstreamError extends Problem {
  constructor(
    readonly target: string,
    readonly reason: 'timeout' | 'unreachable' | 'circuit-open' | 'status',
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(503, {
      detail: 'a service this request depends on is unavailable',
      message,
      cause: options.cause,
      ...(options.retryAfterSeconds ? { headers: { 'Retry-After': String(options.retryAfterSeconds) } } : {}),
    });
    this.name = 'UpstreamError';
  }
}

/** The upstream did not answer within the timeout. */
export class UpstreamTimeoutError extends UpstreamError {
  constructor(target: string, timeoutMs: number, cause?: unknown) {
    super(target, 'timeout', `${target} did not answer within ${timeoutMs} ms`, { cause });
    this.name = 'UpstreamTimeoutError';
  }
}

/** No connection could be made (refused, reset, DNS). */
export class UpstreamUnreachableError extends UpstreamError {
  constructor(target: string, cause?: unknown) {
    const code = (cause as { cause?: { code?: string } } | undefined)?.cause?.code;
    super(target, 'unreachable', `${target} is unreachable${code ? ` (${code})` : ''}`, { cause });
    this.name = 'UpstreamUnreachableError';
  }
}

/** The circuit breaker for the target is open: the call was not even attempted. */
export class CircuitOpenError extends UpstreamError {
  constructor(target: string, retryAfterSeconds: number) {
    super(target, 'circuit-open', `circuit breaker for ${target} is open`, { retryAfterSeconds });
    this.name = 'CircuitOpenError';
  }
}

/** The upstream answered with a server error (5xx), after the retries that were allowed. */
export class UpstreamStatusError extends UpstreamError {
  constructor(
    target: string,
    readonly upstreamStatus: number,
    readonly body: string,
  ) {
    super(target, 'status', `${target} answered ${upstreamStatus}`);
    this.name = 'UpstreamStatusError';
  }
}
