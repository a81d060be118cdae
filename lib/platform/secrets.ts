import { Construct, IConstruct } from 'constructs';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetDeletionPolicy,
  ExternalSecretSpecTargetTemplateEngineVersion,
} from '../../generated/crd-bindings/externalsecret-external-secrets.io';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN_RULE, isDns1123Label, isDns1123Subdomain } from '../k8s/names';
import { Problems } from '../k8s/validation';

/**
 * Secrets a workload reads, declared without their values: no secret value is ever written to dist/
 * (a Secret's values are only base64-encoded, not encrypted, so a Secret in Git is a leaked Secret:
 * https://kubernetes.io/docs/concepts/configuration/secret/).
 *
 * - Production (env.identity.secrets is a cloud secret manager): an ExternalSecret. external-secrets
 *   reads the values from the cloud's secret manager through the environment's ClusterSecretStore and
 *   writes the Secret into the namespace; the workload refers to the Secret by name as usual.
 * - The lab: nothing is rendered. `npm run lab-secrets` finds every declaration in the lab's construct
 *   tree and creates the Secret in the cluster from random values (lib/commands/lab-secrets.ts).
 */
export interface SecretDeclarationProps {
  /** The environment to render for. */
  readonly env: Environment;
  /** The Secret's name, which the workload refers to: `db-credentials`. */
  readonly name: string;
  /** The namespace the Secret is created in (the workload's). */
  readonly namespace: string;
  /** The Secret's keys, e.g. ['password']; in production each is a property of the remote secret. */
  readonly keys: readonly string[];
  /**
   * Keys whose value is a file built from one of `keys`, for a program that reads a file format
   * rather than a bare value (libpq's connection service file).
   * @default none
   */
  readonly derivedKeys?: readonly DerivedSecretKey[];
  /**
   * The secret's name in the cloud's secret manager: a JSON object with one property per key.
   * Letters, digits and "-" only, which AWS Secrets Manager, Google Secret Manager and Azure Key
   * Vault all accept.
   * @default `lab-to-prod-<namespace>-<name>`, dots replaced by dashes
   */
  readonly remoteKey?: string;
  /**
   * The app the Secret belongs to, for its recommended labels.
   * @default the namespace
   */
  readonly app?: string;
}

/**
 * A Secret key whose value is built from another key's value: the same text made twice, by the lab
 * command (`build`) and by external-secrets in production (`template`, a Go text/template over the
 * fetched keys: https://external-secrets.io/latest/guides/templating/). Their agreement is tested.
 */
export interface DerivedSecretKey {
  /** The key it is stored under: `pg_service.conf`. */
  readonly key: string;
  /** The key of `keys` it is built from: `password`. */
  readonly from: string;
  /** Builds the value from the source value; throws (without the value) if the format cannot hold it. */
  readonly build: (value: string) => string;
  /** The same as an external-secrets template, reading the source as `{{ .<from> }}`. */
  readonly template: string;
}

/** What the lab-secrets command needs to create one Secret. */
export interface SecretDeclaration {
  readonly name: string;
  readonly namespace: string;
  /** Keys with values of their own: random in the lab, a remote property in production. */
  readonly keys: readonly string[];
  /** Keys built from one of `keys`. */
  readonly derivedKeys: readonly DerivedSecretKey[];
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The secret manager entry it reads in production. Declarations that share one hold the same
   * values (a password the server and its clients both read), so the lab command gives them the same.
   */
  readonly remoteKey: string;
  /** The construct that declared it: `lab/db/Secret-db-credentials`. */
  readonly constructPath: string;
}

/** How often external-secrets re-reads the remote secret, so a rotation reaches the cluster. */
const REFRESH_INTERVAL = '1h';
/** Secret data keys: kubernetes' rule for ConfigMap and Secret keys. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const REMOTE_KEY = /^[A-Za-z0-9-]{1,127}$/;
const GO_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One declared Secret; see `declareSecret`. */
export class DeclaredSecret extends Construct {
  public readonly declaration: SecretDeclaration;

