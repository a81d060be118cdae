import { Construct, IConstruct } from 'constructs';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetDeletionPolicy,
} from '../../imports/externalsecret-external-secrets.io';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../kit/labels';
import { DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN_RULE, isDns1123Label, isDns1123Subdomain } from '../kit/names';
import { Problems } from '../kit/validation';

/**
 * Secrets a workload reads, declared without their values: no secret value is ever written to dist/
 * (the primer, 2: Secrets and ConfigMaps; a Secret in Git is a leaked Secret).
 *
 * - Production (env.identity.secrets is a cloud secret manager): an ExternalSecret. external-secrets
 *   reads the values from the cloud's secret manager through the environment's ClusterSecretStore and
 *   writes the Secret into the namespace; the workload refers to the Secret by name as usual.
 * - The lab: nothing is rendered. `npm run lab-secrets` finds every declaration in the lab's construct
 *   tree and creates the Secret in the cluster from random values (scripts/lab-secrets.ts).
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

/** What the lab-secrets command needs to create one Secret. */
export interface SecretDeclaration {
  readonly name: string;
  readonly namespace: string;
  readonly keys: readonly string[];
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

/** One declared Secret; see `declareSecret`. */
export class DeclaredSecret extends Construct {
  public readonly declaration: SecretDeclaration;

  constructor(scope: Construct, id: string, props: SecretDeclarationProps) {
    super(scope, id);
    const { env, name, namespace, keys } = props;
    // Dots become dashes: Key Vault names allow neither dots nor slashes.
    const remoteKey = props.remoteKey ?? `lab-to-prod-${namespace}-${name}`.replace(/\./g, '-');

    const p = new Problems(this.node.path);
    const nameOk = p.check(isDns1123Subdomain(name), 'name', name, DNS1123_SUBDOMAIN_RULE);
    const namespaceOk = p.check(isDns1123Label(namespace), 'namespace', namespace, DNS1123_LABEL_RULE);
    p.check(keys.length > 0 && new Set(keys).size === keys.length, 'keys', keys, 'one or more distinct keys');
    keys.forEach((key, i) => p.check(SECRET_KEY.test(key) && key.length <= 253, `keys[${i}]`, key,
      'letters, digits, "-", "_" and "." (a Secret data key)'));
    if (props.remoteKey !== undefined || (nameOk && namespaceOk)) {
      p.check(REMOTE_KEY.test(remoteKey), 'remoteKey', remoteKey, '1 to 127 letters, digits and "-" (the default is lab-to-prod-<namespace>-<name>)');
    }
    p.throwIfAny();

    const labels = recommendedLabels({ name: props.app ?? namespace, component: 'secret', version: PROJECT_VERSION });
    this.declaration = { name, namespace, keys: [...keys], labels, remoteKey, constructPath: this.node.path };

    const source = env.identity.secrets;
    if (source.provider === 'lab-secrets-command') {
      return;
    }
    new ExternalSecret(this, 'ExternalSecret', {
      metadata: { name, namespace, labels },
      spec: {
        refreshInterval: REFRESH_INTERVAL,
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: source.clusterSecretStore },
        target: {
          name,
          // The ExternalSecret owns the Secret: deleting it deletes the Secret with it.
          creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER,
          // If the remote secret disappears, keep the last values rather than break running pods.
          deletionPolicy: ExternalSecretSpecTargetDeletionPolicy.RETAIN,
          template: { metadata: { labels } },
        },
        data: keys.map((key) => ({ secretKey: key, remoteRef: { key: remoteKey, property: key } })),
      },
    });
  }
}

/**
 * Declares a Secret a workload reads; returns the declaration. The workload refers to `props.name`
 * (secretKeyRef, a volume) exactly as it would to any Secret.
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
  return root.node.findAll()
    .filter((c): c is DeclaredSecret => c instanceof DeclaredSecret)
    .map((c) => c.declaration);
}
