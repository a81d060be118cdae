/**
 * An environment's add-ons: each bad input the synth refuses (an unknown add-on, an unknown or
 * malformed setting, a pinned version outside the environment's Kubernetes range, vendored files that
 * do not hash to the lock, an add-on the environment's own fields need and do not install), each
 * refused on its field, naming the environment, the add-on and what is allowed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS } from '.';
import { withChange } from '../../test/helpers';
import { ADDONS } from '../addons';
import { LOCK_FILE, selectableAddonNames } from '../addons/lock';
import { ValidationError } from '../k8s/validation';
import { WORKLOADS } from '../workloads';
import { validateEnvironment } from './validate';

const { lab, 'prod-eks': eks } = ENVIRONMENTS;
const REPOSITORY = path.resolve(__dirname, '..', '..');

/** Every problem validateEnvironment reports, one a line. */
function problemsOf(env: unknown, addonsRoot?: string): string[] {
  try {
    validateEnvironment(env, { workloads: WORKLOADS, addons: ADDONS, ...(addonsRoot ? { addonsRoot } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message.split('\n');
  }
  return [];
}

/** A repository holding a copy of this one's addons/ (the lock and the given add-ons' folders), changed by `change`. */
function addonsCopy(names: readonly string[], change: (root: string) => void): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-'));
  fs.mkdirSync(path.join(root, 'addons'));
  fs.copyFileSync(path.join(REPOSITORY, LOCK_FILE), path.join(root, LOCK_FILE));
  for (const name of names) {
    fs.cpSync(path.join(REPOSITORY, 'addons', name), path.join(root, 'addons', name), { recursive: true });
  }
  change(root);
  return root;
}

const KNOWN = selectableAddonNames().join(', ');

test('every environment validates with its add-ons', () => {
  for (const env of Object.values(ENVIRONMENTS)) {
    expect(problemsOf(env)).toEqual([]);
  }
});

test('an add-on the project cannot render is refused, with the known ones and the closest', () => {
  const env = withChange(lab, (e) => {
    e.addons.metalb = {};
  });
  expect(problemsOf(env)).toContain(
    `environment "lab": addons.metalb: unknown field: {}: did you mean "metallb"? the add-ons known are ${KNOWN} (lib/addons/, pinned in addons/addons.lock.json)`,
  );
});

test.each(['flux-source-controller', 'flux-kustomize-controller', 'argo-cd'])(
  'the delivery engine %s, pinned in the lock for its CRDs, is refused as an add-on, saying what it is',
  (engine) => {
    const env = withChange(lab, (e) => {
      e.addons[engine] = {};
    });
    expect(problemsOf(env)).toEqual([
      `environment "lab": addons.${engine}: Invalid value: {}: one of the platform add-ons (${KNOWN}): ${engine} is a delivery engine ` +
        '(role "delivery-engine" in addons/addons.lock.json), pinned only for the CRDs that check the delivery objects (dist/<env>-delivery/); ' +
        "it is installed by flux install or the cloud's extension, and an environment chooses its engine with delivery.engine",
    ]);
    expect(KNOWN).not.toContain(engine);
  },
);

test('a setting the add-on does not have is refused, with the settings it has', () => {
  const env = withChange(lab, (e) => {
    e.addons.traefik = { replica: 2 };
  });
  expect(problemsOf(env)).toEqual([
    'environment "lab": addons.traefik.replica: unknown field: 2: did you mean "replicas"? the fields here are replicas, resources, logLevel',
  ]);
});

test("a setting's value is checked against the add-on's schema", () => {
  const env = withChange(lab, (e) => {
    e.addons.traefik = { replicas: 0, logLevel: 'info' };
    e.addons['cert-manager'] = {
      resources: { requests: { cpu: '2', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } },
    };
  });
  const problems = problemsOf(env);
  expect(problems).toContain('environment "lab": addons.traefik.replicas: Invalid value: 0: a whole number >= 1');
  expect(problems.find((p) => p.startsWith('environment "lab": addons.traefik.logLevel: '))).toContain('"INFO"');
  expect(problems).toContain(
    'environment "lab": addons.cert-manager.resources.requests.cpu: Invalid value: "2": at most the limit (1)',
  );
  expect(problems).toHaveLength(3);
});

test("an add-on's settings are an object", () => {
  const env = withChange(lab, (e) => {
    e.addons.metallb = true;
  });
  expect(problemsOf(env)).toEqual([
    `environment "lab": addons.metallb: Invalid value: true: an object of metallb's settings ({} for upstream's defaults)`,
  ]);
});

test("a pinned version whose documented Kubernetes range excludes the environment's minor is refused", () => {
  const root = addonsCopy(Object.keys(lab.addons), (r) => {
    const file = path.join(r, LOCK_FILE);
    const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
    lock.addons.traefik.kubernetes = { ...lock.addons.traefik.kubernetes, min: '1.29', max: '1.34' };
    fs.writeFileSync(file, JSON.stringify(lock));
  });
  const documentation = JSON.parse(fs.readFileSync(path.join(root, LOCK_FILE), 'utf8')).addons.traefik.kubernetes
    .documentation;
  expect(problemsOf(lab, root)).toEqual([
    `environment "lab": addons.traefik: Invalid value: "41.3.0": a version of traefik that supports the environment's kubernetesVersion "1.35": ` +
      `the pinned traefik 41.3.0 supports Kubernetes 1.29 to 1.34 (${documentation}); ` +
      'refresh it (npm run addons:refresh -- traefik <version>) or choose another kubernetesVersion',
  ]);
});

test('vendored files that do not hash to the lock are refused, naming the add-on and the hash', () => {
  const root = addonsCopy(Object.keys(lab.addons), (r) => {
    const file = path.join(r, 'addons', 'metallb', 'upstream.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('metallb-system', 'metallb-systen'));
  });
  const problems = problemsOf(lab, root);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(
    /^environment "lab": addons\.metallb: Invalid value: "0\.16\.2": vendored files that hash to what addons\/addons\.lock\.json records: add-on "metallb": upstreamHash: addons\/metallb\/upstream\.yaml hashes to sha256:[0-9a-f]{64}, but addons\/addons\.lock\.json records sha256:[0-9a-f]{64}/,
  );
});

describe('an add-on the environment relies on must be installed', () => {
  test.each([
    ['lab', 'metallb', 'loadBalancing.provider', '"metallb"'],
    ['lab', 'cert-manager', 'loadBalancing.ingress.clusterIssuer', '"lab-ca"'],
    ['lab', 'traefik', 'loadBalancing.ingress.className', '"traefik"'],
    ['lab', 'local-path-provisioner', 'storage.provisioner', '"rancher.io/local-path"'],
    ['prod-eks', 'external-secrets', 'identity.secrets.provider', '"aws-secrets-manager"'],
    ['prod-eks', 'prometheus-operator', 'observability.stack', '"prometheus-operator"'],
    ['prod-eks', 'aws-load-balancer-controller', 'loadBalancing.provider', '"aws-load-balancer-controller"'],
  ])('%s without %s', (name, addon, field, value) => {
    const base = ENVIRONMENTS[name];
    const env = withChange(base, (e) => {
      delete e.addons[addon];
    });
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      `environment "${base.name}": ${field}: Invalid value: ${value}: an environment that installs the add-on "${addon}" (addons.${addon}), or whose providedByPlatform names "${addon}" as a piece the platform runs: `,
    );
  });
});

test("an add-on's needs (the AWS Load Balancer Controller needs cert-manager, which signs its webhook certificate) must be installed", () => {
  const env = withChange(eks, (e) => {
    delete e.addons['cert-manager'];
  });
  const installed = Object.keys(eks.addons)
    .filter((a) => a !== 'cert-manager')
    .sort()
    .join(', ');
  expect(problemsOf(env)).toContain(
    `environment "prod-eks": addons.aws-load-balancer-controller: Invalid value: ${JSON.stringify(eks.addons['aws-load-balancer-controller'])}: ` +
      'an environment that also installs the add-on "cert-manager" (addons.cert-manager): aws-load-balancer-controller needs it running ' +
      `before its own objects are applied (needs in lib/addons/aws-load-balancer-controller.ts); the add-ons installed: ${installed}`,
  );
});

test('what the platform provides is named with its documentation, an https URL', () => {
  const env = withChange(eks, (e) => {
    e.providedByPlatform[0].documentation = 'docs.aws.amazon.com/eks';
    e.providedByPlatform[1].piece = ' ';
  });
  expect(problemsOf(env)).toEqual([
    'environment "prod-eks": providedByPlatform[0].documentation: Invalid value: "docs.aws.amazon.com/eks": the https URL of the provider\'s documentation',
    'environment "prod-eks": providedByPlatform[1].piece: Invalid value: " ": what the platform installs, as the provider names it',
  ]);
});