  constructor(scope: Construct, id: string, props: SecretDeclarationProps) {
    super(scope, id);
    const { env, name, namespace, keys } = props;
    const derivedKeys = props.derivedKeys ?? [];
    // Dots become dashes: Key Vault names allow neither dots nor slashes.
    const remoteKey = props.remoteKey ?? `lab-to-prod-${namespace}-${name}`.replace(/\./g, '-');

    const p = new Problems(this.node.path);
    const nameOk = p.check(isDns1123Subdomain(name), 'name', name, DNS1123_SUBDOMAIN_RULE);
    const namespaceOk = p.check(isDns1123Label(namespace), 'namespace', namespace, DNS1123_LABEL_RULE);
    p.check(keys.length > 0 && new Set(keys).size === keys.length, 'keys', keys, 'one or more distinct keys');
    keys.forEach((key, i) =>
      p.check(
        SECRET_KEY.test(key) && key.length <= 253,
        `keys[${i}]`,
        key,
        'letters, digits, "-", "_" and "." (a Secret data key)',
      ),
    );
    if (derivedKeys.length > 0) {
      // A template reads a key as `{{ .key }}`, which only parses for a Go identifier.
      keys.forEach((key, i) =>
        p.check(
          GO_IDENTIFIER.test(key),
          `keys[${i}]`,
          key,
          'letters, digits and "_", not starting with a digit (a key a derived key\'s template can read as {{ .key }})',
        ),
      );
    }
    derivedKeys.forEach((derived, i) => {
      p.check(
        SECRET_KEY.test(derived.key) &&
          derived.key.length <= 253 &&
          !keys.includes(derived.key) &&
          derivedKeys.findIndex((d) => d.key === derived.key) === i,
        `derivedKeys[${i}].key`,
        derived.key,
        'a Secret data key ("-", "_", ".", letters, digits) that no other key has',
      );
      p.check(keys.includes(derived.from), `derivedKeys[${i}].from`, derived.from, `one of keys: ${keys.join(', ')}`);
      p.check(
        derived.template.includes(`{{ .${derived.from} }}`),
        `derivedKeys[${i}].template`,
        derived.template,
        `a template that reads the source as {{ .${derived.from} }}`,
      );
    });
    if (props.remoteKey !== undefined || (nameOk && namespaceOk)) {
      p.check(
        REMOTE_KEY.test(remoteKey),
        'remoteKey',
        remoteKey,
        '1 to 127 letters, digits and "-" (the default is lab-to-prod-<namespace>-<name>)',
      );
    }
    p.throwIfAny();

    const labels = recommendedLabels({ name: props.app ?? namespace, component: 'secret', version: PROJECT_VERSION });
    this.declaration = {
      name,
      namespace,
      keys: [...keys],
      derivedKeys: [...derivedKeys],
      labels,
      remoteKey,
      constructPath: this.node.path,
    };

    const source = env.identity.secrets;
    if (source.provider === 'lab-secrets-command') {
      return;
    }
    new ExternalSecret(this, 'ExternalSecret', {
      metadata: { name, namespace, labels },
      spec: {
        refreshInterval: REFRESH_INTERVAL,
        secretStoreRef: {
          kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE,
          name: source.clusterSecretStore,
        },
        target: {
          name,
          // The ExternalSecret owns the Secret: deleting it deletes the Secret with it.
          creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER,
          // If the remote secret disappears, keep the last values rather than break running pods.
          deletionPolicy: ExternalSecretSpecTargetDeletionPolicy.RETAIN,
          template: {
            metadata: { labels },
            // Derived keys are templates over the fetched keys. The plain keys are templated too
            // (`{{ .key }}`), so the Secret holds every key whatever the merge policy does with
            // keys a template does not name.
            ...(derivedKeys.length > 0
              ? {
                  engineVersion: ExternalSecretSpecTargetTemplateEngineVersion.V2,
                  data: Object.fromEntries([
                    ...keys.map((key): [string, string] => [key, `{{ .${key} }}`]),
                    ...derivedKeys.map((derived): [string, string] => [derived.key, derived.template]),
                  ]),
                }
              : {}),
          },
        },
        data: keys.map((key) => ({ secretKey: key, remoteRef: { key: remoteKey, property: key } })),
      },
    });
  }
}

/**
 * Declares a Secret a workload reads; returns the declaration. The workload mounts `props.name` as a
 * Secret volume exactly as it would any Secret (never as environment variables: see the guardrail
 * `secrets/secret-in-env`).
 *
 * ```ts
 * declareSecret(this, { env, name: 'db-credentials', namespace: 'db', keys: ['password'] });
 * ```
 */
export function declareSecret(scope: Construct, props: SecretDeclarationProps): DeclaredSecret {
  return new DeclaredSecret(scope, `Secret-${props.name}`, props);
}

/** Every Secret declared under `root`, in construct order: what the lab-secrets command creates. */
export function declaredSecrets(root: IConstruct): SecretDeclaration[] {
  return root.node
    .findAll()
    .filter((c): c is DeclaredSecret => c instanceof DeclaredSecret)
    .map((c) => c.declaration);
}
