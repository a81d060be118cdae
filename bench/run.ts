/**
 * `npm run bench` (about 7–10 minutes) and `npm run bench -- --quick` (about a minute on an idle
 * machine: fewer runs, N up to 1,000, the unit tests left out): how fast the synth is against the
 * stock ts-node path and its peers, how it scales with workloads and with a fleet of environments
 * (`--fleet-only` runs that step alone). See BENCHMARKS.md.
 *
 * Every measurement runs the real commands as child processes, alternating them round by round,
 * after a warm-up; tables give the median and min–max. Output goes to a temporary folder, never to
 * dist/. The full run rewrites BENCHMARKS.md, bench/results/results.json and bench/results/scale.svg;
 * the quick run writes nothing in the repository and prints a summary and one closing line.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCommandLine } from '../lib/commands/command-line';
import { scaleChartSvg } from './lib/chart';
import { BUSY_SHARE, CpuShare, othersShare, processTimes, stealShare, stealTicks, tooBusy } from './lib/machine-load';
import { benchFleet, fleetSummary, fleetVerdict } from './lib/fleet';
import { assertSameObjects, writeKustomizeTree } from './lib/kustomize-tree';
import { alternate, Command, rssSummary, Series, summarize, Summary, timeSummary } from './lib/measure';
import { writeBenchmarksMd } from './lib/report';
import { BenchResults, ChecksResult, Machine, ScaleRow, TimedRow } from './lib/results';

const ROOT = path.resolve(__dirname, '..');
const NODE = process.execPath;

const USAGE = `usage: npm run bench -- [--quick] [--fleet-only] [--report-only]

Measures the synth against the stock ts-node path and its peers, and how it scales with workloads and
with a fleet of environments (BENCHMARKS.md). Output goes to a temporary folder, never to dist/.
  --quick        about a minute on an idle machine: fewer runs, N up to 1,000, no unit tests;
                 prints a summary and writes nothing in the repository
  --fleet-only   only the fleet step: the synth of fleets of 5, 10 and 20 environments of one file
                 each (test/fleet.ts), time and peak memory per environment, linear or not; prints
                 its figures and writes nothing in the repository (with --quick: one counted run each)
  --report-only  rewrite BENCHMARKS.md and the chart from bench/results/results.json, measuring nothing
(without any: about 7-10 minutes; rewrites BENCHMARKS.md, bench/results/results.json and the chart)`;

const { values: flags } = readCommandLine('bench', USAGE, {
  options: {
    quick: { type: 'boolean', default: false },
    // Rewrites BENCHMARKS.md and the chart from bench/results/results.json without measuring.
    'report-only': { type: 'boolean', default: false },
    'fleet-only': { type: 'boolean', default: false },
  },
});
const quick = flags.quick ?? false;

/**
 * How much each part runs. Quick mode trades precision for a run under a minute on an idle machine:
 * it leaves out the unit tests (about 25 s a run by themselves) and runs ts-node once.
 */
const PLAN = quick
  ? {
      warmup: 1,
      counted: 2,
      stockCounted: 1,
      withNpx: false,
      scaleNs: [10, 100, 1000],
      scaleCounted: 1,
      scaleWarmup: 1,
      runTests: false,
      testCounted: 0,
      testWarmup: 0,
      checksRuns: 1,
      checksIterations: 3,
      fleetWarmup: 1,
      fleetCounted: 1,
    }
  : {
      warmup: 1,
      counted: 5,
      stockCounted: 5,
      withNpx: true,
      scaleNs: [10, 100, 1000, 5000],
      scaleCounted: 5,
      scaleWarmup: 1,
      runTests: true,
      testCounted: 5,
      testWarmup: 1,
      checksRuns: 5,
      checksIterations: 5,
      fleetWarmup: 1,
      fleetCounted: 3,
    };

const started = Date.now();
const loadAtStart = os.loadavg()[0];
const processesAtStart = processTimes();
const stealAtStart = stealTicks();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-bench-'));
const log = (line: string) => console.log(line);

/** Where a package's command-line entry is, so it runs under this very node without npx. */
function packageBin(pkg: string, name: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name];
  return path.join(ROOT, 'node_modules', pkg, bin);
}

