/**
 * Runs the services as child processes: each in its own session (so a terminal's Ctrl-C reaches
 * only the launcher, which then stops them in order), logging to its own file, killed with the
 * launcher if the launcher dies, and restarted with backoff if it crashes.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { onExit } from '@souk/harness/infra/exit-cleanup';
import { isListening } from '@souk/harness/infra/ports';
import {
  isAlive,
  type ProcessRef,
  spawnDaemon,
  terminate,
  terminateSync,
  waitFor,
} from '@souk/harness/infra/processes';
import type { LocalService } from './services.ts';

export interface RunningService {
  service: LocalService;
  url: string;
  logFile: string;
  /** False when a service was already answering on its port and is reused as it is. */
  owned: boolean;
  restarts: number;
}

export interface SupervisorOptions {
  logDir: string;
  env: (s: LocalService) => NodeJS.ProcessEnv;
  /** How long a service may take to report ready. */
  readyTimeoutMs?: number;
  onRestart?: (s: RunningService, reason: string) => void;
}

async function ready(url: string): Promise<boolean> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  return res?.ok === true;
}

export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export class Supervisor {
  private readonly procs = new Map<string, ProcessRef>();
  private readonly running = new Map<string, RunningService>();
  private stopping = false;
  private readonly watch: NodeJS.Timeout;
  private readonly unregister: () => void;

  constructor(private readonly opts: SupervisorOptions) {
    mkdirSync(opts.logDir, { recursive: true });
    this.unregister = onExit(() => terminateSync([...this.procs.values()]));
    this.watch = setInterval(() => void this.restartCrashed(), 1000);
    this.watch.unref();
  }

  /** Starts a service (or adopts one already answering on its port) and waits until it is ready. */
  async start(service: LocalService): Promise<RunningService> {
    const url = `http://127.0.0.1:${service.port}`;
    const logFile = path.join(this.opts.logDir, `${service.name}.log`);
    if (await isListening(service.port)) {
      if (!(await ready(url)))
        throw new Error(`port ${service.port} is taken by something that is not a ready ${service.name}`);
      const adopted = { service, url, logFile, owned: false, restarts: 0 };
      this.running.set(service.name, adopted);
      return adopted;
    }
    const r: RunningService = { service, url, logFile, owned: true, restarts: 0 };
    this.running.set(service.name, r);
    this.spawn(r);
    try {
      await waitFor(`${service.name} to be ready`, () => ready(url), this.opts.readyTimeoutMs ?? 60_000, 200);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`);
    }
    return r;
  }

  private spawn(r: RunningService): void {
    const env = this.opts.env(r.service);
    const ref = spawnDaemon(process.execPath, ['--import', 'tsx', r.service.entry], r.logFile, {
      cwd: r.service.dir,
      dieWithParent: 'SIGTERM',
      env,
    });
    this.procs.set(r.service.name, ref);
  }

  private async restartCrashed(): Promise<void> {
    if (this.stopping) return;
    for (const [name, ref] of this.procs) {
      if (isAlive(ref)) continue;
      const r = this.running.get(name);
      if (!r) continue;
      r.restarts++;
      this.opts.onRestart?.(r, tail(r.logFile, 5));
      // Back off on a crash loop instead of spinning.
      if (r.restarts > 3)
        await new Promise((res) => setTimeout(res, Math.min(30_000, 1000 * 2 ** (r.restarts - 3))));
      if (!this.stopping) this.spawn(r);
    }
  }

  services(): RunningService[] {
    return [...this.running.values()];
  }

  /** Stops what this supervisor started, in reverse start order, each with SIGTERM then SIGKILL. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.watch);
    for (const name of [...this.procs.keys()].reverse()) {
      const ref = this.procs.get(name);
      if (ref) await terminate([ref], 'SIGTERM', graceMs);
    }
    this.procs.clear();
    this.unregister();
  }
}
