import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { Environment, ENVIRONMENT_NAMES } from './environment';
import { selectEnvironments } from './environments';
import { renderEnvironment, RenderedEnvironment } from './render';
import { writeDistAtomically } from './write-dist';

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

/**
 * Renders the environments and, only if every one renders, writes them to dist/ atomically.
 * Throws on the first problem; dist/ is then exactly as it was.
 */
export function synthesize(options: SynthOptions = {}): RenderedEnvironment[] {
  const outdir = options.outdir ?? 'dist';
  const environments = options.environments ?? selectEnvironments(options.envNames ?? ENVIRONMENT_NAMES);
  const rendered = environments.map(renderEnvironment);

  writeDistAtomically(outdir, new Map(rendered.map((r) => [r.env.name, r.files])));
  if (options.cdk8sOutdir && path.resolve(options.cdk8sOutdir) !== path.resolve(outdir)) {
    writeForCdk8sCli(options.cdk8sOutdir, rendered);
  }
  return rendered;
}

/**
 * cdk8s-cli reads the *.yaml files at the top of its output folder and, for its validation report,
 * construct-metadata.json (object name → construct path).
 */
function writeForCdk8sCli(dir: string, rendered: readonly RenderedEnvironment[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const resources: Record<string, { path: string }> = {};
  for (const { env, objects } of rendered) {
    fs.writeFileSync(path.join(dir, `${env.name}.k8s.yaml`), Yaml.stringify(...objects.map((o) => o.object)));
    for (const o of objects) {
      resources[o.object.metadata.name] = { path: o.constructPath };
    }
  }
  fs.writeFileSync(path.join(dir, 'construct-metadata.json'), JSON.stringify({ version: '1.0.0', resources }));
}
