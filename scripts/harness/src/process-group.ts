import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Signals every process of a group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Live members of a process group, as "pid command" strings; zombies count as gone. */
export async function leftoverProcesses(pgid: number): Promise<string[]> {
  const { stdout } = await exec('ps', ['-eo', 'pid=,pgid=,stat=,args=']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, stat]) => Number(group) === pgid && pid && !stat?.startsWith('Z'))
    .map(([pid, , , ...args]) => `${pid} ${args.join(' ').slice(0, 120)}`);
}
