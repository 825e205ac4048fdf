import type { Logger } from './logger.ts';

/**
 * When a hook runs, relative to the others. The HTTP server has already stopped and drained by
 * then. Order: stop taking work (consumers commit and stop), push out what is pending (outbox
 * relay), flush telemetry, then close clients (db, redis, kafka producers) that the earlier
 * phases still needed.
 */
export const SHUTDOWN_PHASES = ['consumers', 'relays', 'telemetry', 'clients'] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

export interface ShutdownHookOptions {
  phase: ShutdownPhase;
  timeoutMs?: number;
}

interface Hook {
  name: string;
  fn: () => Promise<unknown> | unknown;
  phase: ShutdownPhase;
  timeoutMs: number;
}

/** Ordered hooks run once on shutdown: phase by phase, hooks of one phase in parallel. */
export class Shutdown {
  readonly #hooks: Hook[] = [];
  #running: Promise<boolean> | undefined;

  constructor(private readonly log: Logger) {}

  register(name: string, fn: () => Promise<unknown> | unknown, options: ShutdownHookOptions): void {
    if (this.#running) throw new Error(`shutdown already started; cannot register ${name}`);
    this.#hooks.push({ name, fn, phase: options.phase, timeoutMs: options.timeoutMs ?? 5000 });
  }

  get started(): boolean {
    return this.#running !== undefined;
  }

  /** Runs every hook once; later calls get the same result. Resolves true when all hooks succeeded. */
  run(): Promise<boolean> {
    this.#running ??= this.#runAll();
    return this.#running;
  }

  async #runAll(): Promise<boolean> {
    let ok = true;
    for (const phase of SHUTDOWN_PHASES) {
      const hooks = this.#hooks.filter((hook) => hook.phase === phase);
      const results = await Promise.allSettled(hooks.map((hook) => this.#runHook(hook)));
      for (const [i, result] of results.entries()) {
        if (result.status === 'fulfilled') continue;
        ok = false;
        this.log.error({ err: result.reason, hook: hooks[i]?.name, phase }, 'shutdown hook failed');
      }
    }
    return ok;
  }

  async #runHook(hook: Hook): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${hook.timeoutMs} ms`)), hook.timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(hook.fn), expired]);
      this.log.debug({ hook: hook.name, phase: hook.phase }, 'shutdown hook done');
    } finally {
      clearTimeout(timer);
    }
  }
}
