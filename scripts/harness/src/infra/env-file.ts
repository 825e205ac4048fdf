import fs from 'node:fs';
import path from 'node:path';

/** The connection settings every test and service reads, as written to .souk/infra.env. */
export interface InfraEnv {
  SOUK_PG_PRIMARY_URL: string;
  SOUK_PG_REPLICA_URL: string;
  /** Comma list of host:port, 3 masters + 3 replicas. */
  SOUK_REDIS_NODES: string;
  /** Comma list of host:port. */
  SOUK_KAFKA_BROKERS: string;
  /** host:port of the Kafka mock's fault-control socket. */
  SOUK_KAFKA_CONTROL: string;
}

export const infraEnvKeys = [
  'SOUK_PG_PRIMARY_URL',
  'SOUK_PG_REPLICA_URL',
  'SOUK_REDIS_NODES',
  'SOUK_KAFKA_BROKERS',
  'SOUK_KAFKA_CONTROL',
] as const satisfies readonly (keyof InfraEnv)[];

export function writeEnvFile(file: string, env: InfraEnv): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, infraEnvKeys.map((k) => `${k}=${env[k]}\n`).join(''));
  fs.renameSync(tmp, file);
}

/** Parses KEY=value lines; undefined when the file is missing or incomplete. */
export function parseEnvFile(file: string): InfraEnv | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (m) values.set(m[1]!, m[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  const env: Partial<InfraEnv> = {};
  for (const k of infraEnvKeys) {
    const v = values.get(k);
    if (!v) return undefined;
    env[k] = v;
  }
  return env as InfraEnv;
}
