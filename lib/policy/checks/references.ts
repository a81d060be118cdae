/**
 * Reference integrity: everything an object names must exist in the same
 * environment, be provided by the platform, or be documented as created out
 * of band. The documentation lives on the object that holds the reference:
 *
 *   metadata:
 *     annotations:
 *       out-of-band.lab-to-prod.io/secret.registry-credentials: "created by the cluster bootstrap (runbook step 3)"
 *       out-of-band.lab-to-prod.io/runtimeclass.gvisor: "GKE Sandbox node pools provide it"
 *
 * The key names the kind (lowercase) and the name; the value says how it is
 * created and must not be empty. A reviewer sees it in the rendered YAML.
 * Environments may also pass a list of platform-provided objects (CheckOptions).
 */
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { containersOf, isNamespaced, namespaceOf, podTemplateOf, selectorMatches, SYSTEM_NAMESPACES } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const OUT_OF_BAND_PREFIX = 'out-of-band.lab-to-prod.io/';

export const rules: Rule[] = [
  {
    id: 'refs/namespace',
    severity: 'error',
    reason: 'An object in a namespace the environment does not create fails to apply.',
  },
  { id: 'refs/config-map', severity: 'error', reason: 'A pod naming a ConfigMap that does not exist never starts.' },
  {
    id: 'refs/secret',
    severity: 'error',
    reason:
      'A pod naming a Secret that is not defined, produced by an ExternalSecret or documented as created out of band never starts.',
  },
  {
    id: 'refs/persistent-volume-claim',
    severity: 'error',
    reason: 'A pod naming a PersistentVolumeClaim that does not exist stays Pending.',
  },
  {
    id: 'refs/service-account',
    severity: 'error',
    reason:
      'A pod naming a ServiceAccount that does not exist is refused by the ReplicaSet controller; a binding to one grants nothing.',
  },
  {
    id: 'refs/storage-class',
    severity: 'error',
    reason: 'A claim naming a StorageClass the cluster does not have stays Pending.',
  },
  {
    id: 'refs/runtime-class',
    severity: 'error',
    reason: 'A pod naming a RuntimeClass the cluster does not have is refused.',
  },
  {
    id: 'refs/priority-class',
    severity: 'error',
    reason: 'A pod naming a PriorityClass that does not exist is refused.',
  },
  {
    id: 'refs/role',
    severity: 'error',
    reason: 'A binding to a Role or ClusterRole that does not exist grants nothing.',
  },
  {
    id: 'refs/service',
    severity: 'error',
    reason: 'An Ingress backend naming a Service that does not exist answers 503.',
  },
  {
    id: 'refs/secret-store',
    severity: 'error',
    reason: 'An ExternalSecret naming a (Cluster)SecretStore that does not exist produces no Secret.',
  },
  {
    id: 'refs/monitor-target',
    severity: 'error',
    reason:
      'A ServiceMonitor or PodMonitor that selects nothing, or names a port the selected objects lack, scrapes nothing and alerts on nothing.',
  },
  {
    id: 'refs/out-of-band-reason',
    severity: 'error',
    reason: 'An out-of-band annotation must say how the object is created.',
  },
];

/** What every cluster has without us creating it. */
const KUBERNETES_PROVIDED: Record<string, (name: string) => boolean> = {
  ServiceAccount: (name) => name === 'default',
  PriorityClass: (name) => name === 'system-cluster-critical' || name === 'system-node-critical',
  ClusterRole: (name) => ['cluster-admin', 'admin', 'edit', 'view'].includes(name) || name.startsWith('system:'),
  ConfigMap: (name) => name === 'kube-root-ca.crt',
};

interface Reference {
  kind: string;
  name: string;
  at: string;
  namespace: string | undefined;
  rule: string;
  optional?: boolean;
}

