/**
 * Writes generated/openapi/v<minor>.json, the API schema inputs of each Kubernetes minor in
 * lib/kubernetes-versions.ts, from that release's own OpenAPI (`api/openapi-spec/swagger.json`
 * in the k8s.io/kubernetes Go module).
 *
 * Reproducible: the module comes through the Go module proxy (`go mod download`), and its hash
 * must equal the one pinned in KUBERNETES_RELEASES, so the same table always gives the same files.
 * Needs Go and the module proxy; run it only when the table changes:
 *
 *   npm run fetch:openapi && npm run generate:crds
 *
 * What is kept: the `definitions` (the API types), without descriptions, which make up three
 * quarters of the size and which the checks do not read, except one fact taken from them: a field
 * whose description says it is deprecated gets `x-lab-to-prod-deprecated` with that sentence.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readCommandLine } from '../../lib/commands/command-line';
import { KUBERNETES_RELEASES, KubernetesRelease } from '../../lib/kubernetes-versions';

export const OPENAPI_DIR = path.join(__dirname, '..', '..', 'generated', 'openapi');

type Schema = { [key: string]: any };

/**
 * The sentence of a field's description that says the field is deprecated, or undefined.
 * Upstream writes "Deprecated: ...", "Deprecated. ..." or "DEPRECATED"; a description that only
 * mentions something else being deprecated (an annotation a field replaces) does not count.
 */
export function deprecationOf(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const sentences = description.split(/(?<=\.)\s+/);
  const found = sentences.find(
    (s) => /(^|\s)(Deprecated[:.]|DEPRECATED\b)/.test(s) || /^[A-Za-z]+ is a deprecated alias\b/.test(s),
  );
  return found?.trim();
}

/** Drops descriptions, marks deprecated properties, sorts keys: small and byte-stable. */
export function compact(schema: any): any {
  if (Array.isArray(schema)) return schema.map(compact);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const key of Object.keys(schema).sort()) {
    if (key === 'description') continue;
    if (key === 'properties') {
      const properties: Schema = {};
      for (const name of Object.keys(schema.properties).sort()) {
        const property = compact(schema.properties[name]);
        const deprecated = deprecationOf(schema.properties[name].description);
        properties[name] = deprecated ? { ...property, 'x-lab-to-prod-deprecated': deprecated } : property;
      }
      out.properties = properties;
    } else {
      out[key] = compact(schema[key]);
    }
  }
  return out;
}

function download(release: KubernetesRelease): string {
  const json = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${release.release}`], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    cwd: OPENAPI_DIR,
  });
  const info = JSON.parse(json);
  if (info.Error) throw new Error(`k8s.io/kubernetes@${release.release}: ${info.Error}`);
  if (info.Sum !== release.moduleHash) {
    throw new Error(
      `k8s.io/kubernetes@${release.release}: module hash ${info.Sum}, but lib/kubernetes-versions.ts pins ${release.moduleHash}`,
    );
  }
  checkKubeadmImages(
    release,
    fs.readFileSync(path.join(info.Dir, 'cmd', 'kubeadm', 'app', 'constants', 'constants.go'), 'utf8'),
  );
  return path.join(info.Dir, 'api', 'openapi-spec', 'swagger.json');
}

/** Fails unless the table's kubeadm image tags are the ones the release's kubeadm constants give. */
export function checkKubeadmImages(release: KubernetesRelease, constantsGo: string): void {
  const constant = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"([^"]+)"`).exec(constantsGo)?.[1];
  const actual = {
    etcd: constant('DefaultEtcdVersion'),
    coreDns: constant('CoreDNSVersion'),
    pause: constant('PauseVersion'),
  };
  for (const [key, value] of Object.entries(actual)) {
    const pinned = release.kubeadmImages[key as keyof typeof actual];
    if (value !== pinned) {
      throw new Error(`kubeadm ${release.release}: ${key} is ${value}, but lib/kubernetes-versions.ts says ${pinned}`);
    }
  }
}

export function openApiFile(minor: string): string {
  return path.join(OPENAPI_DIR, `v${minor}.json`);
}

const USAGE = `usage: npm run fetch:openapi

Writes generated/openapi/v<minor>.json for each Kubernetes release in lib/kubernetes-versions.ts,
from that release's own OpenAPI in the k8s.io/kubernetes Go module (its hash must be the one pinned).
Needs Go and the Go module proxy. Then regenerate the schemas: npm run generate:crds.
Takes no options.`;

if (require.main === module || process.argv[1] === __filename) {
  readCommandLine('fetch:openapi', USAGE, { options: {} });
  fs.mkdirSync(OPENAPI_DIR, { recursive: true });
  for (const release of KUBERNETES_RELEASES) {
    const swagger = JSON.parse(fs.readFileSync(download(release), 'utf8'));
    const out = { release: release.release, moduleHash: release.moduleHash, definitions: compact(swagger.definitions) };
    fs.writeFileSync(openApiFile(release.minor), JSON.stringify(out) + '\n');
    console.log(`${release.minor}: ${release.release} -> generated/openapi/v${release.minor}.json`);
  }
}
