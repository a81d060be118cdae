/**
 * Timing helpers: run commands as child processes, alternating them round by round so that
 * a slow moment of the machine hits every command alike, and summarise as median and range.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';

/** A command to time: what runs, and from where. */
export interface Command {
  /** A short label for tables: `fast path`, `ts-node`. */
  readonly label: string;
  /** The program and its arguments, run without a shell. */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Extra environment variables. */
  readonly env?: NodeJS.ProcessEnv;
  /** The command as BENCHMARKS.md shows it (temporary folders written as <tmp>). */
  readonly shown: string;
  /** A non-zero exit is recorded rather than thrown (tests that fail still take time). */
  readonly allowFailure?: boolean;
  /** Runs before every run of the command, untimed (e.g. emptying a cache to measure a cold start). */
  readonly prepare?: () => void;
}

/** One timed run of a command. */
export interface Run {
  readonly ms: number;
  /** Peak resident memory of the largest process the command ran, when /usr/bin/time is there. */
  readonly maxRssKiB?: number;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Median, min and max of a series. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    throw new Error('summarize: no values');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** GNU time writes the peak RSS (ru_maxrss of the children, in KiB) on its last stderr line. */
const GNU_TIME = '/usr/bin/time';
const HAS_GNU_TIME = fs.existsSync(GNU_TIME);
const RSS_MARKER = 'bench-max-rss-kib=';

/**
 * Flushes what earlier runs wrote (`sync`, untimed), so that the kernel writing one run's files out
 * does not land in the middle of the next: a thousand workloads write 13 MB, and on a virtual disk
 * that made the runs after them up to a third slower at random. Where there is no `sync`, nothing.
 */
function settleWrites(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** Runs a command once and times it from spawn to exit (the wall time a user waits). */
export function runOnce(command: Command): Run {
  const argv = HAS_GNU_TIME ? [GNU_TIME, '-f', `${RSS_MARKER}%M`, ...command.argv] : [...command.argv];
  command.prepare?.();
  settleWrites();
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: command.cwd,
    env: { ...process.env, ...command.env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) {
    throw result.error;
  }
  let stderr = result.stderr;
  let maxRssKiB: number | undefined;
  const marker = stderr.lastIndexOf(RSS_MARKER);
  if (marker !== -1) {
    maxRssKiB = Number(stderr.slice(marker + RSS_MARKER.length).trim());
    stderr = stderr.slice(0, marker);
  }
  const exitCode = result.status ?? 1;
  if (exitCode !== 0 && !command.allowFailure) {
    throw new Error(`${command.label}: \`${command.argv.join(' ')}\` exited ${exitCode}:\n${stderr.slice(-4000)}`);
  }
  return { ms, maxRssKiB, exitCode, stdout: result.stdout, stderr };
}

/** Every run of one command in an alternating series. */
export interface Series {
  readonly command: Command;
  readonly warmup: readonly Run[];
  readonly runs: readonly Run[];
}

/**
 * Runs every command `warmup` times uncounted, then `counted` times counted, alternating:
 * round 1 runs A, B, C; round 2 runs A, B, C again; and so on. A command may ask for fewer
 * counted runs (`countedFor`), e.g. a slow one in quick mode; it then sits out the last rounds.
 */
export function alternate(
  commands: readonly Command[],
  rounds: {
    warmup: number;
    counted: number;
    /** Fewer warm-up runs for some commands (e.g. none for a slow one whose cache nothing keeps). */
    warmupFor?: (c: Command) => number;
    countedFor?: (c: Command) => number;
  },
  log: (line: string) => void,
): Series[] {
  const series = commands.map((command) => ({ command, warmup: [] as Run[], runs: [] as Run[] }));
  for (let round = 0; round < rounds.warmup + rounds.counted; round++) {
    const warm = round < rounds.warmup;
    for (const s of series) {
      const wanted = warm
        ? (rounds.warmupFor?.(s.command) ?? rounds.warmup)
        : (rounds.countedFor?.(s.command) ?? rounds.counted);
      if (warm ? s.warmup.length >= wanted : s.runs.length >= wanted) {
        continue;
      }
      const run = runOnce(s.command);
      (warm ? s.warmup : s.runs).push(run);
      log(`  ${warm ? 'warm-up' : `run ${s.runs.length}`} ${s.command.label}: ${(run.ms / 1000).toFixed(2)} s`);
    }
  }
  return series;
}

export function timeSummary(s: Series): Summary {
  return summarize(s.runs.map((r) => r.ms));
}

export function rssSummary(s: Series): Summary | undefined {
  const values = s.runs.map((r) => r.maxRssKiB).filter((v): v is number => v !== undefined);
  return values.length > 0 ? summarize(values) : undefined;
}
