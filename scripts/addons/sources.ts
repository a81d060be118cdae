/**
 * Where each platform add-on comes from and how upstream renders it: one recipe per add-on, read by
 * `npm run addons:refresh` (scripts/addons/refresh.ts), which writes addons/<name>/ and its entry in
 * addons/addons.lock.json from it.
 *
 * A recipe says only what upstream is: the source (a Go module whose zip carries the repository's
 * charts and manifests, or a chart repository), the files taken from it, how upstream's own install
 * renders them (the manifest as published, or the chart with its defaults and only the values it
 * needs to render at all), the address a user would fetch the same files from, and the Kubernetes
 * range the add-on's documentation states for that version. Our settings are not here: they are the
 * add-ons' constructs (lib/addons/), which patch upstream's rendering.
 */
import type { AddonRender, DELIVERY_ENGINE, KubernetesRange } from '../../lib/addons/lock';

/** Where the files come from, for a given version. */
export type RecipeSource =
  | {
      readonly kind: 'go-module';
      readonly module: string;
      /** The files and folders taken from the module, relative to its root. */
      readonly paths: readonly string[];
      readonly userUrl: (version: string) => string;
    }
  | {
      readonly kind: 'helm-repository';
      readonly repository: string;
      readonly chart: string;
      /** The chart folder as `helm pull --untar` writes it: the chart's name. */
      readonly paths: readonly string[];
      /** Where a user gets it (`helm pull <chart> --repo <repository> --version <version>`). */
      readonly userUrl: (version: string) => string;
      /**
       * The same chart in the chart's source repository at the release's tag, for `--from <folder>`
       * when the chart repository cannot be reached: what the folder given is.
       */
      readonly chartSourceTag: (version: string) => string;
      /**
       * Set for a chart whose release adds files when it packages the chart folder (its CRDs, its
       * subcharts), so that the folder alone is not the release: `--from <folder>` then takes a
       * checkout of the chart's source repository, not a chart folder.
       */
      readonly sourceRepository?: SourceRepositoryLayout;
    };

/**
 * A chart vendored from its source repository (`--from <folder>`) rather than from its chart
 * repository: the recipe's paths in that repository at the commit that releases the chart, byte for
 * byte, rendered with `render` in place of the recipe's chart, CRDs and dependencies (what the
 * release's packaging would have done). The lock's `source.paths` say which layout is vendored.
 */
export interface SourceRepositoryLayout {
  /** The repository, as `github.com/<owner>/<name>`. */
  readonly repository: string;
  /** The commit that releases each version's chart: where `--from` must be checked out. */
  readonly releaseCommits: Readonly<Record<string, string>>;
  /** The files and folders taken, relative to the repository's root. */
  readonly paths: readonly string[];
  readonly render: Pick<Extract<AddonRender, { tool: 'helm' }>, 'chart' | 'manifestsBefore' | 'dependenciesLeftOut'>;
  /** What the chart's release adds that the repository's files lack, and what the rendering does instead. */
  readonly note: string;
}

/** How upstream renders the vendored files; for a chart, everything but the helm version (scripts/addons/helm/go.mod). */
export type RecipeRender =
  | Extract<AddonRender, { tool: 'manifest' }>
  | (Omit<Extract<AddonRender, { tool: 'helm' }>, 'helm' | 'chartMetadata'> & {
      /** Chart.yaml fields set in the rendering's copy, from the version being rendered. */
      readonly chartMetadata?: {
        readonly version?: (version: string) => string;
        readonly appVersion?: (version: string) => string;
        readonly note: string;
      };
    });

export interface AddonRecipe {
  /** The project's home page. */
  readonly project: string;
  readonly source: RecipeSource;
  readonly render: RecipeRender;
  /**
   * The Kubernetes range the add-on's documentation states for `forVersion`. The refresh refuses
   * another version until this is read again for it: the range is a fact about one version.
   */
  readonly kubernetes: KubernetesRange & { readonly forVersion: string };
  /** Set for a delivery engine, pinned only for its CRDs (lib/addons/lock.ts DELIVERY_ENGINE); written into its lock entry. */
  readonly role?: typeof DELIVERY_ENGINE;
}

const githubTree = (repository: string, folder: string) => (version: string) =>
  `https://github.com/${repository}/tree/v${version}/${folder}`;
