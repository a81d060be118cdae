import * as fs from 'fs';

/**
 * How much of the machine other processes took while the bench ran. The load average cannot say:
 * at the end of a run it counts the bench's own last commands (jest runs a worker per CPU). The
 * kernel's count of busy CPU time (/proc/stat) less what the bench, the commands it timed and the
 * kernel's own threads used is what others took. Linux only; elsewhere the figure is unknown.
 */

/** Clock ticks per second of /proc/stat (USER_HZ), 100 on Linux. */
const USER_HZ = 100;

/**
 * Busy CPU seconds of the whole machine since boot (user, nice, system, steal), or undefined off
 * Linux. Interrupts are left out: most of them complete the bench's own disk writes.
 */
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
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + (steal || 0)) / USER_HZ;
}

/** The kernel's own threads, by the PF_KTHREAD flag of /proc/<pid>/stat. */
const PF_KTHREAD = 0x00200000;

/**
 * CPU seconds the kernel's own threads have used: writing the bench's files out (a thousand
 * workloads write 13 MB a run), journalling them, and the machine's housekeeping. Not another
 * program competing for the CPUs, so not counted as one.
 */
export function kernelThreadsCpuSeconds(): number {
  let ticks = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // After the command name in parentheses: state, ppid, pgrp, session, tty, tpgid, flags, 4 fault counts, utime, stime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if ((Number(fields[6]) & PF_KTHREAD) !== 0) {
      ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks / USER_HZ;
}

export interface OthersShare {
  /** CPU seconds others used during the run. */
  readonly cpuSeconds: number;
  /** That, as a share of the machine over the run (all CPUs). */
  readonly shareOfMachine: number;
}

/**
 * Others' CPU time between two readings of machineBusyCpuSeconds, given what the bench and, on its
 * behalf, the kernel's threads used.
 */
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
