/**
 * The dependency bot's configuration (renovate.json): Renovate's own validator accepts it, and
 * Renovate's own code, applied to this repository (test/renovate-findings.mjs), finds every version
 * the repository pins, each where it is written, under the right name and with the rule that groups
 * it. The pinned versions are read here from where they live (the add-ons' lock, the version table,
 * the environments, the workloads, package.json and every go.mod), not from a list: a version added
 * where no manager finds it fails this test.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { environmentNames, environmentNamed } from '../lib/environments';
import { KUBERNETES_RELEASES, platformOf, releaseOf, SupportPlatform } from '../lib/kubernetes-versions';
import type { ImageRef } from '../lib/parts/image';
import { ensureRenovate, INSTALL_TIMEOUT_MS } from './renovate-tool';

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, 'renovate.json');

// Renovate is not one of the project's own packages (tools/renovate/README.md says why): it is
// installed in tools/renovate/ from its lockfile before the first test, unless it already is.
let renovateDist: string;
beforeAll(() => {
  renovateDist = ensureRenovate();
}, INSTALL_TIMEOUT_MS + 60_000);

/** Renovate's validator on a configuration file, as a repository's config, migrations counted as errors. */
function validate(file: string) {
  const validator = path.join(renovateDist, 'config-validator.js');
  const result = spawnSync(process.execPath, [validator, '--strict', '--no-global', file], {
    cwd: path.dirname(file),
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A copy of renovate.json, changed, in a folder of its own. */
function changedCopy(change: (config: any) => void): string {
  const config = JSON.parse(fs.readFileSync(CONFIG, 'utf8'));
  change(config);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'renovate-')), 'renovate.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

describe("Renovate's config validator", () => {
  test('accepts renovate.json, strictly', () => {
    const { status, output } = validate(CONFIG);
    expect(output).toContain('Config validated successfully');
    expect(status).toBe(0);
  }, 60_000);

  test('refuses a broken copy: a custom manager whose pattern does not compile, and an option Renovate does not have', () => {
    const broken = changedCopy((config) => {
      config.customManagers[0].matchStrings = ['release: (?<currentValue>v[0-9.+'];
      config.packageRules[0].groupNameTypo = 'npm packages';
    });
    const { status, output } = validate(broken);
    expect(output).toContain('Invalid regExp for customManagers');
    expect(output).toContain('groupNameTypo');
    expect(status).not.toBe(0);
  }, 60_000);
});

/** A dependency as Renovate sees it, with what its packageRules make of it. */
interface Found {
  manager: string;
  description?: string | null;
  packageFile: string;
  depName: string;
  packageName: string;
  depType?: string;
  currentValue: string;
  datasource: string;
  registryUrl?: string | null;
  enabled: boolean;
  groupName: string | null;
  prBodyNotes: string[];
}
interface Findings {
  ignorePaths: string[];
  matchedFiles: Record<string, string[]>;
  found: Found[];
  ruled: Found[];
}

/** What Renovate's code finds with a configuration, and makes of the npm and Go dependencies given. */
function renovateFindings(configFile: string, deps: readonly Omit<Found, 'enabled' | 'groupName' | 'prBodyNotes'>[]) {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'renovate-findings.mjs'), ROOT, configFile], {
    cwd: ROOT,
    encoding: 'utf8',
    input: JSON.stringify({ deps }),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`test/renovate-findings.mjs failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Findings;
}

const LOCK = JSON.parse(fs.readFileSync(path.join(ROOT, 'addons', 'addons.lock.json'), 'utf8')) as {
  addons: Record<string, { version: string; source: Record<string, string> }>;
};

/** The product endoflife.date keeps each platform's release calendar under. */
const CALENDAR_OF: Record<SupportPlatform, string> = {
  upstream: 'kubernetes',
  eks: 'amazon-eks',
  gke: 'google-kubernetes-engine',
  aks: 'azure-kubernetes-service',
};

/** A version the repository pins, where it is written, as a custom manager must find it. */
interface Pinned {
  what: string;
  packageFile: string;
  depName: string;
  packageName: string;
  currentValue: string;
  datasource: string;
  registryUrl?: string;
}

/** Every version pinned where a custom manager must find it, read from where it lives. */
function pinnedVersions(): Pinned[] {
  const pinned: Pinned[] = [];
  for (const [name, addon] of Object.entries(LOCK.addons)) {
    const source = addon.source;
    const packageFile = 'addons/addons.lock.json';
    if (source.kind === 'go-module') {
      pinned.push({
        what: `add-on ${name}`,
        packageFile,
        depName: name,
        packageName: source.module,
        currentValue: source.moduleVersion,
        datasource: 'go',
      });
    } else if (source.kind === 'helm-repository') {
      pinned.push({
        what: `add-on ${name}`,
        packageFile,
        depName: name,
        packageName: source.chart,
        currentValue: addon.version,
        datasource: 'helm',
        registryUrl: source.repository,
      });
    } else {
      throw new Error(`add-on ${name}: a source kind this test does not know: ${source.kind}`);
    }
  }
  for (const release of KUBERNETES_RELEASES) {
    pinned.push({
      what: `the version table's Kubernetes ${release.minor}`,
      packageFile: 'lib/kubernetes-versions.ts',
      depName: 'k8s.io/kubernetes',
      packageName: 'k8s.io/kubernetes',
      currentValue: release.release,
      datasource: 'go',
    });
  }
  for (const name of environmentNames()) {
    const env = environmentNamed(name);
    const packageFile = `lib/environments/${name}.ts`;
    const platform = platformOf(env);
    if (platform === undefined) throw new Error(`${packageFile}: no platform calendar for its load balancer`);
    pinned.push({
      what: `environment ${name}'s Kubernetes minor`,
      packageFile,
      depName: `Kubernetes minor of ${CALENDAR_OF[platform]}`,
      packageName: CALENDAR_OF[platform],
      currentValue: env.kubernetesVersion,
      datasource: 'endoflife-date',
    });
    if (env.bootstrap) {
      pinned.push({
        what: `environment ${name}'s kubeadm release`,
        packageFile,
        depName: 'k8s.io/kubernetes',
        packageName: 'k8s.io/kubernetes',
        currentValue: env.bootstrap.kubernetesVersion,
        datasource: 'go',
      });
    }
  }
  // The workloads' images: every ImageRef a workload module exports (one may re-export another's),
  // pinned in the file that writes it.
  const workloads = path.join(ROOT, 'lib', 'workloads');
  const files = fs.readdirSync(workloads).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const images = new Map<string, { name: string; image: ImageRef }>();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every file of the folder, found at run time
    const exported = require(path.join(workloads, file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exported)) {
      const image = value as Partial<ImageRef> | null;
      if (typeof image?.repository !== 'string' || typeof image?.tag !== 'string') continue;
      images.set(`${image.repository}:${image.tag}`, { name, image: image as ImageRef });
    }
  }
  for (const { name, image } of images.values()) {
    const written = `{ repository: '${image.repository}', tag: '${image.tag}' }`;
    const file = files.find((f) => fs.readFileSync(path.join(workloads, f), 'utf8').includes(written));
    pinned.push({
      what: `image ${name}`,
      packageFile: `lib/workloads/${file ?? `(no file writes ${written})`}`,
      depName: image.repository,
      packageName: image.repository,
      currentValue: image.tag,
      datasource: 'docker',
    });
  }
  return pinned;
}

