import * as fs from 'fs';
import * as path from 'path';
import { Environment } from '../environment';
import { environmentNames, selectEnvironments } from '../environments';
import { peopleGroupsByEnvironment } from '../environments/people';
import { deliveryGitChecker } from '../environments/validate-delivery';
import { ConstructError, errorText, ValidationError } from '../k8s/validation';
import { checkManifests, Finding, formatReport, hasErrors, ManifestInput, resourceKey } from '../policy';
import { bootstrapFolder, deliveryFolder, renderEnvironment, RenderedEnvironment } from './render';
import { writeDistAtomically } from './write-dist';
import { yamlDocuments } from '../k8s/yaml-output';

export interface SynthOptions {
  /** The environments to render, by name. @default all four */
  readonly envNames?: readonly string[];
  /**
   * The environments to render, given directly (tests and benchmarks); overrides envNames.
   * @default - the environments named by envNames
   */
  readonly environments?: readonly Environment[];
  /** Where dist/ is. @default 'dist' */
  readonly outdir?: string;
  /**
   * Where cdk8s-cli asked for the manifests (CDK8S_OUTDIR), so that its validation plugins see them.
   * @default - none: not run by cdk8s-cli
   */
  readonly cdk8sOutdir?: string;
  /**
   * The git repository each environment's delivery branch and promoted commit must be in
   * (lib/environments/validate-delivery.ts).
   * @default the working directory's
   */
  readonly repository?: string;
}

/**
 * The objects of rendered environments, as the guardrail checks take them: dist/<env>/'s and, beside
 * them, the reconciler's of dist/<env>-delivery/ (checked against the engine's CRD schema and by
 * every other rule; their file is named from dist/<env>/, as `../<env>-delivery/flux/lab-to-prod.yaml`).
 */
export function checkInputs(rendered: readonly RenderedEnvironment[]): ManifestInput[] {
  return rendered.flatMap(({ env, objects, deliveryObjects }) =>
    [...objects, ...deliveryObjects.map((o) => ({ ...o, file: `../${deliveryFolder(env.name)}/${o.file}` }))].map(
      (o) => ({
        environment: env.name,
        kubernetesVersion: env.kubernetesVersion,
        file: o.file,
        object: o.object,
        constructPath: o.constructPath,
      }),
    ),
  );
}

/** An environment that could not be rendered, and why. */
export interface EnvironmentFailure {
  readonly environment: string;
  readonly error: unknown;
}

/**
 * Thrown when any environment fails to render or any guardrail check fails. It holds every
 * environment's problems, not only the first: its message lists each failed environment's error,
 * then the report of the errors and warnings the checks found in the environments that rendered
 * (waived findings counted, not listed).
 */
export class SynthError extends Error {
  constructor(
    public readonly failures: readonly EnvironmentFailure[],
    public readonly findings: readonly Finding[],
  ) {
    super('');
    this.name = 'SynthError';
    this.message = this.report();
  }

  /**
   * What went wrong, for people. `verbose` adds the stack of every exception that was not a
   * validation error (a construct's bug: the stack names its line) and lists the waived findings.
   */
  public report(verbose = false): string {
    const lines = this.failures.map((failure) => {
      const text = describeFailure(failure);
      const stack = unexpectedStack(failure.error);
      return verbose && stack !== undefined ? `${text}\n${stack.replace(/^/gm, '    ')}` : text;
    });
    if (hasErrors(this.findings)) {
      lines.push(formatReport(this.findings, { listWaived: verbose }));
    }
    if (!verbose && this.failures.some((f) => unexpectedStack(f.error) !== undefined)) {
      lines.push('(--verbose prints where in the code each exception was thrown)');
    }
    return lines.join('\n');
  }
}

/** The stack of an exception that is not a validation error: of the construct's own error if it is one. */
function unexpectedStack(error: unknown): string | undefined {
  if (error instanceof ValidationError) {
    return undefined;
  }
  const thrown = error instanceof ConstructError ? error.cause : error;
  return thrown instanceof Error ? thrown.stack : undefined;
}

