import {
  describeCompleted,
  describeOutcome,
  existsArgs,
  missingKeys,
  groupBySharedValues,
  parseLabSecretsArgs,
  randomSecretValue,
  readDataArgs,
  redact,
  secretManifest,
  sharedData,
  writeArgs,
} from './lab-secrets-steps';
import { SecretDeclaration } from '../platform/secrets';
import { PG_SERVICE_FILE_KEY } from '../workloads/db-credentials';

const secret: SecretDeclaration = {
  name: 'db-credentials',
  namespace: 'db',
  keys: ['username', 'password'],
  labels: { 'app.kubernetes.io/name': 'db' },
  remoteKey: 'lab-to-prod-db-credentials',
  constructPath: 'lab/db/Secret-db-credentials',
  derivedKeys: [],
};
const clientCopy: SecretDeclaration = {
  ...secret,
  namespace: 'api',
  keys: ['password'],
  constructPath: 'lab/api/Secret-db-credentials',
};
const other: SecretDeclaration = {
  ...secret,
  name: 'api-token',
  namespace: 'api',
  keys: ['token'],
  remoteKey: 'lab-to-prod-api-api-token',
};
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseLabSecretsArgs', () => {
  test('defaults: current context, keep existing Secrets, write to the cluster', () => {
    expect(parseLabSecretsArgs([])).toEqual({ context: undefined, replace: false, dryRun: false });
  });
  test('--context, --confirm-cluster, --replace and --dry-run', () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    expect(
      parseLabSecretsArgs(['--context', 'lab-admin', '--confirm-cluster', hash, '--replace', '--dry-run']),
    ).toEqual({ context: 'lab-admin', confirmCluster: hash, replace: true, dryRun: true });
  });
  test('--help', () => {
    expect(parseLabSecretsArgs(['--help'])).toBe('help');
  });
  test.each([
    [
      ['--force'],
      /unknown option "--force"; the options are --context, --confirm-cluster, --replace, --dry-run, --help/,
    ],
    [['db'], /unexpected argument "db"/],
    [['--context', ''], /--context needs a value/],
    [['--context', ' '], /--context: Invalid value: "": the name of a kubectl context/],
    [['--context'], /--context needs a value/],
    [
      ['--confirm-cluster', 'sha256:AB'],
      /--confirm-cluster: Invalid value: "sha256:AB": "sha256:" and 64 lowercase hex digits/,
    ],
  ])('%j is an error', (argv, message) => {
    expect(() => parseLabSecretsArgs(argv)).toThrow(message);
  });
});

describe('the kubectl calls', () => {
  const defaults = { replace: false, dryRun: false };
  test('existence check, with and without a context', () => {
    expect(existsArgs(defaults, secret)).toEqual([
      'get',
      'secret',
      'db-credentials',
      '--namespace',
      'db',
      '--ignore-not-found',
      '--output',
      'name',
    ]);
    expect(existsArgs({ ...defaults, context: 'lab' }, secret).slice(0, 3)).toEqual(['--context', 'lab', 'get']);
  });
  test('a new Secret is created (create refuses to overwrite); an existing one only replaced by server-side apply', () => {
    expect(writeArgs(defaults, false)).toEqual(['create', '--filename', '-', '--output', 'name']);
    expect(writeArgs(defaults, true)).toEqual(expect.arrayContaining(['apply', '--server-side', '--filename', '-']));
  });
  test("values travel on stdin only: never in kubectl's arguments", () => {
    const value = randomSecretValue();
    const args = [...existsArgs(defaults, secret), ...writeArgs(defaults, false), ...writeArgs(defaults, true)];
    expect(args.join(' ')).not.toContain(value);
  });
});

describe('shared values', () => {
  test('declarations reading one secret manager entry form one group, in declaration order', () => {
    expect(groupBySharedValues([secret, other, clientCopy])).toEqual([[secret, clientCopy], [other]]);
  });
  test('a group gets one fresh value per key when none of it exists', () => {
    let n = 0;
    expect(sharedData([secret, clientCopy], {}, () => `v${++n}`)).toEqual({ username: b64('v1'), password: b64('v2') });
  });
  test("an existing member's values are reused, fresh ones only for keys it lacks", () => {
    expect(sharedData([secret, clientCopy], { password: b64('kept') }, () => 'new')).toEqual({
      username: b64('new'),
      password: b64('kept'),
    });
  });
  test("an existing member's data is read as JSON and never printed by kubectl's own output format", () => {
    expect(readDataArgs({ replace: false, dryRun: false }, secret)).toEqual([
      'get',
      'secret',
      'db-credentials',
      '--namespace',
      'db',
      '--output',
      'jsonpath={.data}',
    ]);
  });
  test('the message for a copy names where the values came from', () => {
    expect(describeOutcome(clientCopy, 'created', secret)).toBe(
      'created secret api/db-credentials (keys: password) with the values of db/db-credentials, which reads the same entry',
    );
  });
});