/** The modules a go.mod chooses: its direct requirements, the modules its `tool` directives build, and its replacements. */
function chosenModules(goMod: string): Array<{ module: string; version: string; depType: string }> {
  const text = fs.readFileSync(path.join(ROOT, goMod), 'utf8');
  const blockOrLines = (keyword: string): string[] => {
    const block = new RegExp(`^${keyword} \\(\\n([\\s\\S]*?)^\\)`, 'gm');
    const single = new RegExp(`^${keyword} ([^(\\n][^\\n]*)$`, 'gm');
    return [
      ...[...text.matchAll(block)].flatMap((m) => m[1].split('\n')),
      ...[...text.matchAll(single)].map((m) => m[1]),
    ]
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('//'));
  };
  const requires = blockOrLines('require').map((line) => {
    const [module, version] = line.split(/\s+/);
    return { module, version, indirect: /\/\/\s*indirect/.test(line) };
  });
  const chosen = requires
    .filter((r) => !r.indirect)
    .map((r) => ({ module: r.module, version: r.version, depType: 'require' }));
  for (const tool of blockOrLines('tool')) {
    // The module that provides a tool's package: the longest required module path it starts with.
    const provider = requires
      .filter((r) => `${tool}/`.startsWith(`${r.module}/`))
      .sort((a, b) => b.module.length - a.module.length)[0];
    if (!provider) throw new Error(`${goMod}: no requirement provides the tool ${tool}`);
    if (!chosen.some((c) => c.module === provider.module)) {
      chosen.push({ module: provider.module, version: provider.version, depType: 'indirect' });
    }
  }
  for (const line of blockOrLines('replace')) {
    const [, module, version] = /=>\s*(\S+)\s+(\S+)/.exec(line) ?? [];
    if (module) chosen.push({ module, version, depType: 'replace' });
  }
  return chosen;
}

/** The files git would commit (tracked, and new ones not ignored). */
function repositoryFiles(): string[] {
  const result = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter(Boolean);
}

/** The go.mod files outside the vendored add-on sources: the Go modules of the tools this project builds. */
const GO_MODS = repositoryFiles()
  .filter((f) => f === 'go.mod' || f.endsWith('/go.mod'))
  .filter((f) => !f.startsWith('addons/'))
  .sort();

