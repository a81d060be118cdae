/** The V8 code cache of the generated validators: written after a check, reused, never changing results. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { asInputs, find, goodApp } from '../lib/policy/fixtures/good-app';

function freshPolicy(): typeof import('../lib/policy/index') {
  let policy: typeof import('../lib/policy/index') | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    policy = require('../lib/policy/index');
  });
  return policy!;
}

describe('the compile cache', () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-cache-'));
  beforeAll(() => {
    process.env.LAB_TO_PROD_POLICY_CACHE = cacheDir;
  });
  afterAll(() => {
    delete process.env.LAB_TO_PROD_POLICY_CACHE;
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('is written after a check and gives the same findings when reused', () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    find(objects, 'ExternalSecret').spec.refreshEvery = '1h';
    const cold = freshPolicy().checkManifests(asInputs(objects));
    const written = fs.readdirSync(cacheDir).sort();
    expect(written).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^k8s-1\.33\.js\.[0-9a-f]{16}\.v8cache$/),
        expect.stringMatching(/^crd-external-secrets\.io_externalsecrets\.js\.[0-9a-f]{16}\.v8cache$/),
      ]),
    );
    const warm = freshPolicy().checkManifests(asInputs(objects));
    expect(warm).toEqual(cold);
    expect(cold.map((f) => f.ruleId)).toEqual(['schema/unknown-field', 'schema/unknown-field']);
    expect(fs.readdirSync(cacheDir).sort()).toEqual(written);
  });

  it('is ignored when V8 rejects it', () => {
    for (const file of fs.readdirSync(cacheDir)) fs.writeFileSync(path.join(cacheDir, file), 'not a code cache');
    expect(freshPolicy().checkManifests(asInputs(goodApp()))).toEqual([]);
  });
});
