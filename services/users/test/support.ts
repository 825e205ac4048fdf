import { generateKeyPairSync } from 'node:crypto';
import { type Answer, call } from '@souk/harness/http';
import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { startUsers, type UsersApp, type UsersAppOptions } from '../src/app.ts';
import { usersConfig } from '../src/config.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

/** An EC P-256 private key as the Helm chart generates it (SEC1 PEM). */
export function ecKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'sec1', format: 'pem' })
    .toString();
}

/** The users service in-process on port 0, on the suite's database, key prefix and topics. */
export async function startApp(
  s: Suite,
  env: Record<string, string> = {},
  options: UsersAppOptions = {},
): Promise<UsersApp & { logs: LogLine[] }> {
  const config = loadConfig(usersConfig, {
    ...s.serviceEnv('users'),
    LOG_LEVEL: 'warn',
    ...env,
  });
  const logs: LogLine[] = [];
  const app = await startUsers(config, {
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    ...options,
  });
  return Object.assign(app, { logs });
}

export { type Answer, call };

let counter = 0;
/** A fresh address per call, so tests do not share accounts or per-account limits. */
export const freshEmail = (tag = 'user') => `${tag}-${process.pid}-${Date.now()}-${counter++}@example.com`;
export const PASSWORD = 'correct horse battery staple';
