import { only, rendered, testChart } from '../../test/helpers';
import { ENVIRONMENTS } from '../environments';
import { ValidationError } from '../k8s/validation';
import { declaredSecrets, declareSecret } from './secrets';
import { PG_SERVICE_FILE_KEY } from '../workloads/db-credentials';

const declare = (envName: keyof typeof ENVIRONMENTS, props: Partial<Parameters<typeof declareSecret>[1]> = {}) => {
  const chart = testChart(envName);
  declareSecret(chart, {
    env: ENVIRONMENTS[envName],
    name: 'db-credentials',
    namespace: 'db',
    keys: ['password'],
    ...props,
  });
  return chart;
};

describe('declareSecret', () => {
  test.each(['prod-eks', 'prod-gke', 'prod-aks'] as const)(
    "%s: an ExternalSecret from the environment's ClusterSecretStore, no value",
    (envName) => {
      const env = ENVIRONMENTS[envName];
      const objects = rendered(declare(envName, { keys: ['username', 'password'] }));
      expect(objects.map((o) => o.kind)).toEqual(['ExternalSecret']);
      const es = only(objects, 'ExternalSecret', 'db-credentials');
      expect(es.metadata.namespace).toBe('db');
      expect(es.spec.secretStoreRef).toEqual({
        kind: 'ClusterSecretStore',
        name: (env.identity.secrets as any).clusterSecretStore,
      });
      expect(es.spec.target).toMatchObject({ name: 'db-credentials', creationPolicy: 'Owner' });
      expect(es.spec.data).toEqual([
        { secretKey: 'username', remoteRef: { key: 'lab-to-prod-db-db-credentials', property: 'username' } },
        { secretKey: 'password', remoteRef: { key: 'lab-to-prod-db-db-credentials', property: 'password' } },
      ]);
    },
  );

  test('derived keys: an external-secrets v2 template builds each from the fetched value, beside the plain keys', () => {
    const es = only(rendered(declare('prod-gke', { derivedKeys: [PG_SERVICE_FILE_KEY] })), 'ExternalSecret');
    expect(es.spec.data).toEqual([
      { secretKey: 'password', remoteRef: { key: 'lab-to-prod-db-db-credentials', property: 'password' } },
    ]);
    expect(es.spec.target.template.engineVersion).toBe('v2');
    expect(es.spec.target.template.data).toEqual({
      password: '{{ .password }}',
      'pg_service.conf': '[db]\npassword={{ .password }}\n',
    });
    // Without derived keys there is no template data: the Secret is the fetched keys as they are.
    expect(only(rendered(declare('prod-gke')), 'ExternalSecret').spec.target.template.data).toBeUndefined();
  });

  test('the service file\'s template and the lab\'s builder make the same text (":", "\\", "=", "#" and spaces taken literally)', () => {
    const value = 's3:cr\\et=#x y';
    expect(PG_SERVICE_FILE_KEY.template.split('{{ .password }}').join(value)).toBe(PG_SERVICE_FILE_KEY.build(value));
    expect(PG_SERVICE_FILE_KEY.build(value)).toBe(`[db]\npassword=${value}\n`);
    expect(() => PG_SERVICE_FILE_KEY.build('trailing ')).toThrow(/ends in white space/);
  });

  test('a remoteKey given is the name read from the secret manager', () => {
    const es = only(rendered(declare('prod-eks', { remoteKey: 'shared-db' })), 'ExternalSecret');
    expect(es.spec.data[0].remoteRef.key).toBe('shared-db');
  });

  test('the lab: nothing rendered, but the declaration is found for npm run lab-secrets', () => {
    const chart = declare('lab', { keys: ['password'] });
    expect(rendered(chart)).toEqual([]);
    expect(declaredSecrets(chart)).toEqual([
      expect.objectContaining({
        name: 'db-credentials',
        namespace: 'db',
        keys: ['password'],
        constructPath: 'lab/Secret-db-credentials',
      }),
    ]);
  });

  test.each([
    ['name', { name: 'DB_Credentials' }],
    ['namespace', { namespace: 'db.prod' }],
    ['keys', { keys: [] }],
    ['keys', { keys: ['password', 'password'] }],
    ['keys[0]', { keys: ['pass word'] }],
    ['remoteKey', { remoteKey: 'lab-to-prod/db' }],
    ['derivedKeys[0].key', { derivedKeys: [{ ...PG_SERVICE_FILE_KEY, key: 'password' }] }],
    [
      'derivedKeys[0].from',
      { derivedKeys: [{ ...PG_SERVICE_FILE_KEY, from: 'username', template: 'user={{ .username }}' }] },
    ],
    ['derivedKeys[0].template', { derivedKeys: [{ ...PG_SERVICE_FILE_KEY, template: 'password={{ .pass }}' }] }],
    [
      'keys[0]',
      {
        keys: ['db-password'],
        derivedKeys: [{ ...PG_SERVICE_FILE_KEY, from: 'db-password', template: '{{ .db-password }}' }],
      },
    ],
  ])('bad %s is an error naming the construct and the field', (field, props) => {
    let error: unknown;
    try {
      declare('prod-eks', props);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => [p.where, p.field])).toEqual([
      [`prod-eks/Secret-${(props as any).name ?? 'db-credentials'}`, field],
    ]);
  });
});