const githubFile = (repository: string, file: string) => (version: string) =>
  `https://github.com/${repository}/blob/v${version}/${file}`;

/**
 * external-secrets: the commit of github.com/external-secrets/external-secrets that releases each
 * chart version (its Chart.yaml says that version), by version.
 */
const EXTERNAL_SECRETS_CHART_RELEASES: Readonly<Record<string, string>> = {
  '2.8.0': '6f1eed573faac17c3272c576cfd419a5b40db25d',
};

/**
 * The delivery engines (lib/addons/lock.ts DELIVERY_ENGINE): only their CRDs are vendored, to check the
 * rendered delivery objects against. Flux's pair is the one the Flux release the project follows
 * installs: flux2 v2.9.5's manifests/bases/{source,kustomize}-controller/kustomization.yaml fetch the
 * controllers' v1.9.5 release assets, and its go.mod requires their api modules at v1.9.5. The two
 * move together, with a Flux release.
 */
const FLUX_RELEASE = 'v2.9.5';
const fluxKubernetes = (forVersion: string): AddonRecipe['kubernetes'] => ({
  forVersion,
  min: '1.33',
  max: null,
  documentation: `https://github.com/fluxcd/flux2/blob/${FLUX_RELEASE}/cmd/flux/check.go`,
  note:
    `The Flux release that installs this controller (flux2 ${FLUX_RELEASE}) checks a cluster for Kubernetes >=1.33.0 ` +
    '(`flux check --pre`, kubernetesConstraints in cmd/flux/check.go) and states no maximum; its conformance workflow ' +
    '(.github/workflows/conformance.yaml) tests 1.34, 1.35 and 1.36.',
});

const ENGINE_RECIPES: Readonly<Record<string, AddonRecipe>> = {
  'flux-source-controller': {
    project: 'https://fluxcd.io/flux/components/source/',
    role: 'delivery-engine',
    source: {
      kind: 'go-module',
      module: 'github.com/fluxcd/source-controller',
      paths: ['config/crd/bases'],
      userUrl: githubTree('fluxcd/source-controller', 'config/crd/bases'),
    },
    // The same CRDs as the release asset source-controller.crds.yaml that `flux install` applies.
    render: {
      tool: 'manifest',
      files: [
        'config/crd/bases/source.toolkit.fluxcd.io_buckets.yaml',
        'config/crd/bases/source.toolkit.fluxcd.io_externalartifacts.yaml',
        'config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml',
        'config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml',
        'config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml',
        'config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml',
      ],
    },
    kubernetes: fluxKubernetes('1.9.5'),
  },
  'flux-kustomize-controller': {
    project: 'https://fluxcd.io/flux/components/kustomize/',
    role: 'delivery-engine',
    source: {
      kind: 'go-module',
      module: 'github.com/fluxcd/kustomize-controller',
      paths: ['config/crd/bases'],
      userUrl: githubTree('fluxcd/kustomize-controller', 'config/crd/bases'),
    },
    render: { tool: 'manifest', files: ['config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml'] },
    kubernetes: fluxKubernetes('1.9.5'),
  },
  'argo-cd': {
    project: 'https://argo-cd.readthedocs.io',
    role: 'delivery-engine',
    source: {
      kind: 'go-module',
      module: 'github.com/argoproj/argo-cd/v3',
      // Only the two CRDs the rendered Applications and AppProject are checked against; Argo CD
      // itself is run by EKS's managed capability, never from this repository.
      paths: ['manifests/crds/application-crd.yaml', 'manifests/crds/appproject-crd.yaml'],
      userUrl: githubTree('argoproj/argo-cd', 'manifests/crds'),
    },
    render: {
      tool: 'manifest',
      files: ['manifests/crds/application-crd.yaml', 'manifests/crds/appproject-crd.yaml'],
    },
    kubernetes: {
      forVersion: '3.6.2',
      min: '1.34',
      max: '1.37',
      documentation: 'https://argo-cd.readthedocs.io/en/release-3.6/operator-manual/installation/#tested-versions',
      note: "The installation guide's table of tested versions (docs/operator-manual/tested-kubernetes-versions.md at v3.6.2): Argo CD 3.6 is tested with Kubernetes 1.34, 1.35, 1.36 and 1.37.",
    },
  },
};

