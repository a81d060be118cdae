import {
  BUSY_SHARE,
  othersShare,
  parseProcStat,
  processTimes,
  ProcessTimes,
  stealShare,
  stealTicks,
  tooBusy,
} from './machine-load';

/** A process as /proc gives it: own and waited-for children's ticks. */
const proc = (
  pid: number,
  ppid: number,
  own: number,
  children = 0,
  extra: Partial<ProcessTimes> = {},
): ProcessTimes => ({ pid, ppid, started: pid * 10, kernelThread: false, own, children, ...extra });
const byPid = (...ps: ProcessTimes[]) => new Map(ps.map((p) => [p.pid, p]));

test('others are what processes outside the bench took, with the children they waited for', () => {
  // 100 s on 2 CPUs. Process 1 (init) works 1 s and reaps 30 s of orphans (the bench's esbuild
  // services among them); npm (50) runs the bench (60); a build (70) takes 5 s itself and 3 s in
  // children it waited for; a kernel thread (80) writes files out for 20 s; a program (90) starts
  // meanwhile and takes 1 s.
  const start = byPid(
    proc(1, 0, 100, 0),
    proc(50, 1, 50),
    proc(60, 50, 10),
    proc(70, 1, 0),
    proc(80, 0, 0, 0, { kernelThread: true }),
  );
  const end = byPid(
    proc(1, 0, 200, 3000),
    proc(50, 1, 60),
    proc(60, 50, 9000, 40000),
    proc(70, 1, 500, 300),
    proc(80, 0, 2000, 0, { kernelThread: true }),
    proc(90, 1, 100),
  );
  expect(othersShare(start, end, 60, 100, 2)).toEqual({ cpuSeconds: 1 + 8 + 1, shareOfMachine: 10 / 200 });
  expect(othersShare(start, end, 60, 100, 2)!.shareOfMachine).toBeLessThanOrEqual(BUSY_SHARE);
  // A pid reused by a later process counts whole.
  const reused = byPid(...[...end.values()].map((p) => (p.pid === 70 ? { ...p, started: 9999 } : p)));
  expect(othersShare(start, reused, 60, 100, 2)!.cpuSeconds).toBe(10);
  expect(othersShare(undefined, end, 60, 100, 2)).toBeUndefined();
});

test('a /proc stat line is read past a command name with spaces and parentheses', () => {
  const line = '4242 (a (b) c) S 17 4242 4242 0 -1 2097216 10 0 0 0 123 45 6 7 20 0 1 0 98765 0 0';
  expect(parseProcStat(4242, line)).toEqual({
    pid: 4242,
    ppid: 17,
    started: 98765,
    kernelThread: true,
    own: 168,
    children: 13,
  });
});

test("this machine's processes are read, this one among them", () => {
  const all = processTimes();
  if (all === undefined) {
    return; // not Linux: the figure is unknown, and the report says so
  }
  expect(all.get(process.pid)).toMatchObject({ pid: process.pid, ppid: process.ppid, kernelThread: false });
});

test("steal is the eighth figure of /proc/stat's cpu line, and its share is of all CPUs over the run", () => {
  const procStat =
    'cpu  2892316 10262 864883 3788650 28349 0 50411 13334 0 0\ncpu0 1428505 5637 414331 1939438 5784 0 22643 6651 0 0\n';
  expect(stealTicks(procStat)).toBe(13334);
  // A kernel that does not count steal prints fewer fields.
  expect(stealTicks('cpu  1 2 3 4\n')).toBeUndefined();
  expect(stealTicks('intr 1 2 3\n')).toBeUndefined();
  // 200 s on 2 CPUs, 8 s stolen: 2% of the machine.
  expect(stealShare(13334, 14134, 200, 2)).toEqual({ cpuSeconds: 8, shareOfMachine: 0.02 });
  expect(stealShare(undefined, 14134, 200, 2)).toBeUndefined();
  // This machine's own reading, where there is one, is a count of ticks.
  const now = stealTicks();
  if (now !== undefined) {
    expect(Number.isInteger(now) && now >= 0).toBe(true);
  }
});

test('a share above 5% of the machine is too busy to publish; an unknown one is not', () => {
  expect(tooBusy({ cpuSeconds: 21, shareOfMachine: 0.051 })).toBe(true);
  expect(tooBusy({ cpuSeconds: 20, shareOfMachine: 0.05 })).toBe(false);
  expect(tooBusy(undefined)).toBe(false);
});