/** The project's package.json, and Renovate's own in its tool folder (kept current like the others). */
const PACKAGE_JSONS = ['package.json', 'tools/renovate/package.json'];
const NPM_DEPS = PACKAGE_JSONS.flatMap((packageFile) => {
  const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, packageFile), 'utf8'));
  return (['dependencies', 'devDependencies'] as const).flatMap((depType) =>
    Object.entries<string>(packageJson[depType] ?? {}).map(([name, version]) => ({
      manager: 'npm',
      packageFile,
      depName: name,
      packageName: name,
      depType,
      currentValue: version,
      datasource: 'npm',
    })),
  );
});
const GO_DEPS = GO_MODS.flatMap((goMod) =>
  chosenModules(goMod).map(({ module, version, depType }) => ({
    manager: 'gomod',
    packageFile: goMod,
    depName: module,
    packageName: module,
    depType,
    currentValue: version,
    datasource: 'go',
  })),
);

/** The pinned versions no custom manager finds as written, each said in a line. */
function notFound(findings: Findings, pinned: readonly Pinned[]): string[] {
  return pinned
    .filter(
      (p) =>
        !findings.found.some(
          (f) =>
            f.packageFile === p.packageFile &&
            f.depName === p.depName &&
            f.packageName === p.packageName &&
            f.currentValue === p.currentValue &&
            f.datasource === p.datasource &&
            // Renovate writes a repository URL without a path with its trailing slash.
            (p.registryUrl === undefined || f.registryUrl?.replace(/\/$/, '') === p.registryUrl.replace(/\/$/, '')),
        ),
    )
    .map((p) => `${p.what}: ${p.packageName} ${p.currentValue} (${p.datasource}) in ${p.packageFile}`);
}