function packageVersion(pkg: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function row(s: Series): TimedRow {
  return { label: s.command.label, shown: s.command.shown, time: timeSummary(s), maxRssKiB: rssSummary(s) };
}

function machine(): Machine {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const kubectl = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).trim().split('\n');
  return {
    cpus: os.cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    npm: execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim(),
    kubectl: kubectl.join('; '),
    packages: Object.fromEntries(
      [
        'cdk8s',
        'cdk8s-plus-28',
        'constructs',
        'cdk8s-cli',
        'yaml',
        'esbuild',
        'ts-node',
        'tsx',
        'typescript',
        'jest',
        'ts-jest',
      ].map((p) => [p, packageVersion(p)]),
    ),
  };
}

/** Which code was measured: the commit, and whether lib/ or main.ts had changes not yet committed. */
function sourceVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'lib', 'speed', 'bin', 'main.ts'], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim() !== '';
    return `commit ${commit}${dirty ? ' with uncommitted changes in lib/, speed/, bin/ or main.ts' : ''}`;
  } catch {
    return process.env.BENCH_SOURCE ?? 'unknown (not a git checkout)';
  }
}

/** Files and bytes under a folder, and whether two folders hold the same bytes. */
function listTree(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) {
      for (const [k, v] of listTree(path.join(dir, e.name), rel)) {
        out.set(k, v);
      }
    } else {
      out.set(rel, fs.readFileSync(path.join(dir, e.name)));
    }
  }
  return out;
}

function assertSameTree(a: string, b: string, what: string): void {
  const ta = listTree(a);
  const tb = listTree(b);
  const same = ta.size === tb.size && [...ta].every(([k, v]) => tb.get(k)?.equals(v));
  if (!same) {
    throw new Error(`${what}: the outputs differ; the commands did not render the same thing`);
  }
}

// 1. Synth of all four environments from the TypeScript sources.
/**
 * Forgets, in a tsrun cache, every project bundle (the records that list packages, and the bundle,
 * map and code cache they name), keeping the packages' bundles: what an edit to a project file does.
 */
function forgetProjectBundles(cacheDir: string): void {
  if (!fs.existsSync(cacheDir)) {
    return;
  }
  for (const name of fs.readdirSync(cacheDir).filter((n) => n.endsWith('.record.json'))) {
    const record = JSON.parse(fs.readFileSync(path.join(cacheDir, name), 'utf8'));
    if (Array.isArray(record.packages)) {
      fs.rmSync(path.join(cacheDir, name));
      for (const file of fs.readdirSync(cacheDir).filter((n) => n.startsWith(record.bundle))) {
        fs.rmSync(path.join(cacheDir, file));
      }
    }
  }
}

