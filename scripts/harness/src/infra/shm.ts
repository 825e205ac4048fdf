import fs from 'node:fs';
import { runSync } from './processes.ts';

/** A System V shared-memory segment as the kernel lists it in /proc/sysvipc/shm. */
export interface ShmSegment {
  key: number;
  shmid: number;
  creatorPid: number;
  attached: number;
}

export function listShm(): ShmSegment[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/sysvipc/shm', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 7)
    .map((f) => ({
      key: Number(f[0]),
      shmid: Number(f[1]),
      creatorPid: Number(f[4]),
      attached: Number(f[6]),
    }));
}

/**
 * Removes the segment `shmid` if it still exists and was created by `creatorPid`, so a recycled id
 * of somebody else's segment is never touched. Attached segments are destroyed on last detach.
 */
export function removeShm(shmid: number, creatorPid: number): boolean {
  const seg = listShm().find((s) => s.shmid === shmid && s.creatorPid === creatorPid);
  if (!seg) return false;
  return runSync('ipcrm', ['-m', String(shmid)]).code === 0;
}
