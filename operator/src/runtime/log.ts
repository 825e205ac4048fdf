import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON logs to stdout; level from LOG_LEVEL (info by default, silent in tests unless asked). */
export function createLogger(name = 'souk-operator', level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { component: name } });
}