describe('what Renovate finds in this repository', () => {
  let findings: Findings;
  const pinned = pinnedVersions();
  beforeAll(() => {
    findings = renovateFindings(CONFIG, [...NPM_DEPS, ...GO_DEPS]);
  }, 120_000);

  test('every version the lock, the version table, the environments and the workloads pin, under its name', () => {
    expect(pinned.length).toBeGreaterThan(20);
    expect(notFound(findings, pinned)).toEqual([]);
  });

  test('nothing else: every dependency the custom managers find is one of those', () => {
    const unexpected = findings.found.filter(
      (f) =>
        !pinned.some(
          (p) =>
            p.packageFile === f.packageFile && p.packageName === f.packageName && p.currentValue === f.currentValue,
        ),
    );
    expect(unexpected.map((f) => `${f.packageFile}: ${f.packageName} ${f.currentValue}`)).toEqual([]);
  });

  test('both package.json files and every go.mod are read by the npm and gomod managers, none left out by ignorePaths', () => {
    expect(findings.matchedFiles.npm).toEqual(expect.arrayContaining(PACKAGE_JSONS));
    expect(GO_MODS.length).toBeGreaterThan(10);
    expect(findings.matchedFiles.gomod).toEqual(GO_MODS);
  });

  test("the vendored add-ons' own files are not: they are upstream's, updated only with their add-on", () => {
    const vendored = repositoryFiles().filter((f) => /^addons\/[^/]+\/source\//.test(f));
    expect(vendored.length).toBeGreaterThan(0);
    for (const files of Object.values(findings.matchedFiles)) {
      expect(files.filter((f) => f.startsWith('addons/'))).toEqual([]);
    }
  });

  test("the add-ons: one pull request each (Flux's two controllers: one for the pair), whose body says to run npm run addons:refresh", () => {
    const addons = findings.found.filter((f) => f.packageFile === 'addons/addons.lock.json');
    expect(addons.map((f) => f.depName).sort()).toEqual(Object.keys(LOCK.addons).sort());
    const fluxPair = ['flux-kustomize-controller', 'flux-source-controller'];
    for (const addon of addons) {
      expect({ addon: addon.depName, enabled: addon.enabled, groupName: addon.groupName }).toEqual({
        addon: addon.depName,
        enabled: true,
        groupName: fluxPair.includes(addon.depName) ? 'Flux controllers' : null,
      });
      if (fluxPair.includes(addon.depName)) {
        expect(addon.prBodyNotes.join('\n')).toContain("Flux's controllers move together");
      }
      expect(addon.prBodyNotes.join('\n')).toContain('npm run addons:refresh -- {{depName}} {{newVersion}}');
    }
  });

  test('the Kubernetes releases: one group, its body saying what to run; the minors of the environments: a pull request per platform', () => {
    for (const f of findings.found.filter((f) => f.packageName === 'k8s.io/kubernetes')) {
      expect({ at: f.packageFile, groupName: f.groupName, enabled: f.enabled }).toEqual({
        at: f.packageFile,
        groupName: 'Kubernetes release',
        enabled: true,
      });
      expect(f.prBodyNotes.join('\n')).toContain('npm run fetch:openapi');
    }
    for (const f of findings.found.filter((f) => f.datasource === 'endoflife-date')) {
      expect({ at: f.packageFile, groupName: f.groupName, enabled: f.enabled }).toEqual({
        at: f.packageFile,
        groupName: null,
        enabled: true,
      });
    }
    const kube = findings.ruled.filter((d) => d.packageFile === 'test/cluster/tools/kube/go.mod');
    expect(kube.map((d) => d.depName)).toContain('k8s.io/kubernetes');
    for (const d of kube)
      expect({ module: d.depName, groupName: d.groupName }).toEqual({
        module: d.depName,
        groupName: 'Kubernetes release',
      });
  });

  test('npm packages: all of both package.json files, one group', () => {
    const npm = findings.ruled.filter((d) => d.manager === 'npm');
    expect(npm.length).toBe(NPM_DEPS.length);
    expect(npm.map((d) => `${d.packageFile} ${d.depName}`)).toContain('tools/renovate/package.json renovate');
    for (const d of npm) {
      expect({ dep: d.depName, enabled: d.enabled, groupName: d.groupName }).toEqual({
        dep: d.depName,
        enabled: true,
        groupName: 'npm packages',
      });
    }
  });

  test('the Go modules of the test tools: every module a go.mod requires or builds a tool from, in its group', () => {
    const groupOf = (d: Found): string =>
      d.packageFile === 'scripts/addons/helm/go.mod'
        ? "helm, the add-ons' renderer"
        : d.packageFile === 'test/cluster/tools/kube/go.mod'
          ? 'Kubernetes release'
          : d.packageFile === 'test/cluster/images/tools/http-echo/go.mod'
            ? 'workload images'
            : 'Go modules of the test tools';
    const go = findings.ruled.filter((d) => d.manager === 'gomod' && d.enabled);
    for (const d of go) {
      expect({ at: d.packageFile, module: d.depName, groupName: d.groupName }).toEqual({
        at: d.packageFile,
        module: d.depName,
        groupName: groupOf(d),
      });
    }
    expect(go.map((d) => d.depName)).toEqual(
      expect.arrayContaining([
        'helm.sh/helm/v3',
        'github.com/containerd/containerd/v2',
        'sigs.k8s.io/kwok',
        'github.com/hashicorp/http-echo',
      ]),
    );
  });

  test("left to people, each for its reason: the stand-ins that follow kubeadm's images of the cluster's release, and gVisor's go branch", () => {
    const disabled = findings.ruled.filter((d) => d.manager === 'gomod' && !d.enabled);
    expect(disabled.map((d) => `${d.packageFile} ${d.depName}`).sort()).toEqual(
      [
        'test/cluster/images/tools/etcd/go.mod go.etcd.io/etcd/etcdctl/v3',
        'test/cluster/images/tools/etcd/go.mod go.etcd.io/etcd/etcdutl/v3',
        'test/cluster/images/tools/etcd/go.mod go.etcd.io/etcd/server/v3',
        'test/cluster/tools/coredns/go.mod github.com/coredns/coredns',
        'test/cluster/tools/gvisor/go.mod gvisor.dev/gvisor',
      ].sort(),
    );
    // They do follow them: the versions are kubeadm's for the release the test control plane builds.
    const cluster = releaseOf(
      /k8s\.io\/kubernetes (v\d+\.\d+)/
        .exec(fs.readFileSync(path.join(ROOT, 'test/cluster/tools/kube/go.mod'), 'utf8'))![1]
        .slice(1),
    );
    for (const d of disabled.filter((d) => d.depName.startsWith('go.etcd.io/'))) {
      expect(`${d.currentValue.slice(1)}-0`).toBe(cluster.kubeadmImages.etcd);
    }
    expect(disabled.find((d) => d.depName === 'github.com/coredns/coredns')?.currentValue).toBe(
      cluster.kubeadmImages.coreDns,
    );
  });

  test('a version no manager finds is reported: without the Helm chart manager, the chart add-on', () => {
    const withoutHelm = changedCopy((config) => {
      config.customManagers = config.customManagers.filter((m: any) => m.datasourceTemplate !== 'helm');
    });
    const charts = Object.entries(LOCK.addons)
      .filter(([, addon]) => addon.source.kind === 'helm-repository')
      .map(([name]) => name);
    expect(charts.length).toBeGreaterThan(0);
    const missing = notFound(renovateFindings(withoutHelm, []), pinned);
    expect(missing).toEqual(charts.map((name) => expect.stringMatching(new RegExp(`^add-on ${name}: `))));
  }, 120_000);
});
