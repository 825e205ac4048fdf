import type { KitState } from './context.ts';
import type { Logger } from './logger.ts';

/** Hands out a request's AbortSignal when something first asks for it (see timeout.ts). */
export interface SignalSource {
  readonly signal: AbortSignal;
  /** True once the request was answered (or given up) without waiting for its handler. */
  readonly abandoned: boolean;
}

/**
 * `ctx.state` of a request served by the kit. What most requests never use is made on first
 * use: the child logger carrying the request id, and the AbortSignal of the route's timeout.
 */
export class RequestState implements KitState {
  readonly #logger: Logger;
  #log: Logger | undefined;
  #signal: AbortSignal | undefined;
  /** Set by the route's timeout. */
  signalSource: SignalSource | undefined;
  route?: string;

  constructor(
    logger: Logger,
    public requestId: string,
  ) {
    this.#logger = logger;
  }

  get log(): Logger {
    this.#log ??= this.#logger.child({ request_id: this.requestId });
    return this.#log;
  }

  set log(log: Logger) {
    this.#log = log;
  }

  /** The handler's late answer must not overwrite the 503 of its timeout. */
  get abandoned(): boolean {
    return this.signalSource?.abandoned ?? this.#signal?.aborted ?? false;
  }

  get signal(): AbortSignal | undefined {
    return this.#signal ?? this.signalSource?.signal;
  }

  set signal(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }
}
