import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Level, pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  service: string;
  level?: Level | 'silent';
  /** Where lines go; stdout through `logDestination()` by default. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** What a line outside any trace gets: no ids (rather than the all-zero ids of an invalid span). */
const NO_TRACE: object = Object.freeze({});

/** JSON lines; every line written inside a span carries its trace_id and span_id. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan()?.spanContext();
        if (!span || !isSpanContextValid(span)) return NO_TRACE;
        return { trace_id: span.traceId, span_id: span.spanId };
      },
      mixinMergeStrategy: (line, ids) => (ids === NO_TRACE ? line : Object.assign(ids, line)),
    },
    options.destination ?? logDestination(1),
  );
}

/** How long a line may wait in the buffer of `logDestination` before it is written anyway. */
export const LOG_FLUSH_INTERVAL_MS = 200;

/**
 * The log sink of a service: lines are buffered and written asynchronously in blocks of 4 KiB or
 * every LOG_FLUSH_INTERVAL_MS, so a request never waits on a write to stdout (a synchronous write
 * per line costs a syscall each, and blocks the event loop when the pipe is full). What is still
 * buffered is written by `flushLogger()` on shutdown, and synchronously on process exit.
 */
export function logDestination(dest: number | string = 1): DestinationStream {
  const stream = pino.destination({ dest, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    try {
      stream.flush();
    } catch {
      // Destroyed (stdout closed): nothing left to write to.
      clearInterval(timer);
    }
  }, LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  stream.once('close', () => clearInterval(timer));
  return stream;
}

/** Resolves once every line logged so far has been written out. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const done = (error?: Error | null) => {
      // The lines are out by then; a pipe or a terminal just cannot be fsync'ed.
      if (error && (error as NodeJS.ErrnoException).syscall !== 'fsync') {
        process.stderr.write(`log flush failed: ${String(error)}\n`);
      }
      resolve();
    };
    try {
      logger.flush(done);
    } catch (error) {
      done(error as Error);
    }
  });
}

/** pino's ISO time, formatted once per millisecond however many lines share it. */
let stampedAt = -1;
let stamp = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}
