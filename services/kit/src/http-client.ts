import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Histogram } from 'prom-client';
import { backoffDelay, sleep } from './backoff.ts';
import { type BreakerOptions, Breakers, DEFAULT_BREAKER } from './circuit-breaker.ts';
import type { Metrics } from './metrics.ts';
import { injectContext, markFailed } from './spans.ts';
import { tracer } from './tracing.ts';
import {
  CircuitOpenError,
  UpstreamError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './upstream-error.ts';

export interface HttpClientOptions {
  metrics: Metrics;
  /** Resolved against relative request URLs. */
  baseUrl?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Extra attempts after the first, for idempotent requests only. */
  retries?: number;
  backoff?: { baseMs: number; maxMs: number };
  breaker?: Partial<BreakerOptions>;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is; must be replayable, so no streams. */
  body?: string | Uint8Array;
  /** Makes a POST or PATCH retryable: the upstream deduplicates by it. */
  idempotencyKey?: string;
  /** Abort from outside, e.g. `ctx.state.signal` of the request being served. */
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** Retrying is safe when the method is idempotent, or the upstream deduplicates by Idempotency-Key. */
export function isIdempotent(method: string, headers: Record<string, string>): boolean {
  if (IDEMPOTENT.has(method.toUpperCase())) return true;
  return Object.keys(headers).some((name) => name.toLowerCase() === 'idempotency-key');
}

/**
 * Outgoing HTTP on the global fetch: a timeout per attempt, retries with jittered exponential
 * backoff for idempotent requests, a circuit breaker per origin, a client span per attempt with
 * `traceparent` injected. Failures are UpstreamErrors (503 when they reach a client); 4xx
 * responses are returned as they are, since the upstream answered.
 */
export class HttpClient {
  readonly #options: Required<Omit<HttpClientOptions, 'baseUrl' | 'breaker' | 'metrics'>> & {
    baseUrl?: string;
  };
  readonly breakers: Breakers;
  readonly #duration: Histogram<'method' | 'target' | 'outcome'>;

  constructor(options: HttpClientOptions) {
    this.#duration = options.metrics.histogram(
      'http_client_request_duration_seconds',
      'Duration of outgoing HTTP requests, per attempt; outcome is the status code or the failure',
      ['method', 'target', 'outcome'],
      { buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    );
    this.#options = {
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 2,
      backoff: options.backoff ?? { baseMs: 50, maxMs: 1000 },
      headers: options.headers ?? {},
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    };
    this.breakers = new Breakers(
      { ...DEFAULT_BREAKER, ...options.breaker },
      options.metrics,
      (error) => error instanceof UpstreamError,
    );
  }

  get(url: string, options?: RequestOptions): Promise<Response> {
    return this.request('GET', url, options);
  }
  post(url: string, options?: RequestOptions): Promise<Response> {
    return this.request('POST', url, options);
  }
  put(url: string, options?: RequestOptions): Promise<Response> {
    return this.request('PUT', url, options);
  }
  patch(url: string, options?: RequestOptions): Promise<Response> {
    return this.request('PATCH', url, options);
  }
  delete(url: string, options?: RequestOptions): Promise<Response> {
    return this.request('DELETE', url, options);
  }

  async request(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const target = new URL(url, this.#options.baseUrl);
    const headers: Record<string, string> = { ...this.#options.headers, ...options.headers };
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    let body: string | Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] ??= 'application/json';
    }
    const retries = isIdempotent(method, headers) ? (options.retries ?? this.#options.retries) : 0;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(method, target, headers, body, timeoutMs, attempt, options.signal);
      } catch (error) {
        const retryable =
          error instanceof UpstreamError &&
          !(error instanceof CircuitOpenError) &&
          !options.signal?.aborted &&
          (!(error instanceof UpstreamStatusError) || RETRYABLE_STATUS.has(error.upstreamStatus));
        if (!retryable || attempt >= retries) throw error;
        await sleep(backoffDelay(attempt, this.#options.backoff), options.signal);
      }
    }
  }

  async #attempt(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    timeoutMs: number,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const origin = url.origin;
    const span = tracer().startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'server.address': url.hostname,
        'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        'url.full': `${url.origin}${url.pathname}`,
        ...(attempt > 0 ? { 'http.request.resend_count': attempt } : {}),
      },
    });
    const spanContext = trace.setSpan(context.active(), span);
    const sent = injectContext({ ...headers }, spanContext);
    const done = this.#duration.startTimer({ method, target: origin });
    let outcome = 'error';
    const timeout = AbortSignal.timeout(timeoutMs);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await this.breakers.fire(origin, async () => {
        let res: Response;
        try {
          res = await fetch(url, {
            method,
            headers: sent,
            ...(body === undefined ? {} : { body }),
            signal: abort,
          });
        } catch (error) {
          if (timeout.aborted) throw new UpstreamTimeoutError(origin, timeoutMs, error);
          if (signal?.aborted) throw signal.reason ?? error;
          // undici reports network failures as "fetch failed" with the cause; anything else is a bad call.
          if (error instanceof TypeError && error.message === 'fetch failed') {
            throw new UpstreamUnreachableError(origin, error);
          }
          throw error;
        }
        if (res.status >= 500)
          throw new UpstreamStatusError(origin, res.status, await res.text().catch(() => ''));
        return res;
      });
      span.setAttribute('http.response.status_code', response.status);
      outcome = String(response.status);
      return response;
    } catch (error) {
      const mapped = isOpenBreaker(error)
        ? new CircuitOpenError(origin, Math.ceil(this.breakers.options.resetTimeoutMs / 1000))
        : error;
      if (mapped instanceof UpstreamStatusError) {
        span.setAttribute('http.response.status_code', mapped.upstreamStatus);
        outcome = String(mapped.upstreamStatus);
      } else if (mapped instanceof UpstreamError) {
        outcome = mapped.reason;
      }
      markFailed(span, mapped);
      throw mapped;
    } finally {
      span.end();
      done({ outcome });
    }
  }

  /** Stops the breakers' timers; register it as a `clients` shutdown hook. */
  close(): void {
    this.breakers.shutdown();
  }
}

function isOpenBreaker(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'EOPENBREAKER';
}
