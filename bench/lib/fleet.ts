/**
 * The fleet step of `npm run bench` (`npm run bench -- --fleet-only` runs it alone): the synth of a
 * fleet of environments of one file each (test/fleet.ts), at 5, 10 and 20 environments, timed and
 * its peak memory taken as a user runs it. Per environment: the average (the whole run divided by
 * the fleet's size), the marginal cost (what each environment added between two sizes), and the
 * slope of a straight line fitted through the three medians (least squares: a fixed cost plus a
 * cost per environment). Linear if no size is further from that line than LINEAR_TOLERANCE of its
 * own time: a cost per environment that grows with the fleet (a check across environments, say)
 * bends the line. The sizes are small and a synth is short, so on a busy machine the marginal
 * costs are mostly noise; the fit over all three is the steadier figure.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FLEET_SIZE, fleetCopy } from '../../test/fleet';
import { alternate, Command, rssSummary, summarize, Summary, timeSummary } from './measure';

/** The fleet sizes compared. */
export const FLEET_SIZES: readonly number[] = [5, 10, FLEET_SIZE];

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** How far from the fitted line (a share of the measured time) a fleet size may be and the growth still be called linear. */
export const LINEAR_TOLERANCE = 0.15;

export interface FleetRow {
  readonly environments: number;
  /** Spawn to exit of the synth of the whole fleet. */
  readonly wallMs: Summary;
  /** Peak resident memory of the synth, where /usr/bin/time is there. */
  readonly maxRssMiB?: Summary;
  /** wallMs.median / environments. */
  readonly msPerEnvironment: number;
}

export interface FleetStep {
  /** From one fleet size to the next: what each added environment cost. */
  readonly from: number;
  readonly to: number;
  readonly msPerEnvironment: number;
  readonly mibPerEnvironment?: number;
}

/** A straight line through (environments, value) by least squares: value ≈ fixed + perEnvironment × environments. */
export interface LineFit {
  readonly fixed: number;
  readonly perEnvironment: number;
  /** The largest |measured − line| / measured over the sizes. */
  readonly largestResidualShare: number;
}

export function fitLine(points: readonly { readonly n: number; readonly value: number }[]): LineFit {
  const meanN = points.reduce((sum, p) => sum + p.n, 0) / points.length;
  const meanV = points.reduce((sum, p) => sum + p.value, 0) / points.length;
  const sxx = points.reduce((sum, p) => sum + (p.n - meanN) ** 2, 0);
  const sxy = points.reduce((sum, p) => sum + (p.n - meanN) * (p.value - meanV), 0);
  const perEnvironment = sxy / sxx;
  const fixed = meanV - perEnvironment * meanN;
  const largestResidualShare = Math.max(
    ...points.map((p) => Math.abs(p.value - (fixed + perEnvironment * p.n)) / p.value),
  );
  return { fixed, perEnvironment, largestResidualShare };
}

export interface FleetResult {
  readonly rows: readonly FleetRow[];
  readonly steps: readonly FleetStep[];
  /** Wall time (ms) against environments. */
  readonly timeFit: LineFit;
  /** Peak memory (MiB) against environments, where measured. */
  readonly memoryFit?: LineFit;
  readonly linear: boolean;
  /** How each run was made, as BENCHMARKS.md shows it. */
  readonly shown: string;
}

