import CircuitBreaker from 'opossum';
import type { Metrics } from './metrics.ts';

export interface BreakerOptions {
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Calls needed in the window before the percentage counts. */
  volumeThreshold: number;
  /** How long the breaker stays open before letting one trial call through (half-open). */
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 10_000,
  rollingWindowMs: 10_000,
};

export const BreakerState = { closed: 0, halfOpen: 1, open: 2 } as const;

type Action = (run: () => Promise<unknown>) => Promise<unknown>;

/**
 * One opossum breaker per target, created on first use, its state exported as
 * `souk_circuit_breaker_state{target}` (0 closed, 1 half-open, 2 open).
 */
export class Breakers {
  readonly #breakers = new Map<string, CircuitBreaker<Parameters<Action>, unknown>>();
  readonly #state;
  readonly #transitions;

  constructor(
    readonly options: BreakerOptions,
    metrics: Metrics,
    /** Which errors count against the target; others (a caller's abort, a bad call) pass through. */
    private readonly isFailure: (error: unknown) => boolean = () => true,
  ) {
    this.#state = metrics.gauge(
      'souk_circuit_breaker_state',
      'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      ['target'],
    );
    this.#transitions = metrics.counter(
      'souk_circuit_breaker_transitions_total',
      'Circuit breaker state changes',
      ['target', 'state'],
    );
  }

  /** Runs `call` through the target's breaker; rejects with code EOPENBREAKER when it is open. */
  fire<T>(target: string, call: () => Promise<T>): Promise<T> {
    return this.get(target).fire(call) as Promise<T>;
  }

  state(target: string): keyof typeof BreakerState {
    const breaker = this.#breakers.get(target);
    if (!breaker || breaker.closed) return 'closed';
    return breaker.halfOpen ? 'halfOpen' : 'open';
  }

  get(target: string): CircuitBreaker<Parameters<Action>, unknown> {
    let breaker = this.#breakers.get(target);
    if (breaker) return breaker;
    const action: Action = (run) => run();
    breaker = new CircuitBreaker(action, {
      timeout: false,
      errorThresholdPercentage: this.options.errorThresholdPercentage,
      volumeThreshold: this.options.volumeThreshold,
      resetTimeout: this.options.resetTimeoutMs,
      rollingCountTimeout: this.options.rollingWindowMs,
      name: target,
      errorFilter: (error: unknown) => !this.isFailure(error),
    });
    const record = (state: keyof typeof BreakerState) => () => {
      this.#state.set({ target }, BreakerState[state]);
      this.#transitions.inc({ target, state });
    };
    breaker.on('open', record('open'));
    breaker.on('halfOpen', record('halfOpen'));
    breaker.on('close', record('closed'));
    this.#state.set({ target }, BreakerState.closed);
    this.#breakers.set(target, breaker);
    return breaker;
  }

  /** Stops the breakers' timers (part of closing the client). */
  shutdown(): void {
    for (const breaker of this.#breakers.values()) breaker.shutdown();
    this.#breakers.clear();
  }
}
