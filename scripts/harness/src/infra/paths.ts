import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file lives in scripts/harness/src/infra. */
export const repoRoot: string =
  process.env['SOUK_ROOT'] ?? path.resolve(fileURLToPath(import.meta.url), '../../../../..');

/** Where the shared instance keeps its data, pid files and logs. */
export function infraDir(): string {
  return process.env['SOUK_INFRA_DIR'] ?? path.join(repoRoot, '.souk', 'infra');
}

/** The connection settings of the shared instance. */
export function infraEnvPath(): string {
  if (process.env['SOUK_INFRA_ENV']) return process.env['SOUK_INFRA_ENV'];
  return process.env['SOUK_INFRA_DIR']
    ? path.join(process.env['SOUK_INFRA_DIR'], 'infra.env')
    : path.join(repoRoot, '.souk', 'infra.env');
}

export const binDir: string = path.join(repoRoot, '.souk', 'bin');
export const kafkaMockBin: string = path.join(binDir, 'souk-kafka-mock');
/** PostgreSQL server binaries: 15 where present (what production runs), else the newest installed. */
export const pgBinDir: string = process.env['SOUK_PG_BIN'] ?? findPgBinDir();

function findPgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  const pick = versions.includes('15') ? '15' : versions.sort((a, b) => Number(b) - Number(a))[0];
  return path.join(base, pick ?? '15', 'bin');
}