/** Runs the fleet step: one copy of the project per size, each synthesized `counted` times after `warmup`, the sizes alternating. */
export function benchFleet(
  tmp: string,
  node: string,
  plan: { readonly warmup: number; readonly counted: number },
  log: (line: string) => void,
): FleetResult {
  log(
    `\n[fleet] synth of fleets of ${FLEET_SIZES.join(', ')} environments, one file each (${plan.warmup} warm-up, ${plan.counted} counted runs)`,
  );
  const copies = FLEET_SIZES.map((size) => ({ size, ...fleetCopy(size, `lab-to-prod-bench-fleet-${size}-`) }));
  try {
    const shown =
      'node speed/tsrun.js main.ts --outdir <tmp>, in a copy of the project holding the fleet (test/fleet.ts)';
    const commands: Command[] = copies.map(({ size, dir }) => ({
      label: `fleet of ${size}`,
      argv: [node, 'speed/tsrun.js', 'main.ts', '--outdir', path.join(tmp, 'fleet', String(size))],
      // Each copy its own tsrun cache, warmed by the warm-up run, as a clone's own would be.
      env: { LAB_TO_PROD_TSRUN_CACHE: path.join(dir, '.tsrun-cache') },
      shown,
      cwd: dir,
    }));
    const series = alternate(commands, plan, log);
    const rows: FleetRow[] = series.map((s, i) => {
      const rss = rssSummary(s);
      const time = timeSummary(s);
      return {
        environments: FLEET_SIZES[i],
        wallMs: time,
        ...(rss === undefined
          ? {}
          : { maxRssMiB: summarize(s.runs.flatMap((r) => (r.maxRssKiB === undefined ? [] : [r.maxRssKiB / 1024]))) }),
        msPerEnvironment: time.median / FLEET_SIZES[i],
      };
    });
    const steps = rows.slice(1).map((row, i): FleetStep => {
      const before = rows[i];
      const added = row.environments - before.environments;
      return {
        from: before.environments,
        to: row.environments,
        msPerEnvironment: (row.wallMs.median - before.wallMs.median) / added,
        ...(row.maxRssMiB && before.maxRssMiB
          ? { mibPerEnvironment: (row.maxRssMiB.median - before.maxRssMiB.median) / added }
          : {}),
      };
    });
    const timeFit = fitLine(rows.map((row) => ({ n: row.environments, value: row.wallMs.median })));
    const memoryFit = rows.every((row) => row.maxRssMiB !== undefined)
      ? fitLine(rows.map((row) => ({ n: row.environments, value: row.maxRssMiB!.median })))
      : undefined;
    return {
      rows,
      steps,
      timeFit,
      ...(memoryFit === undefined ? {} : { memoryFit }),
      linear: timeFit.largestResidualShare <= LINEAR_TOLERANCE,
      shown,
    };
  } finally {
    for (const { dir } of copies) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The fleet's figures as lines for the terminal. */
export function fleetSummary(r: FleetResult): string[] {
  return [
    ...r.rows.map(
      (row) =>
        `  ${String(row.environments).padStart(2)} environments: ${seconds(row.wallMs.median)} (min ${seconds(row.wallMs.min)}, max ${seconds(row.wallMs.max)}, ${row.wallMs.n} runs), ` +
        `${Math.round(row.msPerEnvironment)} ms per environment` +
        (row.maxRssMiB ? `, peak ${Math.round(row.maxRssMiB.median)} MiB` : ''),
    ),
    ...r.steps.map(
      (step) =>
        `  ${step.from} → ${step.to}: each added environment ${Math.round(step.msPerEnvironment)} ms` +
        (step.mibPerEnvironment === undefined ? '' : `, ${step.mibPerEnvironment.toFixed(1)} MiB`),
    ),
    `  ${fleetVerdict(r)}`,
  ];
}

/** One sentence: the fitted cost per environment, and linear or not. */
export function fleetVerdict(r: FleetResult): string {
  const { timeFit, memoryFit } = r;
  return (
    `${r.linear ? 'linear' : '**not linear**'}: a line through the ${r.rows.length} sizes gives ${Math.round(timeFit.perEnvironment)} ms per environment ` +
    `on a fixed ${seconds(timeFit.fixed)}` +
    (memoryFit
      ? ` and ${memoryFit.perEnvironment.toFixed(1)} MiB per environment on a fixed ${Math.round(memoryFit.fixed)} MiB`
      : '') +
    `; no size is more than ${(timeFit.largestResidualShare * 100).toFixed(0)}% off it (linear up to ${LINEAR_TOLERANCE * 100}%)`
  );
}

/** BENCHMARKS.md's section for the fleet. */
export function fleetMarkdown(r: FleetResult, heading: string): string[] {
  return [
    heading,
    '',
    'One repository serving many clusters of one kind: a copy of the project whose `lib/environments/` holds the',
    "project's four environment files and more, each a copy of one of them with its own name and site values",
    '(test/fleet.ts, which test/fleet.test.ts renders at twenty). Each size is synthesized as a user runs it, every',
    `environment with its \`dist/<env>/\` and \`dist/<env>-delivery/\`: \`${r.shown}\`.`,
    '',
    '| environments | median | min–max | runs | per environment (median / size) | peak memory (median) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (row) =>
        `| ${row.environments} | ${seconds(row.wallMs.median)} | ${seconds(row.wallMs.min)}–${seconds(row.wallMs.max)} | ${row.wallMs.n} | ` +
        `${Math.round(row.msPerEnvironment)} ms | ${row.maxRssMiB ? `${Math.round(row.maxRssMiB.median)} MiB` : '–'} |`,
    ),
    '',
    '| step | time per added environment | memory per added environment |',
    '|---|---:|---:|',
    ...r.steps.map(
      (step) =>
        `| ${step.from} → ${step.to} | ${Math.round(step.msPerEnvironment)} ms | ` +
        `${step.mibPerEnvironment === undefined ? '–' : `${step.mibPerEnvironment.toFixed(1)} MiB`} |`,
    ),
    '',
    `${fleetVerdict(r).replace(/^./, (c) => c.toUpperCase())}.`,
  ];
}
