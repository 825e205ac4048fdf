export type CheckFunction = (signal: AbortSignal) => Promise<unknown> | unknown;

export interface CheckOptions {
  /** A failing critical check makes the service not ready (503); a non-critical one only degraded. */
  critical?: boolean;
  timeoutMs?: number;
}

export interface CheckResult {
  /** `disabled`: the dependency is switched off by configuration; it never changes the overall status. */
  status: 'up' | 'down' | 'disabled';
  critical: boolean;
  durationMs: number;
  error?: string;
  /** Why a dependency is disabled. */
  detail?: string;
}

export interface Readiness {
  /** `ok`: all up; `degraded`: a non-critical check is down; `unavailable`: a critical one is, or shutting down. */
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, CheckResult>;
}

interface Check {
  fn: CheckFunction;
  critical: boolean;
  timeoutMs: number;
}

/** The dependency checks behind /readyz. The parts that own a client (db, redis, kafka) register theirs. */
export class Health {
  readonly #checks = new Map<string, Check>();
  readonly #disabled = new Map<string, string>();
  #shuttingDown = false;

  register(name: string, fn: CheckFunction, options: CheckOptions = {}): void {
    if (this.#checks.has(name) || this.#disabled.has(name)) {
      throw new Error(`health check registered twice: ${name}`);
    }
    this.#checks.set(name, { fn, critical: options.critical ?? true, timeoutMs: options.timeoutMs ?? 2000 });
  }

  /**
   * Lists `name` as disabled (with the reason) in /readyz, e.g. the cache when no Redis is configured.
   * Saying it again is harmless: the first reason stays.
   */
  disabled(name: string, detail: string): void {
    if (this.#checks.has(name)) throw new Error(`health check ${name} is registered, not disabled`);
    if (!this.#disabled.has(name)) this.#disabled.set(name, detail);
  }

  /** From now on the service reports itself not ready, so the load balancer stops sending traffic. */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async readiness(): Promise<Readiness> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await run(check)] as const),
    );
    const checks: Record<string, CheckResult> = Object.fromEntries(entries);
    for (const [name, detail] of this.#disabled) {
      checks[name] = { status: 'disabled', critical: false, durationMs: 0, detail };
    }
    const down = entries.filter(([, result]) => result.status === 'down');
    const status =
      this.#shuttingDown || down.some(([, result]) => result.critical)
        ? 'unavailable'
        : down.length > 0
          ? 'degraded'
          : 'ok';
    return { status, checks };
  }
}

async function run(check: Check): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${check.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, check.timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => check.fn(controller.signal)), expired]);
    return { status: 'up', critical: check.critical, durationMs: elapsed(started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'down', critical: check.critical, durationMs: elapsed(started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10;
