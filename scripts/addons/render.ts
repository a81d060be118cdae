/**
 * Upstream's own rendering of an add-on, addons/<name>/upstream.yaml: the manifest files as
 * published, or `helm template` of the vendored chart with its defaults and only the values it needs
 * to render at all. Written with the project's YAML writer (lib/k8s/yaml-output.ts), the same bytes
 * the synth writes to dist/, so that `diff addons/<name>/upstream.yaml dist/<env>/0<wave>-<name>.yaml`
 * shows only our settings.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import type { AddonImage, AddonRender } from '../../lib/addons/lock';
import { yamlDocuments } from '../../lib/k8s/yaml-output';

/**
 * The documents of a YAML stream as kubectl reads them (YAML 1.1: `on` and `yes` are booleans,
 * `0644` is octal), empty documents dropped. A document that a YAML 1.2 reader would read otherwise
 * is refused: its meaning would depend on the reader, and dist/ must mean one thing.
 */
export function readDocuments(text: string, file: string): Record<string, unknown>[] {
  const asKubectl = parseAllDocuments(text, { version: '1.1' }).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${file}: document ${index + 1}: ${document.errors[0].message}`);
    return document.toJS() as unknown;
  });
  const asYaml12 = loadAll(text);
  const documents: Record<string, unknown>[] = [];
  asKubectl.forEach((document, index) => {
    if (document === null || document === undefined) return;
    if (typeof document !== 'object' || Array.isArray(document)) {
      throw new Error(`${file}: document ${index + 1} is not a mapping`);
    }
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(document)), document)) {
      throw new Error(`${file}: document ${index + 1} holds a value that is not JSON (a date, a binary...)`);
    }
    if (!isDeepStrictEqual(document, asYaml12[index])) {
      throw new Error(
        `${file}: document ${index + 1} (${describe(document as Record<string, unknown>)}) reads differently as YAML 1.1 (kubectl) and YAML 1.2; refusing an ambiguous upstream file`,
      );
    }
    documents.push(document as Record<string, unknown>);
  });
  return documents;
}

function describe(document: Record<string, unknown>): string {
  const metadata = document.metadata as { name?: string } | undefined;
  return `${String(document.kind)}/${metadata?.name ?? '?'}`;
}

export interface HelmRendering {
  /** The helm binary. */
  readonly helm: string;
  /** The Kubernetes minor the chart is rendered for (`--kube-version`): the newest our environments use. */
  readonly kubeVersion: string;
}

/** upstream.yaml's documents for an add-on whose files are in sourceDir (addons/<name>/source/), in upstream's order. */
export function renderUpstream(
  render: AddonRender,
  sourceDir: string,
  helm: HelmRendering | undefined,
): Record<string, unknown>[] {
  const manifests = (files: readonly string[]) =>
    files.flatMap((file) => readDocuments(fs.readFileSync(path.join(sourceDir, file), 'utf8'), file));
  if (render.tool === 'manifest') return refuseDuplicates(manifests(render.files));
  if (helm === undefined) throw new Error('rendering a chart needs helm');
  return refuseDuplicates([
    ...manifests(render.manifestsBefore ?? []),
    ...readDocuments(helmTemplate(render, sourceDir, helm), `helm template ${render.chart}`),
  ]);
}

/**
 * Refuses a rendering that holds an object twice (the same kind, namespace and name): CRDs both
 * added before a chart and templated by it, say. kubectl would apply the second over the first, so
 * upstream.yaml would not say what the cluster gets.
 */
export function refuseDuplicates(documents: Record<string, unknown>[]): Record<string, unknown>[] {
  const seen = new Set<string>();
  for (const document of documents) {
    const metadata = document.metadata as { name?: string; namespace?: string } | undefined;
    const apiVersion = typeof document.apiVersion === 'string' ? document.apiVersion : '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const key = `${String(document.kind)}.${group} ${metadata?.namespace ?? ''}/${metadata?.name ?? ''}`;
    if (seen.has(key)) {
      throw new Error(
        `upstream's rendering holds ${describe(document)}${metadata?.namespace ? ` in namespace ${metadata.namespace}` : ''} twice; ` +
          "refusing it (is a chart's CRDs both templated by the chart and rendered beside it?)",
      );
    }
    seen.add(key);
  }
  return documents;
}

