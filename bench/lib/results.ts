/** The shape of bench/results/results.json: everything a run measured, for BENCHMARKS.md and the chart. */
import { FleetResult } from './fleet';
import { CpuShare } from './machine-load';
import { Summary } from './measure';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly npm: string;
  readonly kubectl: string;
  readonly packages: Readonly<Record<string, string>>;
}

/** One command's times (ms) and, where known, peak memory (KiB). */
export interface TimedRow {
  readonly label: string;
  readonly shown: string;
  readonly time: Summary;
  readonly maxRssKiB?: Summary;
}

export interface ScaleRow {
  readonly workloads: number;
  readonly objects: number;
  readonly files: number;
  readonly bytes: number;
  /** Spawn to exit, as a user waits for it. */
  readonly wallMs: Summary;
  /** renderEnvironment + writeDistAtomically, measured inside the process. */
  readonly renderAndWriteMs: Summary;
  /** Node's start, loading modules and the esbuild bundle, before rendering starts. */
  readonly startupMs: Summary;
  readonly maxRssMiB: Summary;
}

export type ChecksResult =
  | { readonly measured: false; readonly why: string }
  | {
      readonly measured: true;
      readonly objects: number;
      readonly findings: number;
      readonly coldRenderMs: Summary;
      readonly coldChecksMs: Summary;
      readonly warmRenderMs?: Summary;
      readonly warmChecksMs?: Summary;
      /** checks / (render + checks), first iteration of a fresh process: what one synth pays. */
      readonly coldShare: number;
      readonly warmShare?: number;
      /** cold checks / the fast path's end-to-end synth median. */
      readonly shareOfFastSynth: number;
    };

export interface BenchResults {
  readonly mode: 'quick' | 'full';
  readonly date: string;
  durationS: number;
  /** The 1-minute load average when the run started and ended: above the CPU count, others were competing. */
  loadAverage: { atStart: number; atEnd: number };
  /** CPU time other processes took during the run (bench/lib/machine-load.ts); absent where unknown. */
  others?: CpuShare;
  /**
   * CPU time the hypervisor gave to other guests while this machine's CPUs had work (steal,
   * bench/lib/machine-load.ts); absent where the kernel does not count it.
   */
  steal?: CpuShare;
  /** The code measured: `commit abc1234`, maybe with uncommitted changes. */
  readonly source: string;
  readonly machine: Machine;
  readonly plan: object;
  readonly synth: {
    readonly rows: readonly TimedRow[];
    readonly fast: Summary;
    /** The first run after an edit: the project's bundle made again and compiled from scratch. */
    readonly afterEdit?: Summary;
    /** The first run ever: tsrun's cache empty, both bundles made and compiled from scratch. */
    readonly emptyCache?: Summary;
    readonly stock: Summary;
    readonly tsx: Summary;
    readonly npx?: Summary;
  };
  readonly peers: {
    readonly rows: readonly TimedRow[];
    readonly kustomizeTree: object;
    readonly bytesAllEnvironments: number;
    readonly ratioToKustomize: number;
    readonly ratioToFloor: number;
    readonly ratioToFloorOne: number;
    /** `node -e 0`: Node starting and stopping, nothing run (absent in results of older runs). */
    readonly nodeStart?: Summary;
    /**
     * The same commands with NODE_EXTRA_CA_CERTS unset, measured in the same rounds, when the bench's
     * environment sets it: Node 20 then parses the CA bundle at every start, before any code runs.
     */
    readonly withoutExtraCaCerts?: {
      readonly nodeStart: Summary;
      readonly fastAll: Summary;
      readonly fastOne: Summary;
      readonly ratioToKustomize: number;
    };
  };
  /** Each N written over the output of the run before, as a synth run again writes over dist/. */
  readonly scale: readonly ScaleRow[];
  /** N = 1,000 written into an empty folder, as the first synth: every file written. */
  readonly scaleIntoEmptyFolder?: ScaleRow;
  /** Scale sizes run fewer times than planned, or not at all, and why. */
  readonly scaleNotes: readonly string[];
  readonly perWorkloadRatio?: number;
  readonly perWorkloadRatioOf: string;
  /** Not run in quick mode. */
  readonly tests?: {
    readonly rows: readonly TimedRow[];
    readonly jestTests: string;
    readonly jestSuites: string;
    /** What jest.config.js keeps out of the run. */
    readonly jestIgnores: readonly string[];
    readonly stepExitCodes: readonly { readonly step: string; readonly exitCodes: readonly number[] }[];
    readonly npmTestScript: string;
    readonly npmTestMedianMs: number;
    readonly typecheckIncluded: boolean;
  };
  readonly checks: ChecksResult;
  /** The synth of fleets of environments (bench/lib/fleet.ts); absent in results of older runs. */
  readonly fleet?: FleetResult;
}
