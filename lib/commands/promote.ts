/**
 * `npm run promote -- --env <env> --to <git revision>`: moves a production environment to a commit
 * of its branch that the lab has already run, by one commit of lib/environments/<env>.ts (its
 * `revision:` line) and dist/<env>-delivery/ (rendered again). Pushed, reviewed and merged like any
 * change, that commit is what production's reconciler follows. lib/commands/promote-steps.ts holds
 * the steps and says why; here they run in order, cheapest refusal first, nothing written until all
 * have passed:
 *
 *   1. the environment: one that does not follow its branch's tip, whose files promote writes are
 *      committed;
 *   2. the revision: git resolves it, it is on the environment's branch, and its dist/<env>/ has the
 *      working tree's layers;
 *   3. the lab's proof: through the lab's kubeconfig context, whose cluster must be the lab's (its CA:
 *      lib/commands/context-guard.ts), every layer's Flux Kustomization shows the commit applied;
 *   4. the commit's own render: its synth, in a temporary worktree with its own code, passes and
 *      renders exactly its committed dist/;
 *   5. the write: the revision line, dist/<env>-delivery/ rendered again, one commit.
 * The cluster tests (test/cluster) run this very command in a clone, against a lab that Flux delivers.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { environmentNames, selectEnvironments } from '../environments';
import { ClusterRefused, guardedContext, UsageError } from './context-guard';
import {
  branchRevision,
  checkCleanFiles,
  checkOnBranch,
  checkPromotable,
  checkProven,
  checkRendersAtCommit,
  checkSameLayers,
  committedFiles,
  FluxKustomization,
  git,
  LAB_ENVIRONMENT,
  layersOf,
  parsePromoteArgs,
  PROMOTE_USAGE,
  PromoteOptions,
  PromoteRefused,
  proveInLab,
  resolveRevision,
  sameLabLayerAt,
  writePromotion,
} from './promote-steps';

/** The lab's Flux Kustomizations in its Flux namespace, as kubectl lists them. */
function labKustomizations(context: string, namespace: string): FluxKustomization[] {
  const bin = process.env.KUBECTL || 'kubectl';
  const args = [
    '--context',
    context,
    'get',
    'kustomizations.kustomize.toolkit.fluxcd.io',
    '-n',
    namespace,
    '-o',
    'json',
  ];
  const result = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    throw new Error(`cannot run ${bin}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const said = result.stderr.trim();
    throw new PromoteRefused(
      /doesn't have a resource type/.test(said)
        ? `the lab (context "${context}") runs no Flux: its API server serves no kustomizations.kustomize.toolkit.fluxcd.io, ` +
            'so nothing proves any revision there; bootstrap it (dist/lab-delivery/flux/) and let it reconcile first'
        : `reading the lab's Kustomizations (context "${context}", namespace ${namespace}) failed: ${said}`,
    );
  }
  return (JSON.parse(result.stdout) as { items?: FluxKustomization[] }).items ?? [];
}

function promote(options: PromoteOptions, log: (line: string) => void): void {
  const root = process.cwd();
  const [env] = selectEnvironments([options.env]);
  // 1. The environment.
  checkPromotable(env);
  checkCleanFiles(root, env.name);
  // 2. The revision.
  const commit = resolveRevision(root, env.name, options.to);
  checkPromotable(env, { given: options.to, commit });
  checkOnBranch(root, env.name, options.to, commit, env.delivery.branch);
  const workingTree = fs.readdirSync(path.join(root, 'dist', env.name));
  checkSameLayers(
    env.name,
    commit,
    {
      manifests: committedFiles(root, commit, `dist/${env.name}`),
      layerFolders: committedFiles(root, commit, `dist/${env.name}-delivery/layers`),
    },
    workingTree,
  );
  // 3. The lab's proof.
  const [lab] = selectEnvironments([LAB_ENVIRONMENT]);
  if (lab.delivery.engine !== 'flux' || lab.delivery.flux === undefined || lab.delivery.revision !== 'tip') {
    throw new PromoteRefused(
      `environment "${LAB_ENVIRONMENT}": delivery (lib/environments/${LAB_ENVIRONMENT}.ts): the lab proves a revision ` +
        `by its Flux Kustomizations following its branch's tip; it has engine "${lab.delivery.engine}", revision ` +
        `"${lab.delivery.revision}"; allowed: engine 'flux' with revision 'tip'`,
    );
  }
  const context = guardedContext(lab, options.context, options.confirmCluster, {
    doing: `read the lab's proof of ${commit.slice(0, 12)} from`,
    rerun: `npm run promote -- --env ${env.name} --to ${options.to}`,
  });
  const namespace = lab.delivery.flux.namespace;
  const layers = [...layersOf(committedFiles(root, commit, `dist/${LAB_ENVIRONMENT}`)).keys()];
  const proofs = proveInLab(labKustomizations(context, namespace), {
    layers,
    branch: lab.delivery.branch,
    commit,
    sameLayerContent: sameLabLayerAt(root, commit),
  });
  checkProven(env.name, options.to, commit, `context "${context}", namespace ${namespace}`, proofs);
  log(`promote ${env.name}: the lab applied ${branchRevision(lab.delivery.branch, commit)} in every layer`);
  // 4. The commit's own render.
  log(`promote ${env.name}: rendering ${commit.slice(0, 12)} with its own code in a temporary worktree`);
  checkRendersAtCommit(root, env.name, commit, (line) => log(`promote ${env.name}: ${line}`));
  // 5. The write.
  const evidence = [
    `The lab (context "${context}", Flux namespace ${namespace}) applied ${branchRevision(lab.delivery.branch, commit)}:`,
    ...proofs.map((p) => `- ${p.kustomization}: ${p.seen}`),
    `Its synth, run with its own code, passed and renders its committed dist/${env.name}/, dist/${env.name}-delivery/layers/ and dist/${LAB_ENVIRONMENT}/.`,
  ];
  const made = writePromotion(root, env.name, commit, evidence);
  const branch = git(root, ['rev-parse', '--abbrev-ref', 'HEAD']);
  log(`promote ${env.name}: committed ${made.commit.slice(0, 12)} "promote ${env.name} to ${commit.slice(0, 12)}"`);
  log(
    branch === env.delivery.branch
      ? `Push it for review, e.g. git push origin HEAD:refs/heads/promote-${env.name}-${commit.slice(0, 12)}, ` +
          `and merge it into ${env.delivery.branch}: ${env.name} follows once it is there.`
      : `Push ${branch} for review (git push origin ${branch}) and merge it into ${env.delivery.branch}: ` +
          `${env.name} follows once it is there.`,
  );
}

export function main(argv: readonly string[]): number {
  try {
    const options = parsePromoteArgs(argv, environmentNames());
    if (options === 'help') {
      console.log(PROMOTE_USAGE);
      return 0;
    }
    promote(options, (line) => console.log(line));
    return 0;
  } catch (e) {
    if (e instanceof UsageError && !(e instanceof ClusterRefused)) {
      console.error(`promote: ${e.message}\n\n${PROMOTE_USAGE}`);
      return 2;
    }
    if (e instanceof PromoteRefused || e instanceof ClusterRefused) {
      console.error(`promote: ${e.message}`);
      return 2;
    }
    console.error(`promote: ${(e as Error).message}`);
    return 1;
  }
}

process.exit(main(process.argv.slice(2)));
