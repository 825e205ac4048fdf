import fs from 'node:fs';
import { isAlive, type ProcessRef, refOf, sleep, sleepSync } from './processes.ts';

/**
 * A cross-process lock: a file created exclusively, holding the owner's pid. A lock whose owner
 * died is taken over, so a crashed `up` never blocks the next one.
 */
function tryAcquire(file: string): boolean {
  try {
    fs.writeFileSync(file, JSON.stringify(refOf(process.pid)), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let holder: ProcessRef | undefined;
  let content = '';
  try {
    content = fs.readFileSync(file, 'utf8');
    holder = JSON.parse(content) as ProcessRef;
  } catch {
    // being written right now, or removed meanwhile: look again shortly
    return false;
  }
  if (holder && !isAlive(holder)) {
    // Only remove it if it is still the very lock we judged stale.
    try {
      if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file);
    } catch {
      // somebody else took it over first
    }
  }
  return false;
}

function release(file: string): void {
  try {
    const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as ProcessRef;
    if (holder.pid === process.pid) fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

export async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryAcquire(file)) {
    if (Date.now() > deadline) throw new Error(`could not get ${file} within ${timeoutMs} ms`);
    await sleep(25);
  }
  try {
    return await fn();
  } finally {
    release(file);
  }
}

export function withLockSync<T>(file: string, fn: () => T, timeoutMs = 30_000): T {
  const deadline = Date.now() + timeoutMs;
  while (!tryAcquire(file)) {
    if (Date.now() > deadline) throw new Error(`could not get ${file} within ${timeoutMs} ms`);
    sleepSync(25);
  }
  try {
    return fn();
  } finally {
    release(file);
  }
}