function benchSynth(): {
  rows: TimedRow[];
  fast: Summary;
  afterEdit: Summary;
  emptyCache: Summary;
  stock: Summary;
  tsx: Summary;
  npx?: Summary;
  outputDir: string;
} {
  log(
    `\n[1/5] synth of all four environments (${PLAN.warmup} warm-up, ${PLAN.counted} counted runs; ts-node ${PLAN.stockCounted})`,
  );
  const out = (name: string) => path.join(tmp, 'synth', name);
  // After an edit the project's bundle is made again (esbuild) and compiled from scratch; the packages'
  // bundle stays. Forgetting the project's bundle in a cache of the bench's own before each run is
  // that state, without touching a source file. An empty cache is the very first run.
  const editCache = path.join(tmp, 'tsrun-cache-after-edit');
  const emptyCache = path.join(tmp, 'tsrun-cache-emptied-before-each-run');
  const commands: Command[] = [
    {
      label: 'fast path (speed/tsrun.js, esbuild)',
      argv: [NODE, 'speed/tsrun.js', 'main.ts', '--outdir', out('fast')],
      shown: 'node speed/tsrun.js main.ts --outdir <tmp>',
      cwd: ROOT,
    },
    {
      label: "fast path, first run after an edit (the project's bundle made again)",
      argv: [NODE, 'speed/tsrun.js', 'main.ts', '--outdir', out('fast-after-edit')],
      env: { LAB_TO_PROD_TSRUN_CACHE: editCache },
      prepare: () => forgetProjectBundles(editCache),
      shown:
        "LAB_TO_PROD_TSRUN_CACHE=<tmp> node speed/tsrun.js main.ts --outdir <tmp>, the project's bundle forgotten before each run",
      cwd: ROOT,
    },
    {
      label: "fast path, first run ever (tsrun's cache empty)",
      argv: [NODE, 'speed/tsrun.js', 'main.ts', '--outdir', out('fast-empty-cache')],
      env: { LAB_TO_PROD_TSRUN_CACHE: emptyCache },
      prepare: () => fs.rmSync(emptyCache, { recursive: true, force: true }),
      shown: 'LAB_TO_PROD_TSRUN_CACHE=<empty tmp> node speed/tsrun.js main.ts --outdir <tmp>',
      cwd: ROOT,
    },
    {
      label: 'tsx',
      argv: [NODE, packageBin('tsx', 'tsx'), 'main.ts', '--outdir', out('tsx')],
      shown: 'node node_modules/tsx/dist/cli.mjs main.ts --outdir <tmp>',
      cwd: ROOT,
    },
    {
      label: 'stock: ts-node (type-checks)',
      argv: [NODE, packageBin('ts-node', 'ts-node'), 'main.ts', '--outdir', out('ts-node')],
      shown: 'node node_modules/ts-node/dist/bin.js main.ts --outdir <tmp>',
      cwd: ROOT,
    },
  ];
  if (PLAN.withNpx) {
    commands.push({
      label: 'stock as typed: npx ts-node',
      argv: ['npx', 'ts-node', 'main.ts', '--outdir', out('npx-ts-node')],
      shown: 'npx ts-node main.ts --outdir <tmp>',
      cwd: ROOT,
    });
  }
  const isStock = (c: Command) => c.label.includes('ts-node');
  const series = alternate(
    commands,
    {
      warmup: PLAN.warmup,
      counted: PLAN.counted,
      warmupFor: (c) => (quick && isStock(c) ? 0 : PLAN.warmup),
      countedFor: (c) => (isStock(c) ? PLAN.stockCounted : PLAN.counted),
    },
    log,
  );
  assertSameTree(out('fast'), out('ts-node'), 'fast path vs ts-node');
  assertSameTree(out('fast'), out('tsx'), 'fast path vs tsx');
  assertSameTree(out('fast'), out('fast-after-edit'), 'fast path from the cache vs after an edit');
  assertSameTree(out('fast'), out('fast-empty-cache'), 'fast path from the cache vs with an empty cache');
  const [fast, afterEdit, emptyCacheRun, tsx, stock, npx] = series.map(timeSummary);
  return { rows: series.map(row), fast, afterEdit, emptyCache: emptyCacheRun, tsx, stock, npx, outputDir: out('fast') };
}

