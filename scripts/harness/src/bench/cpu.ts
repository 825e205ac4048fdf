import fs from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcessTimes {
  ppid: number;
  /** user + system of the process, plus those of the children it has reaped. */
  ticks: number;
}

function processTimes(): Map<number, ProcessTimes> {
  const all = new Map<number, ProcessTimes>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let raw: string;
    try {
      raw = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command name (which may hold spaces): state, ppid, ... utime stime cutime cstime at 11-14.
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    all.set(Number(entry), {
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
    });
  }
  return all;
}

/**
 * CPU seconds (user + system) used so far by each group of process trees: a root, its live
 * descendants and whatever they reaped (a Postgres backend that has exited counts in its postmaster).
 */
export function cpuSecondsOfTrees<G extends string>(groups: Record<G, number[]>): Record<G, number> {
  const all = processTimes();
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of all) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const treeTicks = (pid: number): number =>
    (all.get(pid)?.ticks ?? 0) + (children.get(pid) ?? []).reduce((sum, child) => sum + treeTicks(child), 0);
  const out = {} as Record<G, number>;
  for (const group of Object.keys(groups) as G[]) {
    out[group] = groups[group].reduce((sum, root) => sum + treeTicks(root), 0) / TICKS_PER_SECOND;
  }
  return out;
}

/** CPU seconds the whole machine has spent busy and in total, all cores together (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: idle and iowait are the time no task ran.
  const ticks = fields.slice(0, 8).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: (total - ticks[3]! - ticks[4]!) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
