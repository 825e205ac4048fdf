import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, pidsWithCwdUnder } from './processes.ts';

const pattern = /^souk-(?:pg|redis|redis-nodes|kafka)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Where private instances live: SOUK_TMPDIR, else /dev/shm when it has room, else the system temp
 * dir. Their data is thrown away after the test, and on this disk (mounted with `discard`) removing
 * a Postgres pair's 100 MB takes seconds, on tmpfs nothing. The shared instance stays on disk.
 */
export function tempBase(): string {
  if (process.env['SOUK_TMPDIR']) return process.env['SOUK_TMPDIR'];
  try {
    const st = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (st.bavail * st.bsize > 2 * 1024 ** 3) return '/dev/shm';
  } catch {
    // no usable tmpfs
  }
  return os.tmpdir();
}

/**
 * A private instance's directory: <base>/souk-<kind>-<owner pid>-XXXXXX. The pid in the name lets
 * the next process remove what a SIGKILLed owner could not (its servers die with it).
 */
export function makeTempDir(kind: string): string {
  const base = tempBase();
  removeOrphanedTempDirs(base);
  return fs.mkdtempSync(path.join(base, `souk-${kind}-${process.pid}-`));
}

export function removeOrphanedTempDirs(base = tempBase()): void {
  for (const name of fs.readdirSync(base)) {
    const owner = name.match(pattern)?.[1];
    if (!owner || isAlive(Number(owner))) continue;
    const dir = path.join(base, name);
    // Its servers may still be shutting down: leave it to the next one.
    if (pidsWithCwdUnder(dir).length > 0) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