// 2. Peers on the same output: kubectl kustomize, and plain Node copying the bytes.
function benchPeers(rendered: string) {
  log(`\n[2/5] peers on the same output (${PLAN.warmup} warm-up, ${PLAN.counted} counted runs)`);
  const ref = path.join(tmp, 'peers', 'reference');
  fs.cpSync(rendered, ref, { recursive: true });
  const tree = writeKustomizeTree(
    path.join(tmp, 'peers', 'kustomize'),
    path.join(ref, 'lab'),
    path.join(ref, 'prod-eks'),
  );
  const kustomizeOut = path.join(tmp, 'peers', 'kustomize-prod-eks.yaml');
  const out = (name: string) => path.join(tmp, 'peers', name);
  const fastAll = (label: string, outdir: string): Command => ({
    label,
    argv: [NODE, 'speed/tsrun.js', 'main.ts', '--outdir', out(outdir)],
    shown: 'node speed/tsrun.js main.ts --outdir <tmp>',
    cwd: ROOT,
  });
  const fastOne = (label: string, outdir: string): Command => ({
    label,
    argv: [NODE, 'speed/tsrun.js', 'main.ts', '--env', 'prod-eks', '--outdir', out(outdir)],
    shown: 'node speed/tsrun.js main.ts --env prod-eks --outdir <tmp>',
    cwd: ROOT,
  });
  const nodeAlone = (label: string): Command => ({ label, argv: [NODE, '-e', '0'], shown: 'node -e 0', cwd: ROOT });
  const commands: Command[] = [
    fastAll('fast path, 4 environments', 'fast-all'),
    fastOne('fast path, prod-eks only', 'fast-one'),
    {
      label: 'kubectl kustomize, prod-eks overlay',
      argv: ['kubectl', 'kustomize', tree.overlayDir, '-o', kustomizeOut],
      shown: 'kubectl kustomize <tmp>/overlay -o <tmp>/prod-eks.yaml',
      cwd: ROOT,
    },
    {
      label: "floor: node copies the 4 environments' bytes",
      argv: [NODE, 'bench/floor.js', ref, out('floor-all')],
      shown: 'node bench/floor.js <rendered> <tmp>',
      cwd: ROOT,
    },
    {
      label: "floor: node copies prod-eks's bytes",
      argv: [NODE, 'bench/floor.js', path.join(ref, 'prod-eks'), out('floor-one')],
      shown: 'node bench/floor.js <rendered>/prod-eks <tmp>',
      cwd: ROOT,
    },
    nodeAlone('Node alone: it starts and stops, nothing run'),
  ];
  // Node 20 reads and parses the whole CA bundle at the start of every process when NODE_EXTRA_CA_CERTS
  // is set, before any code runs (nodejs/node#40524). Where the bench's environment sets it, the same
  // commands run without it too, in the same rounds, so that the report can say what it costs here.
  const unsetCaCerts = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  if (unsetCaCerts) {
    const without = { NODE_EXTRA_CA_CERTS: undefined };
    commands.push(
      { ...fastAll('fast path, 4 environments, NODE_EXTRA_CA_CERTS unset', 'fast-all-unset'), env: without },
      { ...fastOne('fast path, prod-eks only, NODE_EXTRA_CA_CERTS unset', 'fast-one-unset'), env: without },
      { ...nodeAlone('Node alone, NODE_EXTRA_CA_CERTS unset'), env: without },
    );
  }
  const series = alternate(commands, { warmup: PLAN.warmup, counted: PLAN.counted }, log);
  // The peers must produce what we produce, or the comparison means nothing.
  assertSameObjects(kustomizeOut, path.join(ref, 'prod-eks'));
  assertSameTree(ref, out('floor-all'), 'floor copy');
  const bytes = [...listTree(ref).values()].reduce((sum, b) => sum + b.length, 0);
  const [
    fastAllTime,
    fastOneTime,
    kustomize,
    floorAll,
    floorOne,
    nodeStart,
    fastAllUnset,
    fastOneUnset,
    nodeStartUnset,
  ] = series.map(timeSummary);
  if (unsetCaCerts) {
    assertSameTree(out('fast-all'), out('fast-all-unset'), 'fast path with and without NODE_EXTRA_CA_CERTS');
  }
  return {
    rows: series.map(row),
    nodeStart,
    withoutExtraCaCerts: unsetCaCerts
      ? {
          nodeStart: nodeStartUnset,
          fastAll: fastAllUnset,
          fastOne: fastOneUnset,
          ratioToKustomize: fastOneUnset.median / kustomize.median,
        }
      : undefined,
    kustomizeTree: { ...tree, baseDir: undefined, overlayDir: undefined },
    bytesAllEnvironments: bytes,
    ratioToKustomize: fastOneTime.median / kustomize.median,
    ratioToFloor: fastAllTime.median / floorAll.median,
    ratioToFloorOne: fastOneTime.median / floorOne.median,
  };
}

// 3. Scale: N copies of the web workload in the lab environment.

/**
 * Longest a single scale run may be predicted to take before the bench runs it fewer times or not at
 * all: a full run has to stay well under ten minutes, and the tests and the stock synth take five.
 */
const SCALE_RUN_BUDGET_MS = { fiveRuns: 15_000, threeRuns: 30_000, oneRun: 90_000 };

/**
 * N workloads rendered and written into a folder of the bench's own. Each run writes over the output
 * of the run before, as a synth run again writes over dist/ (files that come out the same are linked,
 * lib/synth/write-dist.ts); `intoEmptyFolder` removes that output before each run, as before a first synth.
 */
function scaleCommand(n: number, intoEmptyFolder = false): Command {
  const outdir = path.join(tmp, intoEmptyFolder ? 'scale-into-empty-folder' : 'scale', String(n));
  return {
    label: intoEmptyFolder ? `N=${n}, into an empty folder` : `N=${n}`,
    argv: [NODE, 'speed/tsrun.js', 'bench/scale/entry.ts', outdir],
    env: { BENCH_WORKLOADS: String(n) },
    ...(intoEmptyFolder ? { prepare: () => fs.rmSync(outdir, { recursive: true, force: true }) } : {}),
    shown: `BENCH_WORKLOADS=${n} node speed/tsrun.js bench/scale/entry.ts <tmp>${intoEmptyFolder ? ', the folder emptied before each run' : ''}`,
    cwd: ROOT,
  };
}

function scaleRow(n: number, s: Series): ScaleRow {
  const reports = s.runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
  const last = reports[reports.length - 1];
  return {
    workloads: n,
    objects: last.objects,
    files: last.files,
    bytes: last.bytes,
    wallMs: timeSummary(s),
    renderAndWriteMs: summarize(reports.map((r) => r.renderMs + r.writeMs)),
    startupMs: summarize(reports.map((r) => r.startupMs)),
    maxRssMiB: summarize(reports.map((r) => r.maxRssKiB / 1024)),
  };
}

