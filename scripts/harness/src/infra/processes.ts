import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * A process we started, identified by pid and kernel start time so a recycled pid is never
 * mistaken for ours.
 */
export interface ProcessRef {
  pid: number;
  startTime: string;
}

function stat(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: the fields start after the last ')'.
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Kernel start time of a pid (in clock ticks since boot), or undefined when it does not exist. */
export function startTimeOf(pid: number): string | undefined {
  return stat(pid)?.[19];
}

export function refOf(pid: number): ProcessRef {
  const startTime = startTimeOf(pid);
  if (startTime === undefined) throw new Error(`process ${pid} is not running`);
  return { pid, startTime };
}

/** Alive means: exists, is the same process, and is not a zombie (zombies are reaped late here). */
export function isAlive(ref: ProcessRef | number): boolean {
  const pid = typeof ref === 'number' ? ref : ref.pid;
  const fields = stat(pid);
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return false;
  return typeof ref === 'number' || fields[19] === ref.startTime;
}

export function signal(ref: ProcessRef | number, sig: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(typeof ref === 'number' ? ref : ref.pid, sig);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepBuffer, 0, 0, ms);
}

/** Sends `sig`, waits up to `graceMs`, then SIGKILLs. Resolves once every process is gone. */
export async function terminate(
  refs: ProcessRef[],
  sig: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  for (const r of refs) signal(r, sig);
  const deadline = Date.now() + graceMs;
  while (refs.some(isAlive) && Date.now() < deadline) await sleep(10);
  for (const r of refs) signal(r, 'SIGKILL');
  while (refs.some(isAlive)) await sleep(10);
}

/** Synchronous variant for process exit handlers, where nothing asynchronous runs any more. */
export function terminateSync(refs: ProcessRef[], sig: NodeJS.Signals = 'SIGTERM', graceMs = 2000): void {
  for (const r of refs) signal(r, sig);
  const deadline = Date.now() + graceMs;
  while (refs.some(isAlive) && Date.now() < deadline) sleepSync(10);
  for (const r of refs) signal(r, 'SIGKILL');
  const hard = Date.now() + 5000;
  while (refs.some(isAlive) && Date.now() < hard) sleepSync(10);
}

/** Pids whose command line starts with `prefix` (used to find a postmaster's orphaned children). */
export function pidsWithCmdlinePrefix(prefix: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith(prefix)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found.filter((p) => isAlive(p));
}

/** Pids whose working directory is `dir` or below it: every server we start works inside its own dir. */
export function pidsWithCwdUnder(dir: string): ProcessRef[] {
  const found: ProcessRef[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const startTime = startTimeOf(Number(entry));
      if (startTime && isAlive(Number(entry))) found.push({ pid: Number(entry), startTime });
    } catch {
      // gone meanwhile, or not ours to inspect
    }
  }
  return found;
}

/** Last resort after a stop: kills whatever still runs inside `dir` (a crashed server's orphans). */
export async function sweep(dir: string): Promise<void> {
  await terminate(pidsWithCwdUnder(dir), 'SIGKILL');
}

export function sweepSync(dir: string): void {
  terminateSync(pidsWithCwdUnder(dir), 'SIGKILL');
}

export interface RunResult {
  code: number;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and fails with its output when it exits non-zero. */
export function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { allowFail?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      const result = { code: code ?? -1, signal: sig, stdout, stderr };
      if (code !== 0 && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim() || stdout.trim()}`));
      } else resolve(result);
    });
  });
}

export function runSync(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface DaemonOptions {
  cwd?: string;
  /** The server's environment; the starter's own by default. */
  env?: NodeJS.ProcessEnv;
  /** Run as this user (when we are root). */
  user?: string;
  /**
   * Signal the server gets when the process that started it dies, even of SIGKILL: private
   * instances never outlive their test. Without it the server outlives us (the shared instance).
   */
  dieWithParent?: NodeJS.Signals;
}

/**
 * Starts a long-running server in its own session with output to `logFile`, so a signal to the
 * starter's process group (Ctrl-C, a runner's kill) does not hit it. setpriv execs the server in
 * place, so the pid is the server's own.
 */
export function spawnDaemon(
  cmd: string,
  args: string[],
  logFile: string,
  opts: DaemonOptions = {},
): ProcessRef {
  const setpriv: string[] = [];
  if (opts.user && process.getuid?.() === 0) {
    setpriv.push(`--reuid=${opts.user}`, `--regid=${opts.user}`, '--init-groups');
  }
  if (opts.dieWithParent) setpriv.push('--pdeathsig', opts.dieWithParent);
  const argv = setpriv.length ? ['setpriv', ...setpriv, cmd, ...args] : [cmd, ...args];
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    // The pid exists from here on, but /proc may lag by a tick right after fork.
    let startTime = startTimeOf(child.pid);
    for (let i = 0; startTime === undefined && i < 100; i++) {
      sleepSync(1);
      startTime = startTimeOf(child.pid);
    }
    return { pid: child.pid, startTime: startTime ?? '' };
  } finally {
    fs.closeSync(fd);
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