/** The recipes, by name: the lock's key, and for a platform add-on the name an environment's `addons` uses. */
export const RECIPES: Readonly<Record<string, AddonRecipe>> = {
  'kube-network-policies': {
    project: 'https://github.com/kubernetes-sigs/kube-network-policies',
    source: {
      kind: 'go-module',
      module: 'sigs.k8s.io/kube-network-policies',
      paths: ['install.yaml'],
      userUrl: githubFile('kubernetes-sigs/kube-network-policies', 'install.yaml'),
    },
    render: { tool: 'manifest', files: ['install.yaml'] },
    kubernetes: {
      forVersion: '0.8.0',
      min: '1.32',
      max: null,
      documentation: 'https://github.com/kubernetes-sigs/kube-network-policies/blob/v0.8.0/go.mod',
      note:
        'The project documents no Kubernetes range. Recorded: the minor of the Kubernetes client libraries this release is built with ' +
        '(k8s.io/client-go v0.32.3 in go.mod); it uses only the stable networking.k8s.io/v1 NetworkPolicy API. No maximum is stated.',
    },
  },
  metallb: {
    project: 'https://metallb.io',
    source: {
      kind: 'go-module',
      module: 'go.universe.tf/metallb',
      paths: ['config/manifests/metallb-native.yaml'],
      userUrl: githubTree('metallb/metallb', 'config/manifests'),
    },
    render: { tool: 'manifest', files: ['config/manifests/metallb-native.yaml'] },
    kubernetes: {
      forVersion: '0.16.2',
      min: '1.13',
      max: null,
      documentation: 'https://metallb.io/#requirements',
      note: 'MetalLB documents a minimum only ("Kubernetes 1.13.0 or later", website/content/_index.md at v0.16.2); no maximum is stated.',
    },
  },
  'local-path-provisioner': {
    project: 'https://github.com/rancher/local-path-provisioner',
    source: {
      kind: 'go-module',
      module: 'github.com/rancher/local-path-provisioner',
      paths: ['deploy/local-path-storage.yaml'],
      userUrl: githubFile('rancher/local-path-provisioner', 'deploy/local-path-storage.yaml'),
    },
    render: { tool: 'manifest', files: ['deploy/local-path-storage.yaml'] },
    kubernetes: {
      forVersion: '0.0.30',
      min: '1.12',
      max: null,
      documentation: 'https://github.com/rancher/local-path-provisioner/blob/v0.0.30/README.md#requirement',
      note: 'The README states a minimum only ("Kubernetes v1.12+"); no maximum is stated.',
    },
  },
  'prometheus-operator': {
    project: 'https://prometheus-operator.dev',
    source: {
      kind: 'go-module',
      module: 'github.com/prometheus-operator/prometheus-operator',
      paths: ['bundle.yaml'],
      userUrl: githubFile('prometheus-operator/prometheus-operator', 'bundle.yaml'),
    },
    render: { tool: 'manifest', files: ['bundle.yaml'] },
    kubernetes: {
      forVersion: '0.85.0',
      min: '1.16',
      max: null,
      documentation: 'https://prometheus-operator.dev/docs/getting-started/compatibility/',
      note:
        "The compatibility page states a minimum only (Kubernetes >= v1.16.0, for apiextensions.k8s.io/v1 CRDs) and defers the rest to client-go's compatibility matrix " +
        '(this release is built with client-go v0.33.3); no maximum is stated.',
    },
  },
  flannel: {
    project: 'https://github.com/flannel-io/flannel',
    source: {
      kind: 'go-module',
      module: 'github.com/flannel-io/flannel',
      paths: ['chart/kube-flannel'],
      userUrl: githubTree('flannel-io/flannel', 'chart/kube-flannel'),
    },
    render: {
      tool: 'helm',
      chart: 'chart/kube-flannel',
      releaseName: 'flannel',
      // The namespace of flannel's own manifest (Documentation/kube-flannel.yml) and install guide.
      namespace: 'kube-flannel',
      values: {},
    },
    kubernetes: {
      forVersion: '0.28.10',
      min: '1.17',
      max: null,
      documentation: 'https://github.com/flannel-io/flannel/blob/v0.28.10/README.md#deploying-flannel-manually',
      note: 'The README states a minimum only ("For Kubernetes v1.17+"); no maximum is stated.',
    },
  },
  'cert-manager': {
    project: 'https://cert-manager.io',
    source: {
      kind: 'go-module',
      module: 'github.com/cert-manager/cert-manager',
      paths: ['deploy/charts/cert-manager'],
      userUrl: githubTree('cert-manager/cert-manager', 'deploy/charts/cert-manager'),
    },
    render: {
      tool: 'helm',
      chart: 'deploy/charts/cert-manager',
      releaseName: 'cert-manager',
      namespace: 'cert-manager',
      // The chart renders no CRDs unless asked; cert-manager's install guide asks (crds.enabled=true).
      values: { crds: { enabled: true } },
      chartMetadata: {
        version: (version) => `v${version}`,
        appVersion: (version) => `v${version}`,
        note: 'The chart in the repository says version and appVersion v0.0.0 ("set automatically by the release tool", its Chart.yaml); the release sets both to the release\'s tag, which the image tags follow.',
      },
    },
    kubernetes: {
      forVersion: '1.21.2',
      min: '1.33',
      max: '1.36',
      documentation: 'https://cert-manager.io/docs/releases/',
      note: 'The supported releases table: cert-manager 1.21 supports Kubernetes 1.33 to 1.36 (and tests the same range).',
    },
  },
  'external-secrets': {
    project: 'https://external-secrets.io',
    source: {
      kind: 'helm-repository',
      repository: 'https://charts.external-secrets.io',
      chart: 'external-secrets',
      paths: ['external-secrets'],
      userUrl: () => 'https://charts.external-secrets.io',
      chartSourceTag: (version) =>
        `a checkout of the chart's source repository, github.com/external-secrets/external-secrets, at commit ${EXTERNAL_SECRETS_CHART_RELEASES[version] ?? '(none recorded)'}, the chart release of ${version}`,
      sourceRepository: {
        repository: 'github.com/external-secrets/external-secrets',
        // The chart is released by a commit after the release's tag ("chore: release helm chart
        // <version>"): at the tag v2.8.0, Chart.yaml still says 2.7.0.
        releaseCommits: EXTERNAL_SECRETS_CHART_RELEASES,
        paths: ['deploy/charts/external-secrets', 'deploy/crds/bundle.yaml'],
        render: {
          chart: 'deploy/charts/external-secrets',
          manifestsBefore: ['deploy/crds/bundle.yaml'],
          dependenciesLeftOut: {
            names: ['bitwarden-sdk-server'],
            note: "An optional subchart (condition bitwarden-sdk-server.enabled, false by default) from an OCI registry, which the chart's release adds to the archive and the source repository does not hold; helm refuses a chart whose listed dependency is missing even when disabled.",
          },
        },
        note:
          "The chart's release fills templates/crds/ from deploy/crds/bundle.yaml (hack/helm.generate.sh: each CRD behind the values installCRDs and crds.*, " +
          'all true by default) and adds the bitwarden-sdk-server subchart (chart-releaser packages with its dependencies). From the repository, the rendering ' +
          "puts deploy/crds/bundle.yaml's CRDs before the chart's objects and leaves the subchart out, which the chart's defaults leave out too.",
      },
    },
    // From the chart repository: the archive (folder external-secrets/) carries its CRDs as templates,
    // rendered once by helm with installCRDs (the chart's default), and the subchart, disabled by default.
    render: {
      tool: 'helm',
      chart: 'external-secrets',
      releaseName: 'external-secrets',
      namespace: 'external-secrets',
      values: { installCRDs: true },
    },
    kubernetes: {
      forVersion: '2.8.0',
      min: '1.35',
      max: '1.36',
      documentation: 'https://external-secrets.io/latest/introduction/stability-support/',
      note:
        'The support table lists Kubernetes 1.35-1.36 for 2.8 (the minors its tests run, the only ones it guarantees); 2.9 lists 1.36 only, so 2.8.0 is the last ' +
        "release that supports 1.35. The chart's kubeVersion accepts >= 1.19. 2.8 reached its end of life upstream on Aug 07, 2026 (the release of 2.9): " +
        "since then it gets no image rebuilds or dependency updates. Upgrade to 2.9 together with the clusters' move to 1.36.",
    },
  },
  'metrics-server': {
    project: 'https://github.com/kubernetes-sigs/metrics-server',
    source: {
      kind: 'go-module',
      module: 'sigs.k8s.io/metrics-server',
      paths: ['charts/metrics-server'],
      userUrl: githubTree('kubernetes-sigs/metrics-server', 'charts/metrics-server'),
    },
    render: {
      tool: 'helm',
      chart: 'charts/metrics-server',
      releaseName: 'metrics-server',
      namespace: 'kube-system',
      values: {},
      chartMetadata: {
        appVersion: (version) => version,
        note: 'The chart (3.13.1) is released on tags of its own and at this tag still names Metrics Server 0.8.1 as its appVersion, which the image tag follows; set to the release being vendored.',
      },
    },
    kubernetes: {
      forVersion: '0.9.1',
      min: '1.34',
      max: null,
      documentation: 'https://github.com/kubernetes-sigs/metrics-server/blob/v0.9.1/README.md#compatibility-matrix',
      note: 'The compatibility matrix states a minimum only for 0.9.x ("1.34+"); no maximum is stated.',
    },
  },
  traefik: {
    project: 'https://traefik.io',
    source: {
      kind: 'helm-repository',
      repository: 'https://traefik.github.io/charts',
      chart: 'traefik',
      paths: ['traefik'],
      userUrl: () => 'https://traefik.github.io/charts',
      chartSourceTag: (version) =>
        `the folder traefik/ of the chart's source repository, github.com/traefik/traefik-helm-chart, at its tag v${version}`,
    },
    render: {
      tool: 'helm',
      chart: 'traefik',
      releaseName: 'traefik',
      namespace: 'traefik',
      values: {},
    },
    kubernetes: {
      forVersion: '41.3.0',
      min: '1.25',
      max: null,
      documentation: 'https://github.com/traefik/traefik-helm-chart/blob/v41.3.0/traefik/Chart.yaml',
      note:
        "The chart's kubeVersion is '>=1.25.0-0', a minimum only; Traefik's own documentation says it supports at least the latest three Kubernetes minors " +
        '(https://doc.traefik.io/traefik/includes/kubernetes-requirements). No maximum is stated.',
    },
  },
  'aws-load-balancer-controller': {
    project: 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/',
    source: {
      kind: 'helm-repository',
      repository: 'https://aws.github.io/eks-charts',
      chart: 'aws-load-balancer-controller',
      paths: ['aws-load-balancer-controller'],
      userUrl: () => 'https://aws.github.io/eks-charts',
      // The chart is kept in the controller's own repository; its release script
      // (scripts/sync-to-eks-charts.sh) copies the folder unchanged into github.com/aws/eks-charts
      // (stable/aws-load-balancer-controller), whose release packages it into the chart repository.
      chartSourceTag: (version) =>
        `the folder helm/aws-load-balancer-controller/ of the controller's repository, github.com/kubernetes-sigs/aws-load-balancer-controller, at its tag v${version}`,
    },
    render: {
      tool: 'helm',
      chart: 'aws-load-balancer-controller',
      releaseName: 'aws-load-balancer-controller',
      // The namespace of the controller's installation guide and of EKS's.
      namespace: 'kube-system',
      values: {
        // Required: the chart refuses to render without it. A placeholder here; each environment's
        // cluster name is set by lib/addons/aws-load-balancer-controller.ts.
        clusterName: 'set-by-the-environment',
        // The chart's default (false) has helm generate a new CA and webhook key pair on every
        // rendering (genCA in its _helpers.tpl) and write the private key into a Secret: upstream.yaml
        // would hold a private key and change at every rendering, so no hash could pin it. With
        // cert-manager (the chart's documented alternative, which every environment that uses this
        // controller installs), cert-manager issues the webhook's certificate in the cluster.
        enableCertManager: true,
      },
    },
    kubernetes: {
      forVersion: '3.5.0',
      min: '1.22',
      max: null,
      documentation:
        'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/installation/#supported-kubernetes-versions',
      note:
        'The installation guide states a minimum only ("AWS Load Balancer Controller v2.5.0+ requires Kubernetes 1.22+", docs/deploy/installation.md at v3.5.0; ' +
        "the chart's README says the same of chart 1.5.0+, and its Chart.yaml has no kubeVersion). No maximum is stated.",
    },
  },
  ...ENGINE_RECIPES,
};

/** The recipe of an add-on, or an error listing the known ones. */
export function recipeOf(name: string): AddonRecipe {
  const recipe = RECIPES[name];
  if (recipe === undefined) {
    throw new Error(`unknown add-on "${name}"; the add-ons are ${Object.keys(RECIPES).sort().join(', ')}`);
  }
  return recipe;
}
