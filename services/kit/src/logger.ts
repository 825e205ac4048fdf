import { trace } from '@opentelemetry/api';
import { type DestinationStream, type Level, pino, stdTimeFunctions } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  service: string;
  level?: Level | 'silent';
  /** Where lines go; stdout by default. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** JSON lines; every line written inside a span carries its trace_id and span_id. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
