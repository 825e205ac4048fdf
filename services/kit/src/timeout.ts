import type { Socket } from 'node:net';
import { type Context, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { ClientClosedRequestError } from './client-closed.ts';
import type { KitContext, Middleware } from './context.ts';
import { Problem } from './problem.ts';
import { RequestState, type SignalSource } from './request-state.ts';
import { inContext } from './spans.ts';
import { isThenable } from './thenable.ts';

/**
 * Runs `inner` under a deadline of `ms`: past it the request is answered 503 and
 * `ctx.state.signal` is aborted, so outgoing calls made with it stop too; the same happens when
 * the client goes away mid-request (nobody is left to answer). The handler's own promise is left
 * to settle. Cheap for the many requests that finish in time: no timer and no AbortController of
 * their own (one timer watches all requests of a route, the signal is made on first use).
 */
export function timeout(ms: number, inner: Middleware): Middleware {
  const deadlines = new Deadlines(ms);
  return (ctx, next) => {
    const watch = new Watch(ctx, deadlines);
    if (ctx.state instanceof RequestState) ctx.state.signalSource = watch;
    else ctx.state.signal = watch.signal;
    const work = inner(ctx, next);
    // An answer given synchronously beat every deadline: nothing to watch.
    if (!isThenable(work)) return work;
    return watch.race(Promise.resolve(work));
  };
}

/** One request under a deadline: an entry of its route's deadline list and of its socket's set. */
class Watch implements SignalSource {
  prev: Watch | undefined;
  next: Watch | undefined;
  deadline = 0;
  readonly #ctx: KitContext;
  readonly #deadlines: Deadlines;
  /** The trace context to abort in, so abort listeners log under the request's span. */
  readonly #context: Context;
  #controller: AbortController | undefined;
  #reason: unknown;
  #reject: ((reason: unknown) => void) | undefined;
  #settled = false;

  constructor(ctx: KitContext, deadlines: Deadlines) {
    this.#ctx = ctx;
    this.#deadlines = deadlines;
    this.#context = context.active();
  }

  get abandoned(): boolean {
    return this.#reason !== undefined;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  race(work: Promise<unknown>): Promise<void> {
    this.#deadlines.add(this);
    watchSocket(this.#ctx.req.socket, this);
    return new Promise<void>((resolve, reject) => {
      this.#reject = reject;
      work.then(
        () => {
          this.#settle();
          resolve();
        },
        (error: unknown) => {
          this.#settle();
          reject(error);
        },
      );
    });
  }

  expired(): void {
    const ms = this.#deadlines.ms;
    this.#abort(
      new Problem(503, {
        title: 'Request Timeout',
        detail: `the request took longer than ${ms} ms`,
        message: `request timed out after ${ms} ms`,
      }),
    );
  }

  clientGone(): void {
    if (this.#ctx.res.writableFinished) return;
    this.#abort(new ClientClosedRequestError());
  }

  #abort(reason: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#reason = reason;
    inContext(this.#context, () => {
      this.#controller?.abort(reason);
      this.#reject?.(reason);
    });
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#deadlines.remove(this);
    (this.#ctx.req.socket as Watched | null)?.[WATCHES]?.delete(this);
  }
}

/**
 * The watches of one timeout, in the order of their deadlines (the order they started in), and
 * the one timer that fires at the earliest of them.
 */
class Deadlines {
  #head: Watch | undefined;
  #tail: Watch | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly ms: number) {}

  add(watch: Watch): void {
    watch.deadline = performance.now() + this.ms;
    watch.prev = this.#tail;
    watch.next = undefined;
    if (this.#tail) this.#tail.next = watch;
    else this.#head = watch;
    this.#tail = watch;
    if (!this.#timer) this.#arm(this.ms);
  }

  remove(watch: Watch): void {
    if (watch.prev) watch.prev.next = watch.next;
    else if (this.#head === watch) this.#head = watch.next;
    if (watch.next) watch.next.prev = watch.prev;
    else if (this.#tail === watch) this.#tail = watch.prev;
    watch.prev = undefined;
    watch.next = undefined;
  }

  #arm(delay: number): void {
    // Outside any request's context, which the timer would otherwise keep alive.
    inContext(ROOT_CONTEXT, () => {
      this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delay)));
      this.#timer.unref();
    });
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head && this.#head.deadline <= now) this.#head.expired();
    if (this.#head) this.#arm(this.#head.deadline - now);
  };
}

const WATCHES = Symbol('kit.watches');
type Watched = Socket & { [WATCHES]?: Set<Watch> };

/** One 'close' listener per connection, however many requests it carries. */
function watchSocket(socket: Watched | null, watch: Watch): void {
  if (!socket) return;
  let watches = socket[WATCHES];
  if (!watches) {
    watches = new Set();
    socket[WATCHES] = watches;
    socket.once('close', onSocketClose);
  }
  watches.add(watch);
}

function onSocketClose(this: Watched): void {
  const watches = this[WATCHES];
  if (!watches) return;
  for (const watch of [...watches]) watch.clientGone();
}
