/**
 * The cdk8s validation plugin, run the way cdk8s-cli runs it: its real
 * ValidationContext over manifest files on disk, with construct metadata.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ValidationContext as ValidationContextClass } from 'cdk8s-cli/lib/plugins/validation';
import * as YAML from 'yaml';
import { find, goodApp } from './fixtures/good-app';
import { resourceKey } from './index';

// cdk8s-cli exports its plugin API as 'cdk8s-cli/plugins'; the types sit at the file path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ValidationContext } = require('cdk8s-cli/plugins') as { ValidationContext: typeof ValidationContextClass };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PolicyValidation } = require('./plugin');

/** Every temporary folder a test made, removed after the tests. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function writeManifests(
  environment: string,
  objects: any[],
): { dir: string; manifest: string; metadata: Record<string, { path: string }> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-plugin-'));
  made.push(dir);
  const manifest = path.join(dir, `${environment}.k8s.yaml`);
  fs.writeFileSync(manifest, objects.map((o) => YAML.stringify(o)).join('---\n'));
  fs.writeFileSync(
    path.join(dir, 'environments.json'),
    JSON.stringify({ [environment]: { kubernetesVersion: '1.33' } }),
  );
  const metadata = Object.fromEntries(
    objects.map((o) => [resourceKey(environment, o), { path: `${environment}/${o.kind}-${o.metadata.name}` }]),
  );
  return { dir, manifest, metadata };
}

async function validate(environment: string, objects: any[], properties: object = {}) {
  const { manifest, metadata } = writeManifests(environment, objects);
  const context = new ValidationContext([manifest], 'lab-to-prod-policy', '0.1.0', metadata, false);
  const logged: string[] = [];
  (context.logger as any).log = (message: string) => logged.push(message);
  await new PolicyValidation(properties).validate(context);
  return { report: context.report, logged: logged.join('\n') };
}

describe('PolicyValidation (cdk8s validation plugin)', () => {
  it('passes a manifest that passes every rule', async () => {
    const { report, logged } = await validate('lab', goodApp());
    expect(report.success).toBe(true);
    expect(report.toJson().violations).toEqual([]);
    expect(logged).toContain('policy: 0 error(s)');
  });

  it('fails a manifest that breaks a rule, naming rule, object, field and construct path', async () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].image = 'registry.example/shop:latest';
    const { report, logged } = await validate('prod-eks', objects);
    expect(report.success).toBe(false);
    const json = report.toJson();
    expect(json.summary.metadata).toEqual({ errors: '1', warnings: '0', waived: '0' });
    expect(json.violations).toEqual([
      expect.objectContaining({
        ruleName: 'practice/image-pinned (error)',
        violatingConstructs: [
          expect.objectContaining({
            resourceName: 'prod-eks/Deployment/shop/shop',
            constructPath: 'prod-eks/Deployment-shop',
            locations: [
              'spec.template.spec.containers[0].image: image "registry.example/shop:latest" uses the tag "latest": pin a version tag or a digest (construct prod-eks/Deployment-shop)',
            ],
          }),
        ],
      }),
    ]);
    expect(logged).toContain('construct: prod-eks/Deployment-shop');
  });

  it('takes the Kubernetes version from its properties, over environments.json', async () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].lifecycle = { stopSignal: 'SIGTERM' };
    expect((await validate('lab', objects)).report.success).toBe(true);
    const old = await validate('lab', objects, { environments: { lab: { kubernetesVersion: '1.32' } } });
    expect(old.report.success).toBe(false);
    expect(old.report.toJson().violations.map((v: { ruleName: string }) => v.ruleName)).toEqual([
      'schema/unknown-field (error)',
    ]);
  });

  it("refuses to guess an environment's Kubernetes version", async () => {
    const { dir, manifest } = writeManifests('lab', goodApp());
    fs.rmSync(path.join(dir, 'environments.json'));
    const context = new ValidationContext([manifest], 'lab-to-prod-policy', '0.1.0', {}, false);
    await expect(new PolicyValidation({}).validate(context)).rejects.toThrow(
      'no kubernetesVersion for environment "lab"',
    );
  });

  it("uses cdk8s' own metadata (keyed by bare name) only when the name is unambiguous in the environment", async () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].image = 'registry.example/shop:latest';
    find(objects, 'CronJob').spec.jobTemplate.spec.template.spec.containers[0].image = 'registry.example/report:latest';
    const { manifest } = writeManifests('lab', objects);
    const metadata = { shop: { path: 'lab/shop/Service' }, 'shop-report': { path: 'lab/report/CronJob' } };
    const context = new ValidationContext([manifest], 'lab-to-prod-policy', '0.1.0', metadata, false);
    (context.logger as any).log = () => undefined;
    await new PolicyValidation({}).validate(context);
    const locations = context.report.toJson().violations[0].violatingConstructs.map((c: any) => c.locations[0]);
    // "shop" names a Deployment, a Service, a PDB... here: no construct path is better than a wrong one
    expect(locations[0]).toMatch(/^spec\.template\.spec\.containers\[0\]\.image: .*digest$/);
    expect(locations[1]).toMatch(/\(construct lab\/report\/CronJob\)$/);
  });

  it('takes platform-provided objects from its properties', async () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.runtimeClassName = 'gvisor';
    expect((await validate('prod-gke', objects)).report.success).toBe(false);
    const provided = await validate('prod-gke', objects, {
      environments: { 'prod-gke': { kubernetesVersion: '1.33', platformProvided: ['RuntimeClass/gvisor'] } },
    });
    expect(provided.report.success).toBe(true);
  });

  it('takes the groups people are bound through from its properties', async () => {
    const objects = goodApp();
    find(objects, 'RoleBinding').subjects = [
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'shop-viewers' },
    ];
    expect((await validate('lab', objects)).report.success).toBe(false);
    const declared = await validate('lab', objects, {
      environments: { lab: { kubernetesVersion: '1.33', peopleGroups: ['shop-viewers'] } },
    });
    expect(declared.report.success).toBe(true);
  });
});