function benchScale(): { rows: ScaleRow[]; notes: string[]; intoEmptyFolder?: ScaleRow } {
  log(`\n[3/5] scale: N = ${PLAN.scaleNs.join(', ')} web workloads in lab (${PLAN.scaleCounted} counted runs each)`);
  const notes: string[] = [];
  // Up to 1,000 the runs alternate, with N = 1,000 into an empty folder among them. Each run is a
  // fresh process; a warm-up run of each N leaves its output in place for the first counted run.
  const small = PLAN.scaleNs.filter((n) => n <= 1000);
  const firstWrite = small.includes(1000) ? [scaleCommand(1000, true)] : [];
  const series = alternate(
    [...small.map((n) => scaleCommand(n)), ...firstWrite],
    {
      warmup: PLAN.scaleWarmup,
      counted: PLAN.scaleCounted,
      warmupFor: (c) => (firstWrite.includes(c) ? 0 : PLAN.scaleWarmup),
    },
    log,
  );
  const rows = small.map((n, i) => scaleRow(n, series[i]));
  const intoEmptyFolder = firstWrite.length > 0 ? scaleRow(1000, series[small.length]) : undefined;
  // Larger N: predicted from how the wall time grew between the two largest measured N, so that a
  // cost growing faster than linearly is reported instead of stalling the bench for many minutes.
  for (const n of PLAN.scaleNs.filter((x) => x > 1000)) {
    const [a, b] = rows.slice(-2);
    // The exponent of render + write (start-up is a constant that would hide the growth).
    const rw = (r: ScaleRow) => r.renderAndWriteMs.median;
    const exponent = Math.max(1, Math.log(rw(b) / rw(a)) / Math.log(b.workloads / a.workloads));
    const predicted = b.startupMs.median + rw(b) * (n / b.workloads) ** exponent;
    const runs =
      predicted <= SCALE_RUN_BUDGET_MS.fiveRuns
        ? PLAN.scaleCounted
        : predicted <= SCALE_RUN_BUDGET_MS.threeRuns
          ? Math.min(3, PLAN.scaleCounted)
          : predicted <= SCALE_RUN_BUDGET_MS.oneRun
            ? 1
            : 0;
    const why =
      `predicted ${(predicted / 1000).toFixed(0)} s per run from the growth between N=${a.workloads} and N=${b.workloads} ` +
      `(render + write ∝ N^${exponent.toFixed(2)})`;
    if (runs === 0) {
      notes.push(
        `N=${n} was not run: ${why}, over the ${SCALE_RUN_BUDGET_MS.oneRun / 1000} s the bench allows one run.`,
      );
      log(`  N=${n}: skipped, ${why}`);
      continue;
    }
    if (runs < PLAN.scaleCounted) {
      notes.push(`N=${n} ran ${runs} time(s), not ${PLAN.scaleCounted}: ${why}.`);
    }
    // One warm-up run leaves the output in place, as for the smaller N, when it fits the budget.
    const warmup = runs === PLAN.scaleCounted ? Math.min(1, PLAN.scaleWarmup) : 0;
    if (warmup === 0) {
      notes.push(`N=${n}'s first run wrote into an empty folder: no warm-up run fitted the budget.`);
    }
    const [s] = alternate([scaleCommand(n)], { warmup, counted: runs }, log);
    rows.push(scaleRow(n, s));
  }
  return { rows, notes, intoEmptyFolder };
}

// 4. The unit test command: each step of `npm run test:unit` (`a && b && c`), timed on its own.