describe('derived keys', () => {
  const withServiceFile: SecretDeclaration = { ...clientCopy, namespace: 'batch', derivedKeys: [PG_SERVICE_FILE_KEY] };
  const text = (data: Record<string, string>, key: string) => Buffer.from(data[key], 'base64').toString('utf8');

  test("built from the group's password, fresh or kept, so the file and the plain key always agree", () => {
    const fresh = sharedData([clientCopy, withServiceFile], {}, () => 'fresh-value');
    expect(text(fresh, 'pg_service.conf')).toBe('[db]\npassword=fresh-value\n');
    const kept = sharedData(
      [clientCopy, withServiceFile],
      { password: b64('kept-value'), 'pg_service.conf': b64('[db]\npassword=stale\n') },
      () => 'unused',
    );
    expect(text(kept, 'pg_service.conf')).toBe('[db]\npassword=kept-value\n');
  });
  test('the manifest and the report carry the derived key; a Secret without it gets none', () => {
    const data = sharedData([withServiceFile], {}, () => 'v');
    expect(Object.keys(JSON.parse(secretManifest(withServiceFile, data)).data)).toEqual([
      'password',
      'pg_service.conf',
    ]);
    expect(Object.keys(JSON.parse(secretManifest(clientCopy, data)).data)).toEqual(['password']);
    expect(describeOutcome(withServiceFile, 'would-create')).toBe(
      'would create secret batch/db-credentials (keys: password, pg_service.conf)',
    );
  });
  test('a Secret made before a key was declared is completed from its own values, not replaced', () => {
    expect(missingKeys(withServiceFile, { password: b64('old') })).toEqual(['pg_service.conf']);
    expect(missingKeys(withServiceFile, { password: b64('old'), 'pg_service.conf': b64('x') })).toEqual([]);
    expect(missingKeys(clientCopy, { password: b64('old') })).toEqual([]);
    expect(describeCompleted(withServiceFile, ['pg_service.conf'])).toBe(
      'completed secret batch/db-credentials (keys: password, pg_service.conf): added pg_service.conf from its existing values',
    );
  });
  test('a password the format cannot hold is refused, without printing it', () => {
    expect(() => sharedData([withServiceFile], { password: b64('line\nbreak-secret') }, () => 'v')).toThrow(
      /contains a line break/,
    );
    expect(() => sharedData([withServiceFile], { password: b64('line\nbreak-secret') }, () => 'v')).not.toThrow(
      /break-secret/,
    );
  });
});

describe('secretManifest', () => {
  test('a v1 Secret with every declared key, base64-encoded, in the declared namespace', () => {
    const manifest = JSON.parse(
      secretManifest(secret, {
        username: b64('value-of-username'),
        password: b64('value-of-password'),
        extra: b64('x'),
      }),
    );
    expect(manifest).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'db-credentials', namespace: 'db', labels: secret.labels },
    });
    expect(Object.keys(manifest.data)).toEqual(['username', 'password']);
    expect(Buffer.from(manifest.data.password, 'base64').toString()).toBe('value-of-password');
    expect(manifest.stringData).toBeUndefined();
  });
  test('random values: 32 bytes, different every time', () => {
    const a = randomSecretValue();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(randomSecretValue()).not.toBe(a);
  });
});

describe('what is printed', () => {
  test('outcomes name the Secret and its keys, and no value', () => {
    for (const outcome of ['created', 'replaced', 'kept', 'would-create'] as const) {
      const line = describeOutcome(secret, outcome);
      expect(line).toContain('db/db-credentials');
      expect(line).toContain('username, password');
    }
    expect(describeOutcome(secret, 'kept')).toMatch(/--replace/);
  });
  test("kubectl's error text is printed with the values blanked, plain and base64", () => {
    const value = 'hunter2-very-secret';
    const b64 = Buffer.from(value).toString('base64');
    const out = redact(`error: bad ${value} and ${b64}`, [value]);
    expect(out).toBe('error: bad <redacted> and <redacted>');
  });
});