/**
 * One failed environment as text. Validation errors and construct errors already name where they
 * come from (`environment "lab": ...`, `lab/web: ...`); anything else gets the environment's name.
 */
function describeFailure({ environment, error }: EnvironmentFailure): string {
  if (error instanceof ValidationError || error instanceof ConstructError) {
    return error.message;
  }
  return `environment "${environment}": ${errorText(error)}`;
}

/**
 * Renders the environments, runs the guardrail checks on every object (lib/policy), and only if
 * every environment renders and no check fails, writes them to dist/ atomically. Every environment
 * is rendered and checked even after one has failed, so that one run reports every problem; then a
 * SynthError, and dist/ is exactly as it was. Warnings and waived findings are returned for printing.
 */
export function synthesize(options: SynthOptions = {}): SynthResult {
  const outdir = options.outdir ?? 'dist';
  const environments = options.environments ?? selectEnvironments(options.envNames ?? environmentNames());
  const rendered: RenderedEnvironment[] = [];
  const failures: EnvironmentFailure[] = [];
  const warnings: string[] = [];
  const checkDeliveryInGit = deliveryGitChecker(options.repository ?? process.cwd());
  for (const env of environments) {
    try {
      const result = renderEnvironment(env);
      // The delivery branch and promoted commit must be this repository's: a cluster would follow nothing.
      const git = checkDeliveryInGit(env);
      if (git.problems.length > 0) {
        throw new ValidationError(git.problems);
      }
      if (git.notChecked !== undefined) {
        warnings.push(
          `environment "${env.name}": delivery.branch and delivery.revision were not checked against git: ${git.notChecked}`,
        );
      }
      rendered.push(result);
    } catch (error) {
      failures.push({ environment: env.name, error });
    }
  }
  const findings = checkManifests(checkInputs(rendered), {
    peopleGroups: peopleGroupsByEnvironment(rendered.map((r) => r.env)),
  });
  if (failures.length > 0 || hasErrors(findings)) {
    throw new SynthError(failures, findings);
  }

  writeDistAtomically(
    outdir,
    new Map(
      rendered.flatMap((r) => [
        [r.env.name, r.files],
        [bootstrapFolder(r.env.name), r.bootstrapFiles],
        [deliveryFolder(r.env.name), r.deliveryFiles],
      ]),
    ),
  );
  if (options.cdk8sOutdir && path.resolve(options.cdk8sOutdir) !== path.resolve(outdir)) {
    writeForCdk8sCli(options.cdk8sOutdir, rendered);
  }
  return { rendered, findings, warnings };
}

export interface SynthResult {
  readonly rendered: readonly RenderedEnvironment[];
  /** What the checks found that does not stop the synth: warnings and waived findings. */
  readonly findings: readonly Finding[];
  /** What the synth could not check and says so (a delivery revision outside a git repository). */
  readonly warnings: readonly string[];
}

/**
 * cdk8s-cli reads the *.yaml files at the top of its output folder and, for its validation report,
 * construct-metadata.json (object → construct path). The validation plugin (lib/policy/plugin)
 * reads each environment's Kubernetes version and the groups people are bound through from
 * environments.json.
 */
function writeForCdk8sCli(dir: string, rendered: readonly RenderedEnvironment[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const resources: Record<string, { path: string }> = {};
  for (const { env, objects } of rendered) {
    fs.writeFileSync(path.join(dir, `${env.name}.k8s.yaml`), yamlDocuments(objects.map((o) => o.object)));
    for (const o of objects) {
      resources[resourceKey(env.name, o.object)] = { path: o.constructPath };
    }
  }
  fs.writeFileSync(path.join(dir, 'construct-metadata.json'), JSON.stringify({ version: '1.0.0', resources }));
  const groups = peopleGroupsByEnvironment(rendered.map((r) => r.env));
  const settings = Object.fromEntries(
    rendered.map(({ env }) => [env.name, { kubernetesVersion: env.kubernetesVersion, peopleGroups: groups[env.name] }]),
  );
  fs.writeFileSync(path.join(dir, 'environments.json'), JSON.stringify(settings));
}