/** The steps of the package's test script, `npm run x` resolved to x's script, run as npm would (node_modules/.bin first on PATH). */
function testSteps(testScript: string, scripts: Record<string, string>): Command[] {
  return testScript
    .split('&&')
    .map((step) => step.trim())
    .filter((step) => step !== '')
    .map((step) => {
      const npmRun = /^npm run ([\w:.-]+)(.*)$/.exec(step);
      const script = npmRun ? `${scripts[npmRun[1]]}${npmRun[2]}` : step;
      return {
        label: step,
        argv: ['sh', '-c', script],
        env: { PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
        shown: script === step ? step : `${step} → ${script}`,
        cwd: ROOT,
        allowFailure: true,
      };
    });
}

function benchTests() {
  log(`\n[4/5] tests (${PLAN.testWarmup} warm-up, ${PLAN.testCounted} counted runs)`);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  // The unit test command: `npm test` is it followed by the cluster tests, which build and run a
  // control plane (minutes) and are measured in docs/cluster-tests.md, not here.
  const unitTestScript: string = pkg.scripts?.['test:unit'] ?? '';
  const steps = testSteps(unitTestScript, pkg.scripts ?? {});
  // The type check is incremental (its state is in node_modules/.cache), so it gets a warm-up too.
  const series = alternate(steps, { warmup: PLAN.testWarmup, counted: PLAN.testCounted }, log);
  const jest = series.find((x) => /\bjest\b/.test(x.command.argv[2]));
  const lastJest = jest?.runs[jest.runs.length - 1]?.stderr ?? '';
  const jestConfig = path.join(ROOT, 'jest.config.js');
  return {
    rows: series.map(row),
    jestTests: /Tests:\s+(.*)/.exec(lastJest)?.[1] ?? 'no summary line',
    jestSuites: /Test Suites:\s+(.*)/.exec(lastJest)?.[1] ?? 'no summary line',
    jestIgnores: fs.existsSync(jestConfig)
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's own config is a CommonJS file, loaded as jest loads it
        ((require(jestConfig).testPathIgnorePatterns ?? []) as string[])
      : [],
    stepExitCodes: series.map((x) => ({ step: x.command.label, exitCodes: x.runs.map((r) => r.exitCode) })),
    npmTestScript: unitTestScript,
    // npm runs the steps one after the other.
    npmTestMedianMs: series.reduce((sum, x) => sum + timeSummary(x).median, 0),
    typecheckIncluded: series.some((x) => /\btsc\b/.test(x.command.argv[2])),
  };
}

// 5. The guardrail checks' share of synth time.
function benchChecks(fastSynthMedianMs: number): ChecksResult {
  log(`\n[5/5] guardrail checks' share (${PLAN.checksRuns} processes, ${PLAN.checksIterations} iterations each)`);
  if (!fs.existsSync(path.join(ROOT, 'lib', 'policy', 'index.ts'))) {
    return { measured: false, why: 'lib/policy/index.ts (checkManifests) does not exist yet' };
  }
  const command: Command = {
    label: 'render 4 environments, then checkManifests()',
    argv: [NODE, 'speed/tsrun.js', 'bench/checks/entry.ts', String(PLAN.checksIterations)],
    shown: `node speed/tsrun.js bench/checks/entry.ts ${PLAN.checksIterations}`,
    cwd: ROOT,
    allowFailure: true,
  };
  const [series] = alternate([command], { warmup: PLAN.warmup, counted: PLAN.checksRuns }, log);
  const failed = series.runs.find((r) => r.exitCode !== 0);
  if (failed) {
    return {
      measured: false,
      why: `the checks did not run: ${failed.stderr.trim().split('\n').slice(0, 3).join(' ')}`,
    };
  }
  const reports = series.runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
  const coldRender = summarize(reports.map((r) => r.renderMs[0]));
  const coldChecks = summarize(reports.map((r) => r.checksMs[0]));
  const warm = reports.filter((r) => r.renderMs.length > 1);
  const warmRender = warm.length > 0 ? summarize(warm.flatMap((r) => r.renderMs.slice(1))) : undefined;
  const warmChecks = warm.length > 0 ? summarize(warm.flatMap((r) => r.checksMs.slice(1))) : undefined;
  return {
    measured: true,
    objects: reports[0].objects,
    findings: reports[0].findings,
    coldRenderMs: coldRender,
    coldChecksMs: coldChecks,
    warmRenderMs: warmRender,
    warmChecksMs: warmChecks,
    coldShare: coldChecks.median / (coldRender.median + coldChecks.median),
    warmShare: warmRender && warmChecks ? warmChecks.median / (warmRender.median + warmChecks.median) : undefined,
    shareOfFastSynth: coldChecks.median / fastSynthMedianMs,
  };
}

function closingLine(r: BenchResults): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
  const x = (v: number) => `${v.toFixed(1)}x`;
  const thousand = r.scale.find((row) => row.workloads === 1000);
  const checks = r.checks.measured ? `checks ${(r.checks.coldShare * 100).toFixed(0)}%` : 'checks not measured';
  return (
    `bench: synth ${s(r.synth.fast.median)} median (stock ${s(r.synth.stock.median)}, ${x(r.synth.stock.median / r.synth.fast.median)}; ` +
    `tsx ${x(r.synth.tsx.median / r.synth.fast.median)}) · kustomize ${x(r.peers.ratioToKustomize)} · floor ${x(r.peers.ratioToFloor)} · ` +
    (thousand
      ? `1000 workloads ${s(thousand.wallMs.median)}${r.scaleIntoEmptyFolder ? ` (into an empty folder ${s(r.scaleIntoEmptyFolder.wallMs.median)})` : ''} ${Math.round(thousand.maxRssMiB.median)}MiB · `
      : '') +
    `per-workload ratio ${r.perWorkloadRatio === undefined ? 'n/a' : `${r.perWorkloadRatio.toFixed(2)} (${r.perWorkloadRatioOf.replace(' vs ', '/')})`} · ` +
    (r.tests
      ? `tests ${s(r.tests.npmTestMedianMs)}${r.tests.typecheckIncluded ? '' : ' (without typecheck)'}`
      : 'tests not run (quick)') +
    ` · ${checks}` +
    (r.fleet
      ? ` · fleet of ${r.fleet.rows[r.fleet.rows.length - 1].environments} ${s(r.fleet.rows[r.fleet.rows.length - 1].wallMs.median)}, ${r.fleet.linear ? 'linear' : 'not linear'}`
      : '')
  );
}