/** upstream.yaml's bytes: the documents as the synth writes dist/. */
export function upstreamYaml(documents: readonly Record<string, unknown>[]): string {
  return yamlDocuments(documents);
}

/** `helm template` of the chart, from a copy (the vendored files stay as upstream wrote them). */
function helmTemplate(render: Extract<AddonRender, { tool: 'helm' }>, sourceDir: string, helm: HelmRendering): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'addon-render-'));
  try {
    const chart = path.join(work, path.basename(render.chart));
    fs.cpSync(path.join(sourceDir, render.chart), chart, { recursive: true });
    adjustChartYaml(path.join(chart, 'Chart.yaml'), render);
    const values = path.join(work, 'values.json');
    fs.writeFileSync(values, JSON.stringify(render.values));
    return execFileSync(
      helm.helm,
      [
        'template',
        render.releaseName,
        chart,
        '--namespace',
        render.namespace,
        '--values',
        values,
        '--include-crds',
        '--kube-version',
        `${helm.kubeVersion}.0`,
      ],
      // HELM_* folders inside the scratch folder: no user's repositories or plugins take part.
      {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          HELM_CACHE_HOME: path.join(work, 'cache'),
          HELM_CONFIG_HOME: path.join(work, 'config'),
          HELM_DATA_HOME: path.join(work, 'data'),
        },
      },
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Sets the rendering copy's Chart.yaml fields that upstream's release sets (a chart kept in a
 * repository with placeholders for its version) and leaves out dependencies that are disabled by
 * default and not vendored. Line edits, so the rest of the file stays as upstream wrote it.
 */
function adjustChartYaml(file: string, render: Extract<AddonRender, { tool: 'helm' }>): void {
  let text = fs.readFileSync(file, 'utf8');
  for (const field of ['version', 'appVersion'] as const) {
    const value = render.chartMetadata?.[field];
    if (value === undefined) continue;
    const line = new RegExp(`^${field}:.*$`, 'm');
    if (!line.test(text)) throw new Error(`${render.chart}/Chart.yaml: no top-level "${field}:" line to set`);
    text = text.replace(line, `${field}: ${JSON.stringify(value)}`);
  }
  if (render.dependenciesLeftOut !== undefined) {
    // `dependencies:` is a top-level list; every entry is dropped, and each must be one left out on purpose.
    const match = /^dependencies:\n((?:[ -].*\n)*)/m.exec(text);
    if (match === null) throw new Error(`${render.chart}/Chart.yaml: no dependencies to leave out`);
    const names = [...match[1].matchAll(/name: (\S+)/g)].map((m) => m[1]);
    const unexpected = names.filter((n) => !render.dependenciesLeftOut!.names.includes(n));
    if (unexpected.length > 0) {
      throw new Error(
        `${render.chart}/Chart.yaml: dependencies ${unexpected.join(', ')} are not among those the recipe leaves out`,
      );
    }
    text = text.replace(match[0], '');
    fs.rmSync(path.join(path.dirname(file), 'Chart.lock'), { force: true });
  }
  fs.writeFileSync(file, text);
}

/** Where pods are, by kind: the pod spec's path in the object. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Every image the pod specs of the documents name, sorted, each once. */
export function imagesOf(documents: readonly Record<string, unknown>[]): string[] {
  const images = new Set<string>();
  for (const document of documents) {
    const at = POD_SPEC_PATHS[String(document.kind)];
    if (at === undefined) continue;
    let spec: unknown = document;
    for (const key of at) spec = (spec as Record<string, unknown> | undefined)?.[key];
    for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
      for (const container of ((spec as Record<string, unknown> | undefined)?.[list] ?? []) as { image?: string }[]) {
        if (typeof container.image === 'string') images.add(container.image);
      }
    }
  }
  return [...images].sort();
}

/**
 * The lock's image entries: a digest only where upstream's files carry one (`name:tag@sha256:...`);
 * otherwise none, and why. No registry is asked, and no digest is computed.
 */
export function imageEntries(images: readonly string[], where: string): AddonImage[] {
  return images.map((image) => {
    const digest = /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1] ?? null;
    return digest !== null
      ? { image, digest, digestSource: `the image reference in ${where}` }
      : { image, digest: null, digestSource: `no digest is published in ${where} at this version; the tag is kept` };
  });
}