export const referencesCheck: Check = {
  rules,
  check({ object, report }: ObjectContext, environment: EnvironmentIndex): void {
    const annotations: Record<string, string> = object?.metadata?.annotations ?? {};
    const outOfBand = new Set<string>();
    for (const [key, value] of Object.entries(annotations)) {
      if (!key.startsWith(OUT_OF_BAND_PREFIX)) continue;
      if (typeof value !== 'string' || value.trim() === '') {
        report(
          'refs/out-of-band-reason',
          fieldPath('metadata.annotations', key),
          `annotation ${key} must say how the object is created`,
        );
      } else {
        outOfBand.add(key.slice(OUT_OF_BAND_PREFIX.length));
      }
    }
    const namespace = namespaceOf(object);
    if (
      isNamespaced(object) &&
      namespace &&
      namespace !== 'default' &&
      !SYSTEM_NAMESPACES.includes(namespace) &&
      !environment.find('Namespace', undefined, namespace) &&
      !environment.isProvidedByPlatform('Namespace', undefined, namespace) &&
      !outOfBand.has(`namespace.${namespace}`)
    ) {
      report(
        'refs/namespace',
        'metadata.namespace',
        `namespace "${namespace}" is not created in environment "${environment.environment}": create it, list "Namespace/${namespace}" as platform-provided, or document it with the annotation ${OUT_OF_BAND_PREFIX}namespace.${namespace}`,
      );
    }
    if (object?.kind === 'ServiceMonitor' || object?.kind === 'PodMonitor')
      checkMonitorTarget(object, environment, report);
    for (const ref of referencesOf(object)) {
      if (ref.optional || exists(ref, environment) || outOfBand.has(`${ref.kind.toLowerCase()}.${ref.name}`)) continue;
      const where = ref.namespace ? ` in namespace "${ref.namespace}"` : '';
      const hint = ref.kind === 'Secret' ? ', produce it with an ExternalSecret' : '';
      report(
        ref.rule,
        ref.at,
        `${ref.kind} "${ref.name}" does not exist${where} in environment "${environment.environment}": define it${hint}, list "${ref.kind}/${ref.name}" as platform-provided, or document it with the annotation ${OUT_OF_BAND_PREFIX}${ref.kind.toLowerCase()}.${ref.name}`,
      );
    }
  },
};

/** ServiceMonitor → Services by label and port name; PodMonitor → pod templates by label and container port name. */
function checkMonitorTarget(monitor: any, environment: EnvironmentIndex, report: ObjectContext['report']): void {
  const namespaces: string[] = monitor.spec?.namespaceSelector?.matchNames ?? [namespaceOf(monitor)];
  if (monitor.spec?.namespaceSelector?.any === true) return; // every namespace: nothing to resolve here
  const servicesSelected = monitor.kind === 'ServiceMonitor';
  const targets = namespaces
    .flatMap((ns) =>
      servicesSelected
        ? environment.inNamespace('Service', ns)
        : ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'].flatMap((k) =>
            environment.inNamespace(k, ns),
          ),
    )
    .filter((t) =>
      selectorMatches(
        monitor.spec?.selector ?? {},
        servicesSelected ? t.metadata?.labels : podTemplateOf(t)?.metadata?.labels,
      ),
    );
  if (targets.length === 0) {
    report(
      'refs/monitor-target',
      'spec.selector',
      `selector ${JSON.stringify(monitor.spec?.selector ?? {})} matches no ${servicesSelected ? 'Service' : 'pod template'} in namespace(s) ${namespaces.join(', ')}`,
    );
    return;
  }
  const endpointsField = servicesSelected ? 'endpoints' : 'podMetricsEndpoints';
  (monitor.spec?.[endpointsField] ?? []).forEach((endpoint: any, i: number) => {
    if (typeof endpoint?.port !== 'string') return;
    const portNames = targets.flatMap((t) =>
      servicesSelected
        ? (t.spec?.ports ?? []).map((p: any) => p?.name)
        : containersOf(podTemplateOf(t)!).flatMap(({ container }) => (container?.ports ?? []).map((p: any) => p?.name)),
    );
    if (!portNames.includes(endpoint.port)) {
      report(
        'refs/monitor-target',
        fieldPath('spec', endpointsField, i, 'port'),
        `port "${endpoint.port}" is not a port name of the selected ${servicesSelected ? 'Services' : 'containers'} (${[...new Set(portNames.filter(Boolean))].join(', ') || 'none named'})`,
      );
    }
  });
}

function exists(ref: Reference, environment: EnvironmentIndex): boolean {
  if (KUBERNETES_PROVIDED[ref.kind]?.(ref.name)) return true;
  if (environment.find(ref.kind, ref.namespace, ref.name)) return true;
  if (environment.isProvidedByPlatform(ref.kind, ref.namespace, ref.name)) return true;
  if (ref.kind === 'Secret') {
    return environment
      .inNamespace('ExternalSecret', ref.namespace)
      .some((es) => (es.spec?.target?.name ?? es.metadata?.name) === ref.name);
  }
  return false;
}