function main(): void {
  log(`lab-to-prod bench${quick ? ' (quick)' : ''}: scratch output in a temporary folder`);
  const synth = benchSynth();
  const peers = benchPeers(synth.outputDir);
  const { rows: scale, notes: scaleNotes, intoEmptyFolder: scaleIntoEmptyFolder } = benchScale();
  const tests = PLAN.runTests ? benchTests() : undefined;
  if (!tests) {
    log('\n[4/5] tests: not run in quick mode');
  }
  const checks = benchChecks(synth.fast.median);
  const fleet = benchFleet(tmp, NODE, { warmup: PLAN.fleetWarmup, counted: PLAN.fleetCounted }, log);

  const per = (n: number) => {
    const r = scale.find((row) => row.workloads === n);
    return r ? r.renderAndWriteMs.median / n : undefined;
  };
  const largest = scale[scale.length - 1].workloads;
  const perLargest = per(largest);
  const per100 = per(100);
  const results: BenchResults = {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    durationS: 0,
    loadAverage: { atStart: 0, atEnd: 0 },
    source: sourceVersion(),
    machine: machine(),
    plan: PLAN,
    synth: {
      rows: synth.rows,
      fast: synth.fast,
      afterEdit: synth.afterEdit,
      emptyCache: synth.emptyCache,
      stock: synth.stock,
      tsx: synth.tsx,
      npx: synth.npx,
    },
    peers,
    scale,
    scaleIntoEmptyFolder,
    scaleNotes,
    perWorkloadRatio: perLargest !== undefined && per100 !== undefined ? perLargest / per100 : undefined,
    perWorkloadRatioOf: `${largest} vs 100`,
    tests,
    checks,
    fleet,
  };
  results.durationS = Math.round((Date.now() - started) / 1000);
  results.loadAverage = { atStart: Number(loadAtStart.toFixed(2)), atEnd: Number(os.loadavg()[0].toFixed(2)) };
  const others = othersShare(
    processesAtStart,
    processTimes(),
    process.pid,
    (Date.now() - started) / 1000,
    os.cpus().length,
  );
  const steal = stealShare(stealAtStart, stealTicks(), (Date.now() - started) / 1000, os.cpus().length);
  const rounded = (share: CpuShare) => ({
    cpuSeconds: Number(share.cpuSeconds.toFixed(1)),
    shareOfMachine: Number(share.shareOfMachine.toFixed(3)),
  });
  results.others = others && rounded(others);
  results.steal = steal && rounded(steal);
  const line = closingLine(results);
  const busy = tooBusy(others);
  // The host's other guests count as much as this machine's other programs: both take the CPUs.
  const hostBusy = tooBusy(steal);

  if (!quick && (busy || hostBusy)) {
    process.exitCode = 1;
    const why = [
      others && busy
        ? `other processes took ${(others.shareOfMachine * 100).toFixed(1)}% of the machine during the run (${others.cpuSeconds.toFixed(0)} CPU seconds)`
        : '',
      steal && hostBusy
        ? `the hypervisor gave ${(steal.shareOfMachine * 100).toFixed(1)}% of this machine's CPU time to other guests (steal, ${steal.cpuSeconds.toFixed(0)} CPU seconds)`
        : '',
    ]
      .filter((x) => x !== '')
      .join(', and ');
    log(
      `\nBENCHMARKS.md not written: ${why}; more than ${BUSY_SHARE * 100}% inflates the figures. Rerun when the machine is quiet.`,
    );
  } else if (!quick) {
    writeReport(results);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`\n${line}`);
  log(
    `(${results.mode} run: ${results.durationS} s; load average ${results.loadAverage.atStart} at the start, ${results.loadAverage.atEnd} at the end, on ${results.machine.cpus} CPUs; ` +
      `${others ? `other processes took ${(others.shareOfMachine * 100).toFixed(1)}% of the machine${busy ? ': busy, the figures are inflated' : ''}` : 'what other processes took is not known here'}` +
      `${steal ? `; steal ${(steal.shareOfMachine * 100).toFixed(1)}%${hostBusy ? ': the host was busy, the figures are inflated' : ''}` : ''})`,
  );
}

