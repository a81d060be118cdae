/**
 * The CustomResourceDefinitions the checks and the typed bindings are made from: those of the pinned
 * add-ons. Each add-on's entry in addons/addons.lock.json names its version, and
 * addons/<name>/upstream.yaml is upstream's own rendering of that version (its CRDs included, as
 * upstream ships them), so the schemas our objects are checked against are the ones the cluster will
 * serve once `deploy` has applied dist/<env>/00-<addon>-crds.yaml.
 *
 * Which CRDs: the custom resources this project creates (PROJECT_CRDS), and every custom resource an
 * add-on's own rendering creates, so that an add-on shipping, say, a default IPAddressPool is
 * checked like our objects are.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';

/** The repository: the lock and the add-ons' renderings are read from here unless a test names a copy. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

/** A custom resource this project creates, and the add-on that brings its definition. */
export interface ProjectCrd {
  /** The add-on's key in addons/addons.lock.json. */
  readonly addon: string;
  readonly group: string;
  /** The resource's plural name: the CRD is named `<plural>.<group>`. */
  readonly plural: string;
  /**
   * The name of its typed binding, generated/crd-bindings/<binding>-<group>.ts (the `name:=` of
   * `cdk8s import`), for the kinds the constructs build with a class; none for those only checked.
   */
  readonly binding?: string;
}

/** The custom resources the constructs create (lib/platform/, lib/delivery/), each with the add-on that defines it. */
export const PROJECT_CRDS: readonly ProjectCrd[] = [
  { addon: 'metallb', group: 'metallb.io', plural: 'ipaddresspools', binding: 'ipaddresspool' },
  { addon: 'metallb', group: 'metallb.io', plural: 'l2advertisements', binding: 'l2advertisement' },
  { addon: 'cert-manager', group: 'cert-manager.io', plural: 'certificates', binding: 'certificate' },
  { addon: 'cert-manager', group: 'cert-manager.io', plural: 'issuers', binding: 'issuer' },
  { addon: 'cert-manager', group: 'cert-manager.io', plural: 'clusterissuers', binding: 'clusterissuer' },
  { addon: 'external-secrets', group: 'external-secrets.io', plural: 'externalsecrets', binding: 'externalsecret' },
  { addon: 'external-secrets', group: 'external-secrets.io', plural: 'secretstores' },
  {
    addon: 'external-secrets',
    group: 'external-secrets.io',
    plural: 'clustersecretstores',
    binding: 'clustersecretstore',
  },
  {
    addon: 'prometheus-operator',
    group: 'monitoring.coreos.com',
    plural: 'servicemonitors',
    binding: 'servicemonitor',
  },
  { addon: 'prometheus-operator', group: 'monitoring.coreos.com', plural: 'podmonitors' },
  {
    addon: 'prometheus-operator',
    group: 'monitoring.coreos.com',
    plural: 'prometheusrules',
    binding: 'prometheusrule',
  },
  // The delivery objects (lib/delivery/, dist/<env>-delivery/): Flux's source and Kustomization, and
  // Argo CD's Application and AppProject, from the pinned delivery engines (role delivery-engine).
  {
    addon: 'flux-source-controller',
    group: 'source.toolkit.fluxcd.io',
    plural: 'gitrepositories',
    binding: 'gitrepository',
  },
  {
    addon: 'flux-kustomize-controller',
    group: 'kustomize.toolkit.fluxcd.io',
    plural: 'kustomizations',
    binding: 'kustomization',
  },
  { addon: 'argo-cd', group: 'argoproj.io', plural: 'applications', binding: 'application' },
  { addon: 'argo-cd', group: 'argoproj.io', plural: 'appprojects', binding: 'appproject' },
];

type Document = { [key: string]: any };

/** One CRD as the pinned add-on ships it. */
export interface PinnedCrd {
  readonly addon: string;
  /** The add-on's version in the lock. */
  readonly addonVersion: string;
  /** `<plural>.<group>`, the CRD's metadata.name. */
  readonly name: string;
  /** `<group>_<plural>`, upstream's own file naming (controller-gen's), for the validator module's name. */
  readonly fileBase: string;
  readonly binding?: string;
  /** The CustomResourceDefinition document, as upstream.yaml holds it. */
  readonly document: Document;
}

