import * as fs from 'fs';

/**
 * How much of the machine other programs took while the bench ran. The load average cannot say:
 * at the end of a run it counts the bench's own last commands (jest runs a worker per CPU). Nor can
 * the machine's busy time less the bench's own: the kernel's threads write the bench's files out,
 * and esbuild's service process outlives the run that started it, so the bench cannot count all of
 * its own work. Instead the bench reads every other program's CPU time (/proc/<pid>/stat) at the
 * start and at the end: what the processes that are not the bench's took meanwhile, with the
 * children they waited for. Linux only; elsewhere the figure is unknown.
 */

/** Clock ticks per second of /proc (USER_HZ), 100 on Linux. */
const USER_HZ = 100;

/** The kernel's own threads, by the PF_KTHREAD flag. */
const PF_KTHREAD = 0x00200000;

/** One process as /proc/<pid>/stat gives it. */
export interface ProcessTimes {
  readonly pid: number;
  readonly ppid: number;
  /** When it started, in ticks since boot: with the pid, tells a process from a later one reusing the pid. */
  readonly started: number;
  readonly kernelThread: boolean;
  /** Its own user and system ticks. */
  readonly own: number;
  /** User and system ticks of the children it waited for. */
  readonly children: number;
}

/** Parses /proc/<pid>/stat (the command name, in parentheses, may hold spaces and parentheses). */
export function parseProcStat(pid: number, stat: string): ProcessTimes {
  // After the name: state, ppid, pgrp, session, tty, tpgid, flags, 4 fault counts, utime, stime,
  // cutime, cstime, priority, nice, threads, itrealvalue, starttime.
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return {
    pid,
    ppid: f[1],
    started: f[19],
    kernelThread: (f[6] & PF_KTHREAD) !== 0,
    own: f[11] + f[12],
    children: f[13] + f[14],
  };
}

/** Every process now, or undefined off Linux. */
export function processTimes(): Map<number, ProcessTimes> | undefined {
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return undefined;
  }
  const all = new Map<number, ProcessTimes>();
  for (const pid of pids) {
    try {
      all.set(pid, parseProcStat(pid, fs.readFileSync(`/proc/${pid}/stat`, 'utf8')));
    } catch {
      // ended meanwhile
    }
  }
  return all;
}

/** CPU time taken from the bench during a run: by other programs, or by the host (steal). */
export interface CpuShare {
  /** CPU seconds taken during the run. */
  readonly cpuSeconds: number;
  /** That, as a share of the machine over the run (all CPUs). */
  readonly shareOfMachine: number;
}

/**
 * What programs other than the bench took between two readings. Left out: the kernel's threads, the
 * bench and the processes it runs in (npm, a shell), and, of process 1, the children it reaped,
 * which include the bench's own orphans. A process that started meanwhile counts whole.
 */
export function othersShare(
  atStart: Map<number, ProcessTimes> | undefined,
  atEnd: Map<number, ProcessTimes> | undefined,
  benchPid: number,
  wallSeconds: number,
  cpus: number,
): CpuShare | undefined {
  if (!atStart || !atEnd || wallSeconds <= 0) {
    return undefined;
  }
  // The bench and what it runs in, up to but not including process 1.
  const bench = new Set<number>();
  for (
    let pid: number | undefined = benchPid;
    pid !== undefined && pid > 1 && !bench.has(pid);
    pid = atEnd.get(pid)?.ppid
  ) {
    bench.add(pid);
  }
  let ticks = 0;
  for (const p of atEnd.values()) {
    if (p.kernelThread || bench.has(p.pid)) {
      continue;
    }
    const before = atStart.get(p.pid);
    const same = before !== undefined && before.started === p.started;
    const total = (x: ProcessTimes) => x.own + (x.pid === 1 ? 0 : x.children);
    ticks += same ? total(p) - total(before) : total(p);
  }
  return asShare(ticks, wallSeconds, cpus);
}

/** Ticks over a run, in CPU seconds and as a share of all the CPUs' time. */
function asShare(ticks: number, wallSeconds: number, cpus: number): CpuShare {
  const cpuSeconds = Math.max(0, ticks) / USER_HZ;
  return { cpuSeconds, shareOfMachine: cpuSeconds / (wallSeconds * cpus) };
}

/** Above this share of the machine taken by other programs, or by the host (steal), a full run's figures are not published. */
export const BUSY_SHARE = 0.05;

/** Whether a share (of other programs, or steal) is large enough to inflate the figures; unknown is not. */
export function tooBusy(share: CpuShare | undefined): boolean {
  return share !== undefined && share.shareOfMachine > BUSY_SHARE;
}

/**
 * Steal: time the CPUs of this virtual machine were ready to run and the hypervisor ran something
 * else instead (the host's other guests). Neither the load average nor other processes' times show
 * it, and every timing here stretches by it. It is the eighth figure of /proc/stat's `cpu` line,
 * summed over the CPUs, in USER_HZ ticks; undefined off Linux or where the kernel does not count it.
 */
export function stealTicks(procStat?: string): number | undefined {
  let text = procStat;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/stat', 'utf8');
    } catch {
      return undefined;
    }
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  return fields && fields.length >= 8 && Number.isFinite(fields[7]) ? fields[7] : undefined;
}

/** Steal between two readings, in CPU seconds and as a share of the machine over the run. */
export function stealShare(
  atStart: number | undefined,
  atEnd: number | undefined,
  wallSeconds: number,
  cpus: number,
): CpuShare | undefined {
  if (atStart === undefined || atEnd === undefined || wallSeconds <= 0) {
    return undefined;
  }
  return asShare(atEnd - atStart, wallSeconds, cpus);
}
