/**
 * The command line as programs call it: the real node's test runs
 * `node speed/tsrun.js lib/commands/explain.ts --env lab --json --oom-floor 0` and reads the JSON.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

function explain(...args: string[]) {
  return spawnSync(process.execPath, ['speed/tsrun.js', 'lib/commands/explain.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

test('--env lab --json --oom-floor 0: one JSON document with every lab container and pod', () => {
  const run = explain('--env', 'lab', '--json', '--oom-floor', '0');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const { lab } = JSON.parse(run.stdout);
  expect(lab.oomScoreAdjFloor).toBe(0);
  const api = lab.containers.find((c: any) => c.workload === 'Deployment api/api');
  // The api container is Guaranteed: the kubelet asks for -997, a runtime that may not go below 0 gives 0.
  expect(api).toMatchObject({ qos: 'Guaranteed', kubeletOomScoreAdj: -997, oomScoreAdj: 0 });
  expect(lab.pods.find((p: any) => p.workload === 'Deployment api/api')).toMatchObject({
    qos: 'Guaranteed',
    cgroupParent: 'kubepods',
  });
  // Every workload has a pod row, and every container row names one of them.
  const workloads = new Set(lab.pods.map((p: any) => p.workload));
  expect(lab.containers.every((c: any) => workloads.has(c.workload))).toBe(true);
}, 30000);

test('--markdown with --json, or a floor that is not an oom_score_adj, is refused with exit status 1', () => {
  const both = explain('--env', 'lab', '--json', '--markdown');
  expect(both.status).toBe(1);
  expect(both.stderr).toContain('--markdown and --json: choose one output');
  const floor = explain('--env', 'lab', '--oom-floor', 'low');
  expect(floor.status).toBe(1);
  expect(floor.stderr).toContain('--oom-floor: Invalid value: "low"');
}, 30000);

test('--oom-floor -999, a negative floor as a separate word, is the same as --oom-floor=-999', () => {
  const separate = explain('--env', 'lab', '--json', '--oom-floor', '-999');
  expect(separate.stderr).toBe('');
  expect(separate.status).toBe(0);
  expect(JSON.parse(separate.stdout).lab.oomScoreAdjFloor).toBe(-999);
  expect(separate.stdout).toBe(explain('--env', 'lab', '--json', '--oom-floor=-999').stdout);
}, 30000);
