import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const servicesDir = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * One service as `node src/main.ts` in a child process, on a fixed port so the others keep its
 * address across restarts. Its output goes to `<logDir>/<name>.log`; `kill()` is a SIGKILL.
 */
export class ServiceProcess {
  child: ChildProcess | undefined;
  readonly url: string;
  readonly logFile: string;
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly env: Record<string, string>,
    logDir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.logFile = path.join(logDir, `${name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once its /readyz answers 200. */
  async start(timeoutMs = 90_000): Promise<void> {
    if (this.child) throw new Error(`${this.name} already runs`);
    const out = fs.openSync(this.logFile, 'a');
    fs.writeSync(out, `--- start ${++this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.join(servicesDir, this.name),
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.child = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`${this.name} exited while starting:\n${this.tail()}`);
      const ready = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: nothing is flushed, no shutdown hook runs. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** SIGTERM, the orderly shutdown; SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#signal('SIGTERM');
    clearTimeout(timer);
  }

  /** For exit handlers, where nothing asynchronous runs any more. */
  killSync(): void {
    this.child?.kill('SIGKILL');
  }

  tail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async #signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    await exited;
    this.child = undefined;
  }
}