/** Every reference an object holds, with its field path. */
export function referencesOf(object: any): Reference[] {
  const refs: Reference[] = [];
  const namespace = namespaceOf(object);
  const add = (kind: string, name: unknown, at: string, rule: string, extra: Partial<Reference> = {}) => {
    if (typeof name === 'string' && name !== '')
      refs.push({ kind, name, at, rule, namespace: isNamespaced({ kind }) ? namespace : undefined, ...extra });
  };
  const template = podTemplateOf(object);
  if (template) {
    const { spec, specPath } = template;
    add('ServiceAccount', spec.serviceAccountName, fieldPath(specPath, 'serviceAccountName'), 'refs/service-account');
    add('RuntimeClass', spec.runtimeClassName, fieldPath(specPath, 'runtimeClassName'), 'refs/runtime-class');
    add('PriorityClass', spec.priorityClassName, fieldPath(specPath, 'priorityClassName'), 'refs/priority-class');
    (spec.imagePullSecrets ?? []).forEach((s: any, i: number) =>
      add('Secret', s?.name, fieldPath(specPath, 'imagePullSecrets', i, 'name'), 'refs/secret'),
    );
    (spec.volumes ?? []).forEach((volume: any, i: number) => {
      const at = fieldPath(specPath, 'volumes', i);
      add('ConfigMap', volume?.configMap?.name, fieldPath(at, 'configMap', 'name'), 'refs/config-map', {
        optional: volume?.configMap?.optional === true,
      });
      add('Secret', volume?.secret?.secretName, fieldPath(at, 'secret', 'secretName'), 'refs/secret', {
        optional: volume?.secret?.optional === true,
      });
      add(
        'PersistentVolumeClaim',
        volume?.persistentVolumeClaim?.claimName,
        fieldPath(at, 'persistentVolumeClaim', 'claimName'),
        'refs/persistent-volume-claim',
      );
      (volume?.projected?.sources ?? []).forEach((source: any, j: number) => {
        const sourceAt = fieldPath(at, 'projected', 'sources', j);
        add('ConfigMap', source?.configMap?.name, fieldPath(sourceAt, 'configMap', 'name'), 'refs/config-map', {
          optional: source?.configMap?.optional === true,
        });
        add('Secret', source?.secret?.name, fieldPath(sourceAt, 'secret', 'name'), 'refs/secret', {
          optional: source?.secret?.optional === true,
        });
      });
    });
    for (const { container, path } of containersOf(template)) {
      (container?.env ?? []).forEach((env: any, i: number) => {
        const at = fieldPath(path, 'env', i, 'valueFrom');
        const cm = env?.valueFrom?.configMapKeyRef;
        const secret = env?.valueFrom?.secretKeyRef;
        add('ConfigMap', cm?.name, fieldPath(at, 'configMapKeyRef', 'name'), 'refs/config-map', {
          optional: cm?.optional === true,
        });
        add('Secret', secret?.name, fieldPath(at, 'secretKeyRef', 'name'), 'refs/secret', {
          optional: secret?.optional === true,
        });
      });
      (container?.envFrom ?? []).forEach((from: any, i: number) => {
        const at = fieldPath(path, 'envFrom', i);
        add('ConfigMap', from?.configMapRef?.name, fieldPath(at, 'configMapRef', 'name'), 'refs/config-map', {
          optional: from?.configMapRef?.optional === true,
        });
        add('Secret', from?.secretRef?.name, fieldPath(at, 'secretRef', 'name'), 'refs/secret', {
          optional: from?.secretRef?.optional === true,
        });
      });
    }
  }
  if (object?.kind === 'StatefulSet') {
    // the headless Service that gives the pods their DNS names
    add('Service', object.spec?.serviceName, 'spec.serviceName', 'refs/service');
    (object.spec?.volumeClaimTemplates ?? []).forEach((claim: any, i: number) =>
      add(
        'StorageClass',
        claim?.spec?.storageClassName,
        fieldPath('spec.volumeClaimTemplates', i, 'spec', 'storageClassName'),
        'refs/storage-class',
      ),
    );
  }
  if (object?.kind === 'PersistentVolumeClaim')
    add('StorageClass', object.spec?.storageClassName, 'spec.storageClassName', 'refs/storage-class');
  if (object?.kind === 'RoleBinding' || object?.kind === 'ClusterRoleBinding') {
    const ref = object.roleRef ?? {};
    add(ref.kind, ref.name, 'roleRef.name', 'refs/role');
    (object.subjects ?? []).forEach((subject: any, i: number) => {
      if (subject?.kind !== 'ServiceAccount') return;
      refs.push({
        kind: 'ServiceAccount',
        name: subject.name,
        at: fieldPath('subjects', i, 'name'),
        rule: 'refs/service-account',
        namespace: subject.namespace ?? namespace,
      });
    });
  }
  if (object?.kind === 'Ingress') {
    add('Service', object.spec?.defaultBackend?.service?.name, 'spec.defaultBackend.service.name', 'refs/service');
    (object.spec?.rules ?? []).forEach((rule: any, i: number) =>
      (rule?.http?.paths ?? []).forEach((p: any, j: number) =>
        add(
          'Service',
          p?.backend?.service?.name,
          fieldPath('spec.rules', i, 'http', 'paths', j, 'backend', 'service', 'name'),
          'refs/service',
        ),
      ),
    );
    (object.spec?.tls ?? []).forEach((tls: any, i: number) =>
      add('Secret', tls?.secretName, fieldPath('spec.tls', i, 'secretName'), 'refs/secret'),
    );
  }
  if (object?.kind === 'ExternalSecret') {
    const store = object.spec?.secretStoreRef ?? {};
    add(store.kind ?? 'SecretStore', store.name, 'spec.secretStoreRef.name', 'refs/secret-store');
  }
  return refs;
}
