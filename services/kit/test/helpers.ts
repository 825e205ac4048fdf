import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { baseConfig, loadConfig } from '../src/config.ts';
import type { Route } from '../src/route.ts';
import { createService, type Service, type ServiceOptions, type StartOptions } from '../src/service.ts';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A service of the kit listening on an ephemeral port of 127.0.0.1, its log lines captured. */
export async function startKit(
  routes: Route[],
  options: { env?: Record<string, string>; start?: Omit<StartOptions, 'routes'> } & Omit<
    ServiceOptions<never>,
    'config' | 'logDestination'
  > = {},
): Promise<{
  service: Service;
  url: string;
  logs: LogLine[];
  metricsUrl?: string | undefined;
  stop(): Promise<void>;
}> {
  const config = loadConfig(baseConfig, {
    SERVICE_NAME: 'kit-test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const logs: LogLine[] = [];
  const { env: _env, start, ...serviceOptions } = options;
  const service = createService({
    ...serviceOptions,
    config,
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  });
  const listening = await service.start({ ...start, routes });
  return {
    service,
    url: listening.url,
    metricsUrl: listening.metricsUrl,
    logs,
    stop: async () => {
      await service.stop();
    },
  };
}

/** A plain node:http upstream that counts its hits. */
export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void,
): Promise<{ url: string; hits: () => number; server: Server; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    handler(req, res, hits);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const FIXTURE = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));

export interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Parsed JSON lines of stdout. */
  logs: () => LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(): void;
}

/** Runs the fixture service as a real child process with exactly this environment. */
export function spawnFixture(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    logs,
    async waitForLog(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = logs().find(predicate);
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`log line not seen; stdout:\n${out}\nstderr:\n${err}`);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(child.pid, 'SIGKILL');
    },
  };
}
