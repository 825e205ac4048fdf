import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const milliseconds = z.coerce.number().int().positive();

/** Variables every service reads. Services extend it: `baseConfig.extend({ DATABASE_URL: z.url() })`. */
export const baseConfig = z.object({
  SERVICE_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve /metrics on this port instead of the main one. */
  METRICS_PORT: port.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Trust X-Forwarded-* from the ingress (client address, protocol). Turn off when exposed directly. */
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  /** Comma-separated origins allowed by CORS, or `*`. Unset: no CORS headers at all. */
  CORS_ORIGINS: z.string().optional(),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  REQUEST_TIMEOUT_MS: milliseconds.default(30_000),
  /** How long in-flight requests get to finish on SIGTERM before their connections are cut. */
  SHUTDOWN_DRAIN_MS: milliseconds.default(10_000),
});

export type BaseConfig = z.output<typeof baseConfig>;

/** Raised when the environment does not satisfy the schema; `lines` has one line per variable. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig<S extends z.ZodType<BaseConfig>>(schema: S, env: Env = process.env): z.output<S> {
  // Kubernetes renders an unset optional value as "", which means "not set" here.
  const input = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const byVariable = new Map<string, string>();
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? '(root)');
    if (byVariable.has(name)) continue;
    const reason = input[name] === undefined ? 'is required but not set' : `is invalid: ${issue.message}`;
    byVariable.set(name, `config: ${name} ${reason}`);
  }
  throw new ConfigError([...byVariable.values()]);
}

/** Exit code for a configuration error (EX_CONFIG from sysexits.h). */
export const CONFIG_EXIT_CODE = 78;

/** For a service's entry point: on a bad environment, print one line per variable and exit. */
export function loadConfigOrExit<S extends z.ZodType<BaseConfig>>(
  schema: S,
  env: Env = process.env,
): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.lines.join('\n')}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
}
