/** Writes BENCHMARKS.md from a full run's results: every figure in it comes from that run. */
import { fleetMarkdown } from './fleet';
import { tooBusy } from './machine-load';
import { Summary } from './measure';
import { BenchResults, TimedRow } from './results';

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ms = (v: number) => `${Math.round(v)} ms`;
const range = (x: Summary) => `${(x.min / 1000).toFixed(2)}–${(x.max / 1000).toFixed(2)} s`;
const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
const ratio = (v: number) => `${v.toFixed(1)}×`;
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

function timedTable(rows: readonly TimedRow[], baseline?: number, baselineName?: string): string[] {
  const head = `| command | median | min–max | runs | peak memory (median) |${baseline ? ` time / ${baselineName} |` : ''}`;
  const rule = `|---|---:|---:|---:|---:|${baseline ? '---:|' : ''}`;
  return [
    head,
    rule,
    ...rows.map(
      (r) =>
        `| ${r.label}<br>\`${r.shown}\` | ${s(r.time.median)} | ${range(r.time)} | ${r.time.n} | ` +
        `${r.maxRssKiB ? mib(r.maxRssKiB.median) : '–'} |${baseline ? ` ${ratio(r.time.median / baseline)} |` : ''}`,
    ),
  ];
}

export function writeBenchmarksMd(r: BenchResults, closingLine: string): string {
  const tests = r.tests;
  if (!tests) {
    throw new Error('BENCHMARKS.md is written from a full run, and a full run times the tests');
  }
  const m = r.machine;
  const fast = r.synth.fast.median;
  const stockX = r.synth.stock.median / fast;
  const thousand = r.scale.find((row) => row.workloads === 1000);
  const checks = r.checks;
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push('How fast `npm run synth` renders the four environments compared with the stock cdk8s app command');
  L.push('(`npx ts-node main.ts`) and with tools that only template YAML, and how its cost grows with the number');
  L.push('of workloads. Everything below, this file included, is written by `npm run bench` (a full run, about');
  L.push(
    `${Math.round(r.durationS / 60)} minutes here); \`npm run bench -- --quick\` measures less (fewer runs, N up to 1,000, ts-node once,`,
  );
  L.push(
    'the unit tests left out), takes under a minute on this machine when it is idle, prints the same closing line',
  );
  L.push('and how long it took, and writes nothing. `npm run bench -- --report-only` rewrites');
  L.push('this file and the chart from bench/results/results.json. Rerun it on your machine: the figures are this');
  L.push("machine's, on this day's code.");
  L.push('');
  L.push(
    `Run: ${r.date}, ${r.mode} mode, ${r.durationS} s in all, on ${r.source}. Raw figures: [bench/results/results.json](bench/results/results.json).`,
  );
  // The load average at the end counts the bench's own last commands; what others took is the measure
  // (a busy full run is not published, bench/lib/machine-load.ts). Older results have only the load.
  const busy = r.others ? tooBusy(r.others) : Math.max(r.loadAverage.atStart, r.loadAverage.atEnd) > m.cpus;
  L.push(
    `Load average (1 min) ${r.loadAverage.atStart} at the start and ${r.loadAverage.atEnd} at the end, on ${m.cpus} CPUs` +
      (r.others
        ? `; other processes took ${r.others.cpuSeconds} CPU seconds, ${(r.others.shareOfMachine * 100).toFixed(1)}% of the machine over the run`
        : '') +
      `${busy ? ': **other work was competing for the CPUs during this run, so every time here is inflated**' : ''}` +
      (r.steal
        ? `; the hypervisor gave ${r.steal.cpuSeconds} CPU seconds of this machine's to other guests (steal), ${(r.steal.shareOfMachine * 100).toFixed(1)}%` +
          `${tooBusy(r.steal) ? ': **the host was busy, so every time here is inflated**' : ''}`
        : '') +
      '.',
  );
  L.push('');
  L.push('```');
  L.push(closingLine);
  L.push('```');
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| target | measured | |');
  L.push('|---|---|---|');
  L.push(`| synth of all four environments: median ≤ 0.40 s | ${s(fast)} | ${met(fast <= 400)} |`);
  L.push(
    `| one environment (prod-eks) no slower than \`kubectl kustomize\` on the equivalent overlay | ${ratio(r.peers.ratioToKustomize)} kustomize's time | ${met(r.peers.ratioToKustomize <= 1)} |`,
  );
  L.push(`| ≥ 5× faster than the stock \`ts-node main.ts\` | ${ratio(stockX)} | ${met(stockX >= 5)} |`);
  if (thousand) {
    L.push(
      `| 1,000 workloads in ≤ 2 s (wall time of the process) | ${s(thousand.wallMs.median)} | ${met(thousand.wallMs.median <= 2000)} |`,
    );
    L.push(
      `| 1,000 workloads in ≤ 1 GiB | ${Math.round(thousand.maxRssMiB.median)} MiB | ${met(thousand.maxRssMiB.median <= 1024)} |`,
    );
  }
  if (r.scaleIntoEmptyFolder) {
    const first = r.scaleIntoEmptyFolder.wallMs.median;
    L.push(
      `| 1,000 workloads into an empty folder (a first synth, every file written) in ≤ 2 s | ${s(first)} | ${met(first <= 2000)} |`,
    );
  }
  if (r.perWorkloadRatio !== undefined) {
    const reached5000 = r.scale.some((row) => row.workloads === 5000);
    const flat = reached5000 && r.perWorkloadRatio <= 1.25;
    L.push(
      `| time per workload roughly constant from 100 to 5,000 (ratio ≤ 1.25) | ${r.perWorkloadRatio.toFixed(2)} (${r.perWorkloadRatioOf})` +
        `${reached5000 ? '' : '; N=5,000 not run, see section 3'} | ${met(flat)} |`,
    );
  }
  const testsOk = tests.npmTestMedianMs <= 30000;
  L.push(`| unit tests (\`npm run test:unit\`, every step) ≤ 30 s | ${s(tests.npmTestMedianMs)} | ${met(testsOk)} |`);
  if (checks.measured) {
    L.push(`| guardrail checks ≤ 20% of synth time | ${pct(checks.coldShare)} | ${met(checks.coldShare <= 0.2)} |`);
  } else {
    L.push(`| guardrail checks ≤ 20% of synth time | not measured: ${checks.why} | – |`);
  }
  const unset = r.peers.withoutExtraCaCerts;
  if (unset && r.peers.nodeStart) {
    L.push('');
    L.push("This machine's environment sets `NODE_EXTRA_CA_CERTS`. With it set, Node 20 reads and parses the whole CA");
    L.push('bundle when any process starts, before its first line of code runs');
    L.push('([nodejs/node#40524](https://github.com/nodejs/node/issues/40524)): `node -e 0` took');
    L.push(
      `${ms(r.peers.nodeStart.median)} with it and ${ms(unset.nodeStart.median)} without, in the same rounds (section 2). The figures above are`,
    );
    L.push('with it, as the environment is. Without it, in the same run: four environments');
    L.push(
      `${s(unset.fastAll.median)}, prod-eks ${ratio(unset.ratioToKustomize)} kustomize's time. No command measured here opens a TLS connection;`,
    );
    L.push('kubectl, a Go program, does not read the variable.');
  }
  L.push('');
  L.push('## Machine and versions');
  L.push('');
  L.push(`- ${m.cpus} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memoryGiB} GiB memory, ${m.os}`);
  L.push(`- Node ${m.node}, npm ${m.npm}; kubectl: ${m.kubectl}`);
  L.push(
    `- ${Object.entries(m.packages)
      .map(([p, v]) => `${p} ${v}`)
      .join(', ')}`,
  );
  L.push('');
  L.push('## Method');
  L.push('');
  L.push('- Every command runs as a child process and is timed from spawn to exit. Commands of one table run');
  L.push('  alternately (round 1: A, B, C; round 2: A, B, C; …) so that a slow moment of the machine hits all of');
  L.push('  them alike, after a warm-up round that is not counted. Tables give the median and min–max.');
  L.push('- Peak memory comes from `/usr/bin/time` (the largest process the command ran) or, for the scale runs,');
  L.push('  `process.resourceUsage().maxRSS` inside the process.');
  L.push('- Output goes to a temporary folder, never to dist/, one per command, which each run writes over as a synth');
  L.push(
    '  run again writes over dist/ (a file that comes out the same is linked, not written again: lib/synth/write-dist.ts).',
  );
  L.push(
    '  Section 3 also times a first synth, into an empty folder. The run checks that what it compares is the same:',
  );
  L.push('  the fast path, ts-node and tsx write byte-identical folders; the kustomize overlay gives exactly');
  L.push("  prod-eks's objects; the floor's copy equals its source. A mismatch fails the benchmark.");
  L.push("- Before each timed run, what earlier runs wrote is flushed to disk (`sync`, untimed), so that one run's");
  L.push('  writes do not land in the middle of the next.');
  L.push('- Timing is never a test assertion: the targets are checked here, not in jest.');
  L.push('');
  L.push('## 1. Synth of all four environments from the TypeScript sources');
  L.push('');
  L.push('Same code, same output; only the way the TypeScript is run differs. The stock command is the `app:`');
  L.push('that `cdk8s init typescript-app` writes (`npx ts-node main.ts`), measured as it is: ts-node type-checks');
  L.push("the program with tsconfig.json on every run. It also runs without npx, to separate npx's own start-up.");
  L.push('tsx, like our fast path, only strips types.');
  L.push('');
  L.push(...timedTable(r.synth.rows, fast, 'fast path'));
  L.push('');
  L.push(
    `Fast path: ${s(fast)} median, ${ratio(stockX)} faster than ts-node and ${ratio(r.synth.tsx.median / fast)} faster than tsx.`,
  );
  if (r.synth.afterEdit) {
    L.push(
      "The fast path reuses two bundles while nothing they were made from changed (speed/tsrun.js): the project's files, and",
    );
    L.push(
      "the packages they import, each with V8's code cache of it. The warm-up round fills the cache for the first row, as",
    );
    L.push(
      `any earlier run of the synth does. After an edit only the project's bundle is made again: ${s(r.synth.afterEdit.median)}`,
    );
    L.push(
      `(${ratio(r.synth.afterEdit.median / fast)} the cached run)${r.synth.emptyCache ? `; the very first run, with an empty cache, takes ${s(r.synth.emptyCache.median)}` : ''}.`,
    );
  }
  if (r.synth.npx) {
    L.push(
      `Through npx, as people type it, ts-node takes ${s(r.synth.npx.median)} (${ratio(r.synth.npx.median / fast)} the fast path); npx itself adds ` +
        `about ${s(r.synth.npx.median - r.synth.stock.median)}.`,
    );
  }
  L.push('');
  L.push('## 2. Peers on the same output');
  L.push('');
  const t = r.peers.kustomizeTree as any;
  L.push("**kubectl kustomize**: a base holding lab's rendered objects and an overlay that turns them into");
  L.push(
    `prod-eks's, generated from our own output (${t.baseObjects} base objects; ${t.patchedObjects} JSON 6902 patches with ${t.patchOps}`,
  );
  L.push(
    `operations, ${t.addedObjects} objects added, ${t.deletedObjects} deleted) and checked to give exactly prod-eks's objects. It renders one`,
  );
  L.push('environment, so it is compared with our synth of prod-eks alone. **The floor**: plain Node reading the');
  L.push(
    `rendered files and writing the same bytes (${Math.round(r.peers.bytesAllEnvironments / 1024)} KiB for the four environments), nothing computed in between.`,
  );
  L.push('');
  L.push(...timedTable(r.peers.rows));
  L.push('');
  L.push(
    `- Our synth of prod-eks takes ${ratio(r.peers.ratioToKustomize)} the time of \`kubectl kustomize\` on the equivalent tree.`,
  );
  L.push(
    `- Our synth of all four environments takes ${ratio(r.peers.ratioToFloor)} the floor's time for the same bytes`,
  );
  L.push(
    `  (prod-eks alone: ${ratio(r.peers.ratioToFloorOne)}). Most of the floor is Node's own start-up` +
      (r.peers.nodeStart ? `: Node alone, starting and stopping, takes ${ms(r.peers.nodeStart.median)}.` : '.'),
  );
  L.push('');
  L.push('## 3. Scale: N copies of the web workload');
  L.push('');
  L.push(
    'A generated app (bench/scale/app.ts) builds the lab chart as lib/synth/app.ts does, with the real constructs:',
  );
  L.push(
    "`new Platform(chart, 'platform', { env, appNamespaces })` and `new Web(chart, 'web-<i>', { env, name: 'web-<i>' })`",
  );
  L.push(
    "for i < N. It is rendered by lib/synth/render.ts's `renderChart` (what `renderEnvironment` calls on lib/synth/app.ts's chart)",
  );
  L.push('and written by `writeDistAtomically`, through the same esbuild fast path, in a fresh process per run.');
  L.push('');
  L.push(
    '| N | objects | files | bytes written | runs | wall time, median (min–max) | render + write, in process | per workload | peak memory (median, max) |',
  );
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.scale) {
    L.push(
      `| ${row.workloads} | ${row.objects} | ${row.files} | ${(row.bytes / 2 ** 20).toFixed(1)} MiB | ${row.wallMs.n} | ${s(row.wallMs.median)} (${range(row.wallMs)}) ` +
        `| ${s(row.renderAndWriteMs.median)} | ${(row.renderAndWriteMs.median / row.workloads).toFixed(1)} ms | ` +
        `${Math.round(row.maxRssMiB.median)} MiB, ${Math.round(row.maxRssMiB.max)} MiB |`,
    );
  }
  L.push('');
  if (r.scaleIntoEmptyFolder) {
    const e = r.scaleIntoEmptyFolder;
    L.push(
      `Each run above writes over the output of the run before, as a synth run again does. Into an empty folder, as the first synth,` +
        ` N = 1,000 takes ${s(e.wallMs.median)} (${range(e.wallMs)}, ${e.wallMs.n} runs; render + write ${s(e.renderAndWriteMs.median)}),` +
        ` every one of its ${e.files} files written.` +
        " The difference is the files' creation: on this machine's disk creating a file takes 0.5 to 0.8 ms (`openat`" +
        ' with O_CREAT, 735 µs a call under `strace -c`; 1,000 files of 13 KB created one after another in 0.67 to' +
        ' 0.94 s, 16 at a time in 1.1 s), where writing the same bytes into files that exist takes 60 to 140 ms for all' +
        ' 1,000 and linking them 20 ms.',
    );
    L.push('');
  }
  L.push('![Time and peak memory against the number of workloads](bench/results/scale.svg)');
  L.push('');
  for (const note of r.scaleNotes) {
    L.push(`- **${note}**`);
  }
  if (r.scaleNotes.length > 0) {
    L.push('');
  }
  if (r.perWorkloadRatio !== undefined) {
    L.push(
      `Per-workload time (render + write, in process), ${r.perWorkloadRatioOf}: ratio ${r.perWorkloadRatio.toFixed(2)}. ` +
        'A ratio near 1 means the cost grows linearly with N; below 1, the small run pays a fixed cost (code not yet ' +
        'optimised by the JIT) that the large run spreads; well above 1, something grows faster than N.',
    );
    const steps = r.scale.slice(1).map((row, i) => {
      const prev = r.scale[i];
      const k =
        Math.log(row.renderAndWriteMs.median / prev.renderAndWriteMs.median) / Math.log(row.workloads / prev.workloads);
      return `${prev.workloads} → ${row.workloads}: N^${k.toFixed(2)}`;
    });
    L.push(`Growth of render + write between successive N: ${steps.join('; ')}.`);
  }
  L.push('');
  L.push('## 4. Tests');
  L.push('');
  L.push(
    `The unit test command, \`npm run test:unit\`, is \`${tests.npmTestScript}\` (\`npm test\` runs it, then the cluster tests).`,
  );
  L.push(
    'Each step runs here on its own, as npm runs it (node_modules/.bin first on PATH), the steps alternating; the',
  );
  L.push("unit test figure is the sum of their medians (npm's own start-up");
  L.push(
    `not included). jest runs every \`*.test.ts\` except what jest.config.js ignores (${tests.jestIgnores.map((i) => `\`${i}\``).join(', ')}):`,
  );
  L.push('the control-plane tests under test/cluster/ are their own command and are not timed here.');
  L.push('');
  L.push(...timedTable(tests.rows));
  L.push('');
  L.push(`jest: ${tests.jestSuites} suites; ${tests.jestTests} tests.`);
  for (const { step, exitCodes } of tests.stepExitCodes.filter((x) => x.exitCodes.some((c) => c !== 0))) {
    L.push(
      `**\`${step}\` exited ${exitCodes.join(', ')}: it was failing at the time of the run** (its time is still what it took).`,
    );
  }
  L.push('');
  L.push("## 5. The guardrail checks' share of synth time");
  L.push('');
  if (checks.measured) {
    L.push("bench/checks/entry.ts renders the four environments with `renderEnvironment` and then runs lib/policy's");
    L.push('`checkManifests()` over every object, in one process, several times. The first iteration is what one');
    L.push('synth pays (schemas compiled, nothing optimised yet); later ones are the steady state.');
    L.push('');
    L.push("| | render 4 environments | checkManifests | checks' share |");
    L.push('|---|---:|---:|---:|');
    L.push(
      `| first iteration (one synth), median of ${checks.coldRenderMs.n} processes | ${checks.coldRenderMs.median.toFixed(0)} ms | ${checks.coldChecksMs.median.toFixed(0)} ms | ${pct(checks.coldShare)} |`,
    );
    if (checks.warmRenderMs && checks.warmChecksMs && checks.warmShare !== undefined) {
      L.push(
        `| later iterations, median of ${checks.warmRenderMs.n} | ${checks.warmRenderMs.median.toFixed(0)} ms | ${checks.warmChecksMs.median.toFixed(0)} ms | ${pct(checks.warmShare)} |`,
      );
    }
    L.push('');
    L.push(
      `${checks.objects} objects checked, ${checks.findings} findings. Against the whole fast-path synth (${s(fast)}, process start`,
    );
    L.push(`to exit), one run of the checks is ${pct(checks.shareOfFastSynth)}.`);
  } else {
    L.push(`Not measured: ${checks.why}. The measurement (bench/checks/entry.ts) runs as soon as it is there.`);
  }
  L.push('');
  if (r.fleet) {
    L.push(...fleetMarkdown(r.fleet, '## 6. A fleet: environments of one file each'));
    L.push('');
  }
  L.push('## Where the time goes');
  L.push('');
  L.push(
    'CPU profiles (`node --cpu-prof speed/tsrun.js main.ts --outdir <tmp>`) and side-by-side runs taken on 2026-11-29',
  );
  L.push('while other builds kept the load average between 5 and 14 on the 2 CPUs: the shares and the differences');
  L.push('hold, the absolute milliseconds are inflated. Rerun them after a change to see whether they still hold.');
  L.push('');
  L.push('Before (commit ec7c4c2, 0.84 s in the last full run): of one synth of the four environments about 250 ms');
  L.push("were esbuild bundling every TypeScript file again, 110 ms js-yaml, 100 ms Node's module loader, 45 ms");
  L.push('Node registering the inline source map. What each step bought, in CPU seconds of the whole process');
  L.push('(user + system, the lowest of 7 alternating runs, 3 for N = 1,000, all steps in one session at a load');
  L.push("average near 5; each step's commit run from its own copy of the tree):");
  L.push('');
  L.push('| step (commit) | 4 environments | prod-eks alone | 1,000 workloads |');
  L.push('|---|---:|---:|---:|');
  L.push('| before (ec7c4c2) | 0.72 s | 0.56 s | 4.52 s |');
  L.push(
    "| speed/tsrun.js reuses the bundle while its inputs are unchanged, with V8's code cache of it; the source map is read only for a stack trace (32f2b02) | 0.58 s (−0.14) | 0.42 s (−0.14) | 4.69 s |",
  );
  L.push(
    '| lib/k8s/yaml-output.ts lays out mappings and sequences itself and asks js-yaml once per distinct scalar (78d037a) | 0.54 s (−0.04) | 0.41 s (−0.01) | 3.51 s |',
  );
  L.push('| it remembers how each key and string is written (2664574) | 0.51 s (−0.03) | 0.40 s (−0.01) | 3.46 s |');
  L.push(
    '| image references, whole numbers and booleans without js-yaml; write-dist makes each folder once (8a983ed) | 0.50 s (−0.01) | 0.38 s (−0.02) | 3.42 s |',
  );
  L.push(
    "| speed/tsrun.js bundles the packages too: one script with one code cache instead of ~150 modules through Node's loader (1b58f4b) | 0.38 s (−0.12) | 0.25 s (−0.13) | 3.23 s |",
  );
  L.push('');
  L.push(
    'Wall time, median of the same runs: 1.14 s → 0.46 s for the four environments, 0.79 s → 0.28 s for prod-eks.',
  );
  L.push(
    'The packages then got a bundle of their own (5663aef), so that an edit to a project file bundles only the project',
  );
  L.push('again (section 1 has the first run after an edit); the cached run is the same.');
  L.push('At N = 1,000 the runs spread too widely on the busy machine to split the gain between the steps; the whole');
  L.push(
    'change took the lowest CPU time from 4.52 s to 3.23 s. The V8 code cache of the bundle alone was worth about',
  );
  L.push('0.03 s. A code cache for each package module loaded by Node (before packages were bundled) bought nothing');
  L.push('measurable, and neither did a larger young generation (`--max-semi-space-size`) or turning off the');
  L.push('optimising compiler: they were left out.');
  L.push('');
  L.push(
    "After those steps, a cached run of the four environments (about 0.55 s under the profiler): Node's own start about 15%;",
  );
  L.push("tsrun's check of its cache (the identity of the 230 or so files the bundle was made from, the listings of");
  L.push("their folders) and reading the bundle about 5%; running the bundle's top level (the package modules,");
  L.push("cdk8s-plus-28's 1,000 or so generated classes above all) about 13%; building the constructs 12%; rendering");
  L.push("them (cdk8s's `toJson`/`resolve`) 17%; the guardrail checks 12%; YAML 9%; the README of each environment");
  L.push('8%; writing the files and removing the previous folder 5%.');
  L.push('');
  L.push('Scale run, N = 1,000, before 638a666 (profile at a load average below 1): the README (lib/review) took 43%');
  L.push('of the process, and grew with the square of N: its access table filtered every RoleBinding once per');
  L.push('(namespace, role) cell (23% alone), the diagram filtered every node once per namespace, the tables sorted');
  L.push("every object by a label made again at each comparison, and PeopleAccess joined every namespace's name once");
  L.push('per namespace. Each is now one pass (638a666; quantities parsed once per text and diagram ids made once per');
  L.push('node, a3937ec), tested against the code it replaced (lib/review/indexed.test.ts). In CPU seconds (user +');
  L.push('system; runs alternating between copies of each commit, at a load average of 7 to 8): N = 1,000 4.66 s →');
  L.push('3.33 s → 3.30 s; N = 5,000 86.4 s → 13.8 s (one run each), so the cost per workload is again flat from');
  L.push(
    '1,000 to 5,000. Wall time of N = 1,000 at a load average near 1: 3.2–4.1 s before, 2.55–2.81 s after 638a666.',
  );
  L.push('');
  L.push(
    "Then (profile of a3937ec, load average near 8, so shares only) N = 1,000 spent about 37% in cdk8s's `toJson`",
  );
  L.push("(resolve, sanitize and cdk8s-plus-28's generated mappings, about 55 µs for each of the 15,013 objects),");
  L.push('building the constructs 15%, garbage collection 14%, the README 15%, YAML 10%, writing the 1,007 files 3%,');
  L.push("the start 4%; a profile at a load average near 1 put the README's diagram alone at 10% and the removal of");
  L.push(
    'the previous output (1,000 files, on a disk mounted with `discard`) at up to 7%. The next steps, each commit run',
  );
  L.push(
    'from its own copy of the tree, alternating, in one session (load average near 1.5; `sync` before each run; wall',
  );
  L.push('time median and lowest CPU time, user + system, of 9 runs, 7 for N = 1,000):');
  L.push('');
  L.push('| step (commit) | 4 environments | prod-eks alone | 1,000 workloads |');
  L.push('|---|---:|---:|---:|');
  L.push('| before (3f8ece2) | 0.44 s, CPU 0.47 s | 0.38 s, CPU 0.36 s | 3.71 s, CPU 3.94 s |');
  L.push(
    '| the README leaves out a diagram Mermaid would not draw (over 50,000 characters or 500 edges), deciding from the objects alone when it can (5a8180d) | 0.46 s, 0.47 s | 0.37 s, 0.38 s | 3.34 s, 3.35 s |',
  );
  L.push(
    "| cron-parser (and luxon) out of the bundle; `Etc/UTC` known without ICU's first formatter (15 ms); tsrun trusts a cached bundle by its recorded identity instead of hashing 3 MB (2c5f572) | 0.41 s, 0.45 s | 0.37 s, 0.38 s | 3.19 s, 3.64 s |",
  );
  L.push(
    "| cdk8s's resolve without its per-value overhead (speed/fast-resolve.ts); the synth exits once its output is written, not after V8's background work (b40f264) | 0.36 s, 0.36 s | 0.35 s, 0.30 s | 2.85 s, 3.36 s |",
  );
  L.push(
    '| write-dist links a file that comes out the same instead of writing it, so its data is neither written nor freed (f98aad8) | 0.35 s, 0.37 s | 0.35 s, 0.30 s | 2.45 s, 3.01 s |',
  );
  L.push('');
  L.push(
    'The machine ran slow that hour: the same last commit took 1.9 s at N = 1,000 and 0.27 s for prod-eks in runs',
  );
  L.push('alternating with the commit before it, an hour earlier. Tried and left out, for no difference beyond the');
  L.push("noise: resolving strings and numbers without looking at their prototypes, remembering each schema's");
  L.push("verdict on a workload's scale (50 ms of zod at N = 1,000), and writing the YAML into an array of parts");
  L.push('instead of joining strings.');
  L.push('');
  L.push(
    "Then (profile of 0ed80cf) the largest cost outside the project's code was cdk8s-plus-28's k8s.js, about 20% at",
  );
  L.push(
    "N = 1,000: the field mappings cdk8s's importer generates for every type drop undefined fields by copying the",
  );
  L.push('object built so far once per field (`{ ...r, [k]: v }` in a `reduce`), quadratic in its fields. tsrun now');
  L.push(
    'rewrites that callback in the bundle to add each field to one object (speed/tsrun-linear-maps.js; same keys,',
  );
  L.push('order, values and prototype, a field named `__proto__` included; 474 callbacks in cdk8s-plus-28, 767 in the');
  L.push(
    "project's imports/). Same session, alternating copies of the tree (load average 0.5 to 1.6; wall time median,",
  );
  L.push('CPU user + system median; 9 runs, 7 for N = 1,000):');
  L.push('');
  L.push('| step (commit) | 4 environments | prod-eks alone | 1,000 workloads |');
  L.push('|---|---:|---:|---:|');
  L.push('| before (0ed80cf) | 0.39 s, CPU 0.46 s | 0.33 s, CPU 0.38 s | 2.42 s, CPU 3.45 s |');
  L.push(
    '| generated field mappings made linear (1802631) | 0.37 s, CPU 0.44 s | 0.32 s, CPU 0.36 s | 2.04 s, CPU 2.93 s |',
  );
  L.push('');
  L.push('Tried and left out, each for no difference beyond the noise: resolving and sanitizing the objects in one');
  L.push(
    'walk (12 alternating runs), and their metadata too (2.17 → 2.02 s in 11 alternating runs, then 2.06 → 2.28 s',
  );
  L.push('in the next 11); and a second thread that built the same chart and rendered the parts the first had not');
  L.push('claimed yet (same output, but 2.06 to 2.47 s against 1.86 to 2.45 s alone; CPU 3.2 to 4.0 s against 2.6 to');
  L.push("3.1 s): on 2 CPUs the second one is already busy with V8's collector and compiler threads, and the chart is");
  L.push('built twice.');
  L.push('');
  L.push("What is left at N = 1,000 (profile of 1802631 at a load average near 1): cdk8s's `toJson` about 34% (the");
  L.push("metadata alone 10%), building the constructs 15% (cdk8s's ApiObject constructor and zod's check of each");
  L.push("workload's scale among it), garbage collection 13%, YAML 11%, the README 9%, writing the files 7%, and");
  L.push("before any of it Node's start, tsrun and the packages' top level about 15% (under the profiler).");
  L.push('');
  L.push('Where one synth of the four environments goes (clock readings inside one run of d6accc2, the machine idle;');
  L.push("0.28 s from spawn to the end of main.ts): Node's start until tsrun's first line 68 ms, 45 of them the CA");
  L.push("bundle (see Targets); tsrun checking its records and reading both bundles 28 ms; the packages' script 9 ms;");
  L.push("the project's script and the packages' top level 33 ms; building the constructs 24 ms; rendering (objects,");
  L.push('YAML, READMEs) 62 ms; the checks 48 ms (loading the validators of the schemas used 16 ms, running them');
  L.push('9 ms); writing 8 ms. Tried and left out:');
  L.push('');
  L.push('- The checks in a worker thread, fed each environment as it is rendered while the main thread renders the');
  L.push('  next (the main thread waiting for the verdict at the end, as dist/ may only be written after it): 0.32 →');
  L.push('  0.31 s with the worker started at the synth, and 10 to 15 ms less with it started at the first line of');
  L.push('  main.ts; the worker needs 50 ms to start, and on 2 CPUs it slowed the rendering beside it by 10 to 20 ms;');
  L.push('  50 ms more CPU. Not worth a second thread.');
  L.push('- Remembering which unchanged objects passed which generated validator (sound only for plain JSON data:');
  L.push('  proving that, and hashing the objects, took 12 ms of the 25 ms it would save).');
  L.push('- A larger young generation for fewer collections (`--max-semi-space-size=64`): N = 1,000 1.52 s against');
  L.push('  1.49 s.');
  L.push("- The packages' bundle in pure ASCII: esbuild escapes every other character in code, but five comments keep");
  L.push('  theirs, which makes Node decode the 2.3 MB bundle in 10 ms instead of 0.5 and V8 hold it as a two-byte');
  L.push('  string; 0.297 → 0.292 s in 15 alternating runs, within the noise.');
  L.push('');
  return `${L.join('\n')}\n`;
}
