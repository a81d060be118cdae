import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { ENVIRONMENT_SCHEMA_FILE, environmentSchemaText } from './environment-json-schema';
import { ENVIRONMENTS } from '../../lib/environments';
import { synthesize } from '../../lib/synth/synth';
import { withChange } from '../../test/helpers';

/** The Environment's JSON Schema for editors (generated/environment.schema.json, `npm run schema`). */
describe('generated/environment.schema.json', () => {
  const text = environmentSchemaText();

  test('is what `npm run schema` writes from lib/environment.ts', () => {
    expect(fs.readFileSync(ENVIRONMENT_SCHEMA_FILE, 'utf8')).toBe(text);
  });

  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(text));
  const asJson = (env: unknown) => JSON.parse(JSON.stringify(env));

  test.each(Object.keys(ENVIRONMENTS))('%s validates against it', (name) => {
    expect(validate(asJson(ENVIRONMENTS[name]))).toBe(true);
  });

  test('an editor flags a misspelled field', () => {
    const env = withChange(ENVIRONMENTS['prod-eks'], (e) => {
      e.loadBalancing.loadBalancerClas = 'service.k8s.aws/nlb';
    });
    expect(validate(asJson(env))).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '/loadBalancing',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'loadBalancerClas' },
      }),
    );
  });

  test('and a missing block', () => {
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      delete e.registry;
    });
    expect(validate(asJson(env))).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ keyword: 'required', params: { missingProperty: 'registry' } }),
    );
  });

  test('carries the doc comments of lib/environment.ts as descriptions', () => {
    const schema = JSON.parse(text);
    expect(schema.properties.registry.properties.mirror.description).toMatch(
      /^The registry, and path within it, that mirrors the public images/,
    );
    expect(schema.properties.loadBalancing.properties.loadBalancerClass.description).toContain(
      "Default: none: the cluster's default implementation answers",
    );
    // Through a discriminated union: every identity provider's `people` has its doc.
    for (const variant of schema.properties.identity.oneOf) {
      expect(variant.properties.people.description).toMatch(/^Identity for people/);
    }
  });
});

describe('the synth itself refuses what only a type check would have caught', () => {
  test('a misspelled optional field stops it, and writes nothing', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-schema-'));
    try {
      const env = withChange(ENVIRONMENTS['prod-eks'], (e) => {
        e.loadBalancing.loadBalancerClas = e.loadBalancing.loadBalancerClass;
        delete e.loadBalancing.loadBalancerClass;
      });
      expect(() => synthesize({ environments: [env], outdir })).toThrow(
        'environment "prod-eks": loadBalancing.loadBalancerClas: unknown field: "service.k8s.aws/nlb": did you mean "loadBalancerClass"?',
      );
      expect(fs.readdirSync(outdir)).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
