/**
 * The lab as the cluster tests' real node runs it (test/cluster/realnode_test.go): rendered through the
 * project's own synth with that node's facts, which differ from a lab VM's in one way only: its kernel
 * has no AppArmor (env.nodes.securityModule 'none'), and a kubelet refuses every pod that asks for an
 * AppArmor profile on such a node. Everything else must be byte for byte what a user applies from
 * dist/lab/, and `differencesFromCommitted` proves it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { Environment } from '../lib/environment';
import { ENVIRONMENTS } from '../lib/environments';
import { App } from 'cdk8s';
import { buildEnvironment, WorkloadOptions } from '../lib/synth/app';
import { renderChart, RenderedEnvironment } from '../lib/synth/render';
import { flatten, sameValue } from '../lib/review/flatten';

/** The lab environment on the test node: no AppArmor in its kernel, nothing else changed. */
export function labOnTestNode(): Environment {
  return {
    ...ENVIRONMENTS.lab,
    nodes: { osImage: "Debian 12 (the cluster tests' real node)", securityModule: 'none' },
  };
}

/** The lab rendered for the test node, with workloads' props changed by options (the synth gives none). */
export function renderLabOnTestNode(options: WorkloadOptions = {}): RenderedEnvironment {
  const env = labOnTestNode();
  return renderChart(env, buildEnvironment(new App({ outdir: 'unused' }), env, options));
}

/** Whether a field path is an AppArmor request: the field (pod or container) or the pre-1.30 annotation. */
export function isAppArmorPath(fieldPath: string): boolean {
  return (
    /(^|\.)appArmorProfile($|[.[])/.test(fieldPath) ||
    fieldPath.includes('[container.apparmor.security.beta.kubernetes.io/')
  );
}

/**
 * The fields a change to web's response headers changes, and only these (the real-node test's
 * rolling update): nginx.conf in the ConfigMap and the config hash in the pod template.
 */
export function isWebConfigPath(object: string, fieldPath: string): boolean {
  return (
    (object.endsWith('ConfigMap/web/web') && fieldPath === 'data[nginx.conf]') ||
    (object.endsWith('Deployment/web/web') &&
      fieldPath === 'spec.template.metadata.annotations[lab-to-prod.io/config-hash]')
  );
}

export interface Differences {
  /** Fields of the committed dist/lab/ that the test node's rendering lacks, all AppArmor requests. */
  readonly appArmorOnly: string[];
  /** Fields changed on purpose by web's response headers (isWebConfigPath), when some were given. */
  readonly webConfig: string[];
  /** Every other difference, file by file: must be none. */
  readonly other: string[];
}

/**
 * Compares the YAML files kubectl applies (the top-level *.yaml) of a rendering with the committed
 * folder, object by object and field by field.
 */
export function differencesFromCommitted(
  rendered: RenderedEnvironment,
  committedDir: string,
  webConfigChanged = false,
): Differences {
  const appArmorOnly: string[] = [];
  const webConfig: string[] = [];
  const other: string[] = [];
  const yamlFiles = (names: Iterable<string>) =>
    [...names].filter((f) => f.endsWith('.yaml') && !f.includes('/')).sort();
  const renderedFiles = yamlFiles(rendered.files.keys());
  const committedFiles = yamlFiles(fs.readdirSync(committedDir));
  if (renderedFiles.join() !== committedFiles.join()) {
    other.push(`files: rendered ${renderedFiles.join(', ')}; committed ${committedFiles.join(', ')}`);
  }
  for (const file of renderedFiles.filter((f) => committedFiles.includes(f))) {
    const mine = yaml.loadAll(rendered.files.get(file)!.toString()) as any[];
    const theirs = yaml.loadAll(fs.readFileSync(path.join(committedDir, file), 'utf8')) as any[];
    if (mine.length !== theirs.length) {
      other.push(`${file}: ${mine.length} objects rendered, ${theirs.length} committed`);
      continue;
    }
    mine.forEach((object, i) => {
      const name = `${file} ${theirs[i]?.kind}/${theirs[i]?.metadata?.namespace ?? ''}/${theirs[i]?.metadata?.name}`;
      const a = flatten(object);
      const b = flatten(theirs[i]);
      for (const [fieldPath, value] of b) {
        if (!a.has(fieldPath)) {
          (isAppArmorPath(fieldPath) ? appArmorOnly : other).push(`${name} ${fieldPath}: only in the committed file`);
        } else if (!sameValue(a.get(fieldPath), value)) {
          (webConfigChanged && isWebConfigPath(name, fieldPath) ? webConfig : other).push(
            `${name} ${fieldPath}: ${JSON.stringify(a.get(fieldPath))} rendered, ${JSON.stringify(value)} committed`,
          );
        }
      }
      for (const fieldPath of a.keys()) {
        if (!b.has(fieldPath)) {
          other.push(`${name} ${fieldPath}: only in the rendering`);
        }
      }
    });
  }
  return { appArmorOnly, webConfig, other };
}

/**
 * Renders the lab for the test node into outdir/lab/ (the files kubectl applies) and compares it.
 * options change workloads through their construct props (the rolling update's new nginx.conf).
 */
export function renderLabForTestNode(outdir: string, committedDir: string, options: WorkloadOptions = {}): Differences {
  const rendered = renderLabOnTestNode(options);
  const differences = differencesFromCommitted(rendered, committedDir, options.web?.responseHeaders !== undefined);
  const target = path.join(outdir, 'lab');
  fs.mkdirSync(target, { recursive: true });
  for (const [file, content] of rendered.files) {
    if (file.endsWith('.yaml') && !file.includes('/')) {
      fs.writeFileSync(path.join(target, file), content);
    }
  }
  return differences;
}
