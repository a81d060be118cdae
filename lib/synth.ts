import * as fs from 'fs';
import * as path from 'path';
import { Environment, ENVIRONMENT_NAMES } from './environment';
import { selectEnvironments } from './environments';
import { peopleGroupsByEnvironment } from './environments/people';
import { checkManifests, Finding, formatReport, hasErrors, ManifestInput, resourceKey } from './policy';
import { renderEnvironment, RenderedEnvironment } from './render';
import { writeDistAtomically } from './write-dist';
import { yamlDocuments } from './yaml-output';

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
}

/** The objects of rendered environments, as the guardrail checks take them. */
export function checkInputs(rendered: readonly RenderedEnvironment[]): ManifestInput[] {
  return rendered.flatMap(({ env, objects }) => objects.map((o) => ({
    environment: env.name,
    kubernetesVersion: env.kubernetesVersion,
    file: o.file,
    object: o.object,
    constructPath: o.constructPath,
  })));
}

/** Thrown when the guardrail checks find errors; its message is the report. */
export class GuardrailError extends Error {
  constructor(public readonly findings: readonly Finding[]) {
    super(formatReport(findings));
    this.name = 'GuardrailError';
  }
}

/**
 * Renders the environments, runs the guardrail checks on every object (lib/policy), and only if
 * every environment renders and no check fails, writes them to dist/ atomically. Throws on the first
 * problem; dist/ is then exactly as it was. Warnings and waived findings are returned for printing.
 */
export function synthesize(options: SynthOptions = {}): SynthResult {
  const outdir = options.outdir ?? 'dist';
  const environments = options.environments ?? selectEnvironments(options.envNames ?? ENVIRONMENT_NAMES);
  const rendered = environments.map(renderEnvironment);
  const findings = checkManifests(checkInputs(rendered), { peopleGroups: peopleGroupsByEnvironment(environments) });
  if (hasErrors(findings)) {
    throw new GuardrailError(findings);
  }

  writeDistAtomically(outdir, new Map(rendered.map((r) => [r.env.name, r.files])));
  if (options.cdk8sOutdir && path.resolve(options.cdk8sOutdir) !== path.resolve(outdir)) {
    writeForCdk8sCli(options.cdk8sOutdir, rendered);
  }
  return { rendered, findings };
}

export interface SynthResult {
  readonly rendered: readonly RenderedEnvironment[];
  /** What the checks found that does not stop the synth: warnings and waived findings. */
  readonly findings: readonly Finding[];
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
  const settings = Object.fromEntries(rendered.map(({ env }) => [env.name, { kubernetesVersion: env.kubernetesVersion, peopleGroups: groups[env.name] }]));
  fs.writeFileSync(path.join(dir, 'environments.json'), JSON.stringify(settings));
}
