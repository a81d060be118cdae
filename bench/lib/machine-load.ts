import * as fs from 'fs';

/**
 * How much of the machine other processes took while the bench ran. The load average cannot say:
 * at the end of a run it counts the bench's own last commands (jest runs a worker per CPU). The
 * kernel's count of busy CPU time (/proc/stat) minus what the bench and the commands it timed used
 * is what others took. Linux only; elsewhere the figure is unknown.
 */

/** Clock ticks per second of /proc/stat (USER_HZ), 100 on Linux. */
const USER_HZ = 100;

/** Busy CPU seconds of the whole machine since boot (user, nice, system, irq, softirq, steal), or undefined off Linux. */
export function machineBusyCpuSeconds(): number | undefined {
  let line: string | undefined;
  try {
    line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  } catch {
    return undefined;
  }
  if (!line) {
    return undefined;
  }
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / USER_HZ;
}

export interface OthersShare {
  /** CPU seconds others used during the run. */
  readonly cpuSeconds: number;
  /** That, as a share of the machine over the run (all CPUs). */
  readonly shareOfMachine: number;
}

/** Others' CPU time between two readings of machineBusyCpuSeconds, given what the bench itself used. */
export function othersShare(busyAtStart: number | undefined, busyAtEnd: number | undefined, ownCpuSeconds: number,
  wallSeconds: number, cpus: number): OthersShare | undefined {
  if (busyAtStart === undefined || busyAtEnd === undefined || wallSeconds <= 0) {
    return undefined;
  }
  const cpuSeconds = Math.max(0, busyAtEnd - busyAtStart - ownCpuSeconds);
  return { cpuSeconds, shareOfMachine: cpuSeconds / (wallSeconds * cpus) };
}

/** Above this share of the machine taken by others, a full run's figures are not published. */
export const BUSY_SHARE = 0.05;