/** The lock file, addons/addons.lock.json: only what the generators read of it. */
interface Lock {
  addons: Record<string, { version: string }>;
}

export function lockFile(root: string): string {
  return path.join(root, 'addons', 'addons.lock.json');
}

export function upstreamFile(root: string, addon: string): string {
  return path.join(root, 'addons', addon, 'upstream.yaml');
}

function readLock(root: string): Lock {
  const file = lockFile(root);
  if (!fs.existsSync(file)) {
    throw new Error(
      `${path.relative(root, file)} not found: the CRDs come from the pinned add-ons (npm run addons:refresh writes it)`,
    );
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Lock;
}

/** Every document of an add-on's rendering, in upstream's order. */
export function upstreamDocuments(root: string, addon: string): Document[] {
  const file = upstreamFile(root, addon);
  if (!fs.existsSync(file)) {
    throw new Error(`${path.relative(root, file)} not found: the add-on "${addon}" is in the lock but not rendered`);
  }
  return loadAll(fs.readFileSync(file, 'utf8')).filter((d): d is Document => d !== null && typeof d === 'object');
}

const isCrd = (d: Document): boolean =>
  d.kind === 'CustomResourceDefinition' && String(d.apiVersion).startsWith('apiextensions.k8s.io/');

/**
 * The CRDs the generators work from: PROJECT_CRDS and the custom resources the add-ons' renderings
 * create, each from its add-on's upstream.yaml, sorted by name. A CRD named here that its add-on does
 * not ship (renamed or dropped by a new version) stops the generator, naming the add-on's file.
 */
export function pinnedCrds(root: string = REPO_ROOT): PinnedCrd[] {
  const lock = readLock(root);
  const documentsOf = new Map<string, Document[]>();
  const documents = (addon: string): Document[] => {
    if (!documentsOf.has(addon)) documentsOf.set(addon, upstreamDocuments(root, addon));
    return documentsOf.get(addon)!;
  };
  const wanted = new Map<string, { addon: string; binding?: string }>();
  for (const crd of PROJECT_CRDS) {
    if (!lock.addons[crd.addon]) {
      throw new Error(
        `${path.relative(root, lockFile(root))}: no add-on "${crd.addon}", which brings the CRD ${crd.plural}.${crd.group} ` +
          `the constructs create (scripts/generate/pinned-crds.ts PROJECT_CRDS); add-ons in the lock: ${Object.keys(lock.addons).sort().join(', ')}`,
      );
    }
    wanted.set(`${crd.plural}.${crd.group}`, { addon: crd.addon, binding: crd.binding });
  }
  // The custom resources an add-on's own rendering creates, defined by any pinned add-on's CRDs.
  const definedBy = new Map<string, { addon: string; name: string }>();
  for (const addon of Object.keys(lock.addons).sort()) {
    for (const d of documents(addon).filter(isCrd)) {
      for (const version of d.spec.versions ?? []) {
        definedBy.set(`${d.spec.group}/${version.name}/${d.spec.names.kind}`, { addon, name: d.metadata.name });
      }
    }
  }
  for (const addon of Object.keys(lock.addons).sort()) {
    for (const d of documents(addon)) {
      const definer = definedBy.get(`${d.apiVersion}/${d.kind}`);
      if (definer && !wanted.has(definer.name)) wanted.set(definer.name, { addon: definer.addon });
    }
  }
  const pinned: PinnedCrd[] = [];
  for (const [name, { addon, binding }] of wanted) {
    const document = documents(addon).find((d) => isCrd(d) && d.metadata?.name === name);
    if (!document) {
      const shipped = documents(addon)
        .filter(isCrd)
        .map((d) => d.metadata.name)
        .sort();
      throw new Error(
        `${path.relative(root, upstreamFile(root, addon))} (${addon} ${lock.addons[addon].version}) has no CustomResourceDefinition ` +
          `"${name}"; its CRDs: ${shipped.join(', ') || 'none'}`,
      );
    }
    const group: string = document.spec.group;
    pinned.push({
      addon,
      addonVersion: lock.addons[addon].version,
      name,
      fileBase: `${group}_${document.spec.names.plural}`,
      binding,
      document,
    });
  }
  return pinned.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
