import { BUSY_SHARE, kernelThreadsCpuSeconds, machineBusyCpuSeconds, othersShare } from './machine-load';

test('others\' share is the machine\'s busy time less the bench\'s own, over the run on every CPU', () => {
  // 100 s on 2 CPUs: 60 busy CPU seconds, 50 of them the bench's: others took 10, 5% of the machine.
  expect(othersShare(1000, 1060, 50, 100, 2)).toEqual({ cpuSeconds: 10, shareOfMachine: 0.05 });
  // Rounding in the kernel's and time's counts can make the bench's own exceed the machine's.
  expect(othersShare(1000, 1049, 50, 100, 2)).toEqual({ cpuSeconds: 0, shareOfMachine: 0 });
  expect(othersShare(undefined, 1060, 50, 100, 2)).toBeUndefined();
  expect(othersShare(1000, 1061, 50, 100, 2)!.shareOfMachine).toBeGreaterThan(BUSY_SHARE);
});

test('the kernel\'s busy time is read and grows with work done', () => {
  const before = machineBusyCpuSeconds();
  if (before === undefined) {
    return; // not Linux: the figure is unknown, and the report says so
  }
  const until = Date.now() + 100;
  while (Date.now() < until) {
    // busy for a tenth of a second
  }
  expect(machineBusyCpuSeconds()!).toBeGreaterThan(before);
});

test('the kernel\'s own threads are found and their time counted', () => {
  if (machineBusyCpuSeconds() === undefined) {
    return; // not Linux
  }
  // A machine that has run for a while has spent some time in its kernel threads (rcu, kworkers).
  expect(kernelThreadsCpuSeconds()).toBeGreaterThan(0);
});
