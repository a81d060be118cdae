/**
 * The refresh command, run as a maintainer runs it (through speed/tsrun.js, as npm does) in a copy of
 * the project. Reproducing kube-network-policies downloads its module from the Go module proxy and
 * checks it against the Go checksum database (network: allowed here and in CI); the rest needs none.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { filesUnder } from '../../lib/addons/lock';
import { projectCopy, ROOT } from '../../test/project-copy';

jest.setTimeout(180_000);

let dir: string;
beforeAll(() => {
  dir = projectCopy('lab-to-prod-addons-refresh-', ['addons']);
  // The helm the maintainer's clone built (.cache is not part of the copy): built there if missing.
  // For every test: --all renders every chart, the first one in name order before any refusal.
  fs.mkdirSync(path.join(ROOT, '.cache', 'addons'), { recursive: true });
  fs.mkdirSync(path.join(dir, '.cache'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, '.cache', 'addons'), path.join(dir, '.cache', 'addons'), 'dir');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function refresh(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['speed/tsrun.js', 'scripts/addons/refresh.ts', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: path.join(dir, '.tsrun-cache') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lockFile = (root: string) => fs.readFileSync(path.join(root, 'addons', 'addons.lock.json'), 'utf8');

test('refreshing kube-network-policies from nothing reproduces its vendored files and lock entry byte for byte', () => {
  const folder = path.join('addons', 'kube-network-policies');
  fs.rmSync(path.join(dir, folder), { recursive: true });
  const lock = JSON.parse(lockFile(dir));
  delete lock.addons['kube-network-policies'];
  fs.writeFileSync(path.join(dir, 'addons', 'addons.lock.json'), `${JSON.stringify(lock, null, 2)}\n`);

  const result = refresh('kube-network-policies', '0.8.0');
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(
    'h1:dzecRNzdmg+VmHEQWTIjxnCgf412J+8CKHqbKgCiWkk=, as the Go checksum database records',
  );

  expect(filesUnder(path.join(dir, folder))).toEqual(filesUnder(path.join(ROOT, folder)));
  for (const file of filesUnder(path.join(ROOT, folder))) {
    expect({
      file,
      same: fs.readFileSync(path.join(dir, folder, file)).equals(fs.readFileSync(path.join(ROOT, folder, file))),
    }).toEqual({ file, same: true });
  }
  expect(lockFile(dir)).toBe(lockFile(ROOT));
});

test('a version whose Kubernetes range the recipe does not record is refused before anything is fetched', () => {
  const before = lockFile(dir);
  const result = refresh('metallb', '0.16.3');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    "metallb 0.16.3: scripts/addons/sources.ts records the documented Kubernetes range of 0.16.2; read 0.16.3's range",
  );
  expect(result.stdout).not.toContain('downloading');
  expect(lockFile(dir)).toBe(before);
});

test('--all refuses to render vendored files that no longer hash to the lock, and writes nothing', () => {
  const file = path.join(dir, 'addons', 'cert-manager', 'source', 'deploy', 'charts', 'cert-manager', 'values.yaml');
  const original = fs.readFileSync(file);
  fs.appendFileSync(file, '# changed\n');
  const upstream = fs.readFileSync(path.join(dir, 'addons', 'cert-manager', 'upstream.yaml'));
  try {
    const result = refresh('--all');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /cert-manager: sourceHash: addons\/cert-manager\/source\/ hashes to sha256:[0-9a-f]{64}, but addons\/addons.lock.json records sha256:[0-9a-f]{64}; refusing/,
    );
    expect(fs.readFileSync(path.join(dir, 'addons', 'cert-manager', 'upstream.yaml')).equals(upstream)).toBe(true);
  } finally {
    fs.writeFileSync(file, original);
  }
});

test('an unknown add-on is named with the known ones; a command line without a name is refused with the usage', () => {
  const unknown = refresh('nginx-ingress', '1.0.0');
  expect(unknown.status).toBe(1);
  expect(unknown.stderr).toContain(
    'unknown add-on "nginx-ingress"; the add-ons are argo-cd, aws-load-balancer-controller, cert-manager, external-secrets, flannel,',
  );
  const none = refresh();
  expect(none.status).toBe(2);
  expect(none.stderr).toContain('give one add-on name and, optionally, its version');
  expect(none.stderr).toContain('usage: npm run addons:refresh -- <name> [<version>]');
});

test('--from takes only a folder holding the chart at that version, and only for a chart repository source', () => {
  const folder = path.join(dir, 'not-the-chart');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'Chart.yaml'), 'apiVersion: v2\nname: traefik\nversion: 41.2.0\n');
  const wrongVersion = refresh('traefik', '41.3.0', '--from', folder);
  expect(wrongVersion.status).toBe(1);
  expect(wrongVersion.stderr).toContain(`--from ${folder}: its Chart.yaml is not chart "traefik" version 41.3.0`);
  const goModule = refresh('metallb', '0.16.2', '--from', folder);
  expect(goModule.status).toBe(1);
  expect(goModule.stderr).toContain('metallb: --from is for charts from a chart repository; metallb is a Go module');
});

describe('external-secrets, from a checkout of its source repository (--from)', () => {
  /** A checkout's files that are vendored: the vendored source/ holds exactly them, at their paths in the repository. */
  let checkout: string;
  beforeAll(() => {
    checkout = path.join(dir, 'external-secrets-checkout');
    fs.cpSync(path.join(ROOT, 'addons', 'external-secrets', 'source'), checkout, { recursive: true });
  });

  test('a checkout whose chart is not that version is refused, naming the Chart.yaml, and nothing is written', () => {
    const chartYaml = path.join(checkout, 'deploy', 'charts', 'external-secrets', 'Chart.yaml');
    const original = fs.readFileSync(chartYaml, 'utf8');
    const before = lockFile(dir);
    // At the tag v2.8.0, before the commit that releases the chart, Chart.yaml still says 2.7.0.
    fs.writeFileSync(chartYaml, original.replace('version: "2.8.0"', 'version: "2.7.0"'));
    try {
      const result = refresh('external-secrets', '2.8.0', '--from', checkout);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `--from ${checkout}: deploy/charts/external-secrets/Chart.yaml is not chart "external-secrets" version 2.8.0`,
      );
      expect(lockFile(dir)).toBe(before);
    } finally {
      fs.writeFileSync(chartYaml, original);
    }
  });

  test('a version without a recorded chart release commit is refused before anything is read', () => {
    const sources = path.join(dir, 'scripts', 'addons', 'sources.ts');
    const original = fs.readFileSync(sources, 'utf8');
    const line = "  '2.8.0': '6f1eed573faac17c3272c576cfd419a5b40db25d',\n";
    expect(original).toContain(line);
    fs.writeFileSync(sources, original.replace(line, ''));
    try {
      const result = refresh('external-secrets', '2.8.0', '--from', checkout);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        'external-secrets 2.8.0: scripts/addons/sources.ts records no commit of github.com/external-secrets/external-secrets that releases chart 2.8.0',
      );
      expect(result.stdout).not.toContain('taking chart');
    } finally {
      fs.writeFileSync(sources, original);
    }
  });

  test('refreshing it from nothing reproduces its vendored files and lock entry byte for byte', () => {
    const folder = path.join('addons', 'external-secrets');
    fs.rmSync(path.join(dir, folder), { recursive: true });
    const lock = JSON.parse(lockFile(dir));
    delete lock.addons['external-secrets'];
    fs.writeFileSync(path.join(dir, 'addons', 'addons.lock.json'), `${JSON.stringify(lock, null, 2)}\n`);

    const result = refresh('external-secrets', '2.8.0', '--from', checkout);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('external-secrets 2.8.0: 65 files vendored');

    expect(filesUnder(path.join(dir, folder))).toEqual(filesUnder(path.join(ROOT, folder)));
    for (const file of filesUnder(path.join(ROOT, folder))) {
      expect({
        file,
        same: fs.readFileSync(path.join(dir, folder, file)).equals(fs.readFileSync(path.join(ROOT, folder, file))),
      }).toEqual({ file, same: true });
    }
    expect(lockFile(dir)).toBe(lockFile(ROOT));
  });
});

test('--all with a name is refused with the usage, exit 2', () => {
  const result = refresh('--all', 'metallb');
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('--all takes no add-on name and no --from (it downloads nothing)');
});
