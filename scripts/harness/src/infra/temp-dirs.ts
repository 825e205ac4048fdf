import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, pidsWithCwdUnder } from './processes.ts';

const pattern = /^souk-(?:pg|redis|redis-nodes|kafka)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A private instance's directory: os.tmpdir()/souk-<kind>-<owner pid>-XXXXXX. The pid in the name
 * lets the next process remove what a SIGKILLed owner could not (its servers die with it).
 */
export function makeTempDir(kind: string): string {
  removeOrphanedTempDirs();
  return fs.mkdtempSync(path.join(os.tmpdir(), `souk-${kind}-${process.pid}-`));
}

export function removeOrphanedTempDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const owner = name.match(pattern)?.[1];
    if (!owner || isAlive(Number(owner))) continue;
    const dir = path.join(os.tmpdir(), name);
    // Its servers may still be shutting down: leave it to the next one.
    if (pidsWithCwdUnder(dir).length > 0) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