const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

function writeReport(results: BenchResults): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, 'scale.svg'), scaleChart(results.scale));
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), writeBenchmarksMd(results, closingLine(results)));
  log('\nwrote BENCHMARKS.md, bench/results/results.json, bench/results/scale.svg');
}

function scaleChart(scale: readonly ScaleRow[]): string {
  const sec = (s: Summary) => ({ median: s.median / 1000, min: s.min / 1000, max: s.max / 1000 });
  return scaleChartSvg(
    [
      {
        title: 'Time against workloads (lab)',
        yLabel: 'seconds',
        target: { value: 2, label: 'target: 1,000 workloads in 2 s' },
        series: [
          {
            label: 'wall time of the process',
            color: '#1f5fa8',
            points: scale.map((r) => ({ n: r.workloads, ...sec(r.wallMs) })),
          },
          {
            label: 'render + write (in process)',
            color: '#e08214',
            points: scale.map((r) => ({ n: r.workloads, ...sec(r.renderAndWriteMs) })),
          },
        ],
      },
      {
        title: 'Peak memory against workloads (lab)',
        yLabel: 'MiB (max RSS)',
        target: { value: 1024, label: 'target: 1 GiB' },
        series: [
          {
            label: 'peak resident memory',
            color: '#2a8a3e',
            points: scale.map((r) => ({
              n: r.workloads,
              median: r.maxRssMiB.median,
              min: r.maxRssMiB.min,
              max: r.maxRssMiB.max,
            })),
          },
        ],
      },
    ],
    'lab-to-prod npm run bench: N copies of the web workload rendered through lib/synth/render.ts; dots are medians, bars min-max',
  );
}

/** `--fleet-only`: the fleet step alone, its figures printed, nothing written in the repository. */
function fleetOnly(): void {
  log(`lab-to-prod bench, fleet step only: scratch output in a temporary folder`);
  const counted = quick ? 1 : 3;
  const fleet = benchFleet(tmp, NODE, { warmup: 1, counted }, log);
  const others = othersShare(
    processesAtStart,
    processTimes(),
    process.pid,
    (Date.now() - started) / 1000,
    os.cpus().length,
  );
  const steal = stealShare(stealAtStart, stealTicks(), (Date.now() - started) / 1000, os.cpus().length);
  fs.rmSync(tmp, { recursive: true, force: true });
  log('');
  for (const line of fleetSummary(fleet)) log(line);
  const busy = [
    others && tooBusy(others) ? `other processes took ${(others.shareOfMachine * 100).toFixed(1)}% of the machine` : '',
    steal && tooBusy(steal) ? `steal took ${(steal.shareOfMachine * 100).toFixed(1)}% of its CPU time` : '',
  ].filter((x) => x !== '');
  log(
    `\nbench --fleet-only: ${fleetVerdict(fleet).replace(/\*\*/g, '')} (${Math.round((Date.now() - started) / 1000)} s; ` +
      `load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end, on ${os.cpus().length} CPUs; ` +
      `${busy.length > 0 ? `busy: ${busy.join(', and ')}, the figures are inflated` : others ? 'the machine was quiet' : 'what other processes took is not known here'})`,
  );
}

try {
  if (flags['fleet-only']) {
    fleetOnly();
  } else if (flags['report-only']) {
    fs.rmSync(tmp, { recursive: true, force: true });
    writeReport(JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'results.json'), 'utf8')));
  } else {
    main();
  }
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  console.error(`scratch output kept for inspection in ${tmp}`);
  process.exitCode = 1;
}
