/**
 * Practice: the default checks of kube-score, Polaris and kube-linter that
 * apply to what this project generates. Each is something a careful reviewer
 * would send back even though the API server accepts it.
 */
import { isDeepStrictEqual } from 'util';
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { containersOf, mapSelectorMatches, namespaceOf, podTemplateOf, selectorMatches } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'practice/resources',
    severity: 'error',
    reason:
      'Without cpu and memory requests the scheduler cannot bin-pack; without limits one pod can starve its node.',
  },
  {
    id: 'practice/probes',
    severity: 'error',
    reason:
      'Long-running containers need a startup probe (a slow start is not a failure), a readiness probe (traffic only when ready) and a liveness probe (restart when stuck).',
  },
  {
    id: 'practice/liveness-differs',
    severity: 'error',
    reason:
      'A liveness probe identical to the readiness probe restarts pods that are merely busy, turning load into an outage.',
  },
  {
    id: 'practice/probe-port',
    severity: 'error',
    reason: 'A probe on a port the container does not declare always fails.',
  },
  {
    id: 'practice/image-pinned',
    severity: 'error',
    reason: 'An image without a tag, or with "latest", changes under a running Deployment; pin a tag or a digest.',
  },
  {
    id: 'practice/read-only-root-filesystem',
    severity: 'error',
    reason:
      'A read-only root filesystem keeps an intruder from changing the container; write to emptyDir volumes instead.',
  },
  {
    id: 'practice/pdb-allows-drain',
    severity: 'error',
    reason: 'A PodDisruptionBudget that allows no disruption blocks every node drain and cluster upgrade.',
  },
  {
    id: 'practice/pdb-coverage',
    severity: 'error',
    reason: 'A replicated workload without a PodDisruptionBudget can lose all replicas at once during a drain.',
  },
  {
    id: 'practice/spread',
    severity: 'error',
    reason: 'Replicas on one node or zone fail together; use pod anti-affinity or topology spread constraints.',
  },
  {
    id: 'practice/service-selector',
    severity: 'error',
    reason: 'A Service whose selector reaches no pod template (or names a port no pod has) has no endpoints.',
  },
  {
    id: 'practice/hpa-target',
    severity: 'error',
    reason:
      'An HPA must target an existing workload that leaves replicas to it; static replicas fight the autoscaler on every apply.',
  },
  {
    id: 'practice/job-limits',
    severity: 'error',
    reason: 'Jobs need backoffLimit and activeDeadlineSeconds, or a failing Job retries and runs without end.',
  },
  {
    id: 'practice/cronjob-limits',
    severity: 'error',
    reason: 'CronJobs need an explicit concurrencyPolicy, a startingDeadlineSeconds and history limits.',
  },
  {
    id: 'practice/service-account-token',
    severity: 'error',
    reason:
      'Pods whose service account has no Role should not mount an API token (automountServiceAccountToken: false).',
  },
  {
    id: 'practice/own-service-account',
    severity: 'error',
    reason:
      'A pod that names no ServiceAccount runs as its namespace\'s "default" account, shared with every other such pod; each workload gets its own, so its permissions and cloud identity are its own.',
  },
  {
    id: 'practice/recommended-labels',
    severity: 'error',
    reason:
      'A workload and its pods carry the six app.kubernetes.io labels (name, instance, version, component, part-of, managed-by), so kubectl -l, dashboards and cost reports can find and group them.',
  },
];

/** The recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels). */
export const RECOMMENDED_LABELS = ['name', 'instance', 'version', 'component', 'part-of', 'managed-by'].map(
  (l) => `app.kubernetes.io/${l}`,
);

type ReportFn = ObjectContext['report'];
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const REPLICATED = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

export const practiceCheck: Check = {
  rules,
  check({ object, report }: ObjectContext, environment: EnvironmentIndex): void {
    switch (object?.kind) {
      case 'PodDisruptionBudget':
        checkPdb(object, environment, report);
        break;
      case 'Service':
        checkService(object, environment, report);
        break;
      case 'HorizontalPodAutoscaler':
        checkHpa(object, environment, report);
        break;
      default:
        break;
    }
    const template = podTemplateOf(object);
    if (!template) return;
    checkContainers(object, template, report);
    checkWorkloadAvailability(object, environment, report);
    checkServiceAccountToken(object, template, environment, report);
    checkOwnServiceAccount(template, report);
    checkRecommendedLabels(object, template, report);
    if (object.kind === 'Job') checkJobLimits(object.spec, 'spec', report);
    if (object.kind === 'CronJob') {
      checkJobLimits(object.spec?.jobTemplate?.spec, 'spec.jobTemplate.spec', report);
      for (const field of [
        'concurrencyPolicy',
        'startingDeadlineSeconds',
        'successfulJobsHistoryLimit',
        'failedJobsHistoryLimit',
      ]) {
        if (object.spec?.[field] === undefined)
          report('practice/cronjob-limits', fieldPath('spec', field), `CronJob must set ${field}`);
      }
    }
  },
};

/** The image reference's tag, digest and whether either pins it. */
export function imagePinProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return 'no image set';
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= lastSlash) return `image "${image}" has no tag: pin a version tag or a digest`;
  if (image.slice(colon + 1) === 'latest')
    return `image "${image}" uses the tag "latest": pin a version tag or a digest`;
  return undefined;
}

function checkContainers(object: any, template: NonNullable<ReturnType<typeof podTemplateOf>>, report: ReportFn): void {
  for (const { container, path, list } of containersOf(template)) {
    if (list === 'ephemeralContainers') continue;
    const name = container?.name;
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) {
        if (container?.resources?.[kind]?.[resource] === undefined) {
          report(
            'practice/resources',
            fieldPath(path, 'resources', kind, resource),
            `container "${name}" must set ${kind}.${resource}`,
          );
        }
      }
    }
    const pinProblem = imagePinProblem(container?.image);
    if (pinProblem) report('practice/image-pinned', fieldPath(path, 'image'), pinProblem);
    if (container?.securityContext?.readOnlyRootFilesystem !== true) {
      report(
        'practice/read-only-root-filesystem',
        fieldPath(path, 'securityContext', 'readOnlyRootFilesystem'),
        `container "${name}" must set readOnlyRootFilesystem: true (mount an emptyDir where it writes)`,
      );
    }
    const ports: any[] = container?.ports ?? [];
    for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const probe = container?.[probeName];
      for (const action of ['httpGet', 'tcpSocket', 'grpc']) {
        const port = probe?.[action]?.port;
        if (port === undefined) continue;
        const declared =
          typeof port === 'string' ? ports.some((p) => p?.name === port) : ports.some((p) => p?.containerPort === port);
        if (!declared) {
          report(
            'practice/probe-port',
            fieldPath(path, probeName, action, 'port'),
            `${probeName} uses port ${JSON.stringify(port)} but container "${name}" declares ${ports.length ? ports.map((p) => p.name ?? p.containerPort).join(', ') : 'no ports'}`,
          );
        }
      }
    }
    if (list !== 'containers' || !LONG_RUNNING.has(object.kind)) continue;
    for (const probeName of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      if (!container?.[probeName])
        report(
          'practice/probes',
          fieldPath(path, probeName),
          `long-running container "${name}" must have a ${probeName}`,
        );
    }
    if (container?.livenessProbe && isDeepStrictEqual(container.livenessProbe, container.readinessProbe)) {
      report(
        'practice/liveness-differs',
        fieldPath(path, 'livenessProbe'),
        `container "${name}" uses the same probe for liveness and readiness: liveness should check only that the process is alive`,
      );
    }
  }
}

/** How many replicas a workload runs at least: the HPA's minReplicas when one targets it. */
function minimumReplicas(object: any, environment: EnvironmentIndex): number {
  const hpa = hpaFor(object, environment);
  if (hpa) return hpa.spec?.minReplicas ?? 1;
  return object.spec?.replicas ?? 1;
}

function hpaFor(object: any, environment: EnvironmentIndex): any {
  return environment
    .inNamespace('HorizontalPodAutoscaler', namespaceOf(object))
    .find(
      (h) => h.spec?.scaleTargetRef?.kind === object.kind && h.spec?.scaleTargetRef?.name === object.metadata?.name,
    );
}

function templateLabels(object: any): Record<string, string> | undefined {
  return podTemplateOf(object)?.metadata?.labels;
}

function checkWorkloadAvailability(object: any, environment: EnvironmentIndex, report: ReportFn): void {
  if (!REPLICATED.has(object.kind)) return;
  const replicas = minimumReplicas(object, environment);
  const hpa = hpaFor(object, environment);
  const maxReplicas = hpa?.spec?.maxReplicas ?? replicas;
  if (Math.max(replicas, maxReplicas) < 2) return;
  const labels = templateLabels(object);
  const covered = environment
    .inNamespace('PodDisruptionBudget', namespaceOf(object))
    .some((pdb) => selectorMatches(pdb.spec?.selector, labels));
  if (!covered) {
    report(
      'practice/pdb-coverage',
      'metadata.name',
      `${object.kind} "${object.metadata?.name}" runs up to ${Math.max(replicas, maxReplicas)} replicas but no PodDisruptionBudget selects its pods`,
    );
  }
  const spec = podTemplateOf(object)!.spec;
  const spread =
    (spec.topologySpreadConstraints ?? []).length > 0 ||
    (spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0 ||
    (spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0;
  if (!spread) {
    report(
      'practice/spread',
      fieldPath(podTemplateOf(object)!.specPath, 'topologySpreadConstraints'),
      `${object.kind} "${object.metadata?.name}" runs up to ${Math.max(replicas, maxReplicas)} replicas without pod anti-affinity or topology spread constraints`,
    );
  }
}

/** Pods allowed to be unavailable by a PDB for a workload of this many replicas (eviction API arithmetic). */
export function disruptionsAllowed(pdbSpec: any, replicas: number): number {
  const percent = (v: string) => Number(v.slice(0, -1)) / 100;
  if (pdbSpec?.maxUnavailable !== undefined) {
    const v = pdbSpec.maxUnavailable;
    return typeof v === 'string' && v.endsWith('%') ? Math.ceil(percent(v) * replicas) : Number(v);
  }
  if (pdbSpec?.minAvailable !== undefined) {
    const v = pdbSpec.minAvailable;
    const min = typeof v === 'string' && v.endsWith('%') ? Math.ceil(percent(v) * replicas) : Number(v);
    return replicas - min;
  }
  return replicas; // neither set: the API server refuses this; the schema reports it
}

function checkPdb(pdb: any, environment: EnvironmentIndex, report: ReportFn): void {
  const workloads = [...REPLICATED, 'DaemonSet']
    .flatMap((kind) => environment.inNamespace(kind, namespaceOf(pdb)))
    .filter((w) => selectorMatches(pdb.spec?.selector, templateLabels(w)));
  if (workloads.length === 0) {
    report(
      'practice/pdb-allows-drain',
      'spec.selector',
      `PodDisruptionBudget "${pdb.metadata?.name}" selects no pod template in namespace "${namespaceOf(pdb)}"`,
    );
    return;
  }
  for (const workload of workloads) {
    if (workload.kind === 'DaemonSet') continue; // drains do not evict DaemonSet pods
    const replicas = minimumReplicas(workload, environment);
    const allowed = disruptionsAllowed(pdb.spec, replicas);
    if (allowed < 1) {
      const field = pdb.spec?.maxUnavailable !== undefined ? 'spec.maxUnavailable' : 'spec.minAvailable';
      report(
        'practice/pdb-allows-drain',
        field,
        `with ${replicas} replica(s) of ${workload.kind} "${workload.metadata?.name}", ${field.slice(5)} ${JSON.stringify(pdb.spec?.[field.slice(5)])} allows no disruption and blocks every drain: use maxUnavailable: 1 or a minAvailable below the replica count`,
      );
    }
  }
}

function checkService(service: any, environment: EnvironmentIndex, report: ReportFn): void {
  const selector = service.spec?.selector;
  if (service.spec?.type === 'ExternalName' || !selector) return;
  const workloads = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']
    .flatMap((kind) => environment.inNamespace(kind, namespaceOf(service)))
    .filter((w) => mapSelectorMatches(selector, templateLabels(w)));
  if (workloads.length === 0) {
    report(
      'practice/service-selector',
      'spec.selector',
      `selector ${JSON.stringify(selector)} matches no pod template in namespace "${namespaceOf(service)}"`,
    );
    return;
  }
  (service.spec?.ports ?? []).forEach((port: any, i: number) => {
    const target = port?.targetPort ?? port?.port;
    const found = workloads.some((w) =>
      containersOf(podTemplateOf(w)!).some(({ container }) =>
        (container?.ports ?? []).some((p: any) =>
          typeof target === 'string' ? p?.name === target : p?.containerPort === target,
        ),
      ),
    );
    if (!found) {
      report(
        'practice/service-selector',
        fieldPath('spec.ports', i, port?.targetPort !== undefined ? 'targetPort' : 'port'),
        `no container of the selected pods declares port ${JSON.stringify(target)}`,
      );
    }
  });
}

function checkHpa(hpa: any, environment: EnvironmentIndex, report: ReportFn): void {
  const ref = hpa.spec?.scaleTargetRef ?? {};
  const target = environment.find(ref.kind, namespaceOf(hpa), ref.name);
  if (!target) {
    report(
      'practice/hpa-target',
      'spec.scaleTargetRef',
      `scale target ${ref.kind} "${ref.name}" does not exist in namespace "${namespaceOf(hpa)}"`,
    );
  } else if (target.spec?.replicas !== undefined) {
    report(
      'practice/hpa-target',
      'spec.scaleTargetRef',
      `scale target ${ref.kind} "${ref.name}" sets spec.replicas: ${target.spec.replicas}; leave it unset so every apply does not reset the autoscaler`,
    );
  }
  const min = hpa.spec?.minReplicas ?? 1;
  if (typeof hpa.spec?.maxReplicas === 'number' && min > hpa.spec.maxReplicas) {
    report(
      'practice/hpa-target',
      'spec.minReplicas',
      `minReplicas ${min} is above maxReplicas ${hpa.spec.maxReplicas}`,
    );
  }
}

function checkJobLimits(jobSpec: any, at: string, report: ReportFn): void {
  for (const field of ['backoffLimit', 'activeDeadlineSeconds']) {
    if (jobSpec?.[field] === undefined) report('practice/job-limits', fieldPath(at, field), `Job must set ${field}`);
  }
}

/** Is this service account a subject of a RoleBinding or ClusterRoleBinding in the environment? */
function serviceAccountHasRole(namespace: string | undefined, name: string, environment: EnvironmentIndex): boolean {
  return [...environment.ofKind('RoleBinding'), ...environment.ofKind('ClusterRoleBinding')].some((binding) =>
    (binding.subjects ?? []).some(
      (s: any) =>
        s?.kind === 'ServiceAccount' && s?.name === name && (s?.namespace ?? namespaceOf(binding)) === namespace,
    ),
  );
}

function checkServiceAccountToken(
  object: any,
  template: NonNullable<ReturnType<typeof podTemplateOf>>,
  environment: EnvironmentIndex,
  report: ReportFn,
): void {
  const namespace = namespaceOf(object);
  const accountName = template.spec.serviceAccountName ?? 'default';
  if (serviceAccountHasRole(namespace, accountName, environment)) return;
  const podSetting = template.spec.automountServiceAccountToken;
  const account = environment.find('ServiceAccount', namespace, accountName);
  const mounts = podSetting ?? account?.automountServiceAccountToken ?? true;
  if (mounts !== false) {
    report(
      'practice/service-account-token',
      fieldPath(template.specPath, 'automountServiceAccountToken'),
      `service account "${accountName}" has no Role, yet the pod mounts its API token: set automountServiceAccountToken: false`,
    );
  }
}

function checkOwnServiceAccount(template: NonNullable<ReturnType<typeof podTemplateOf>>, report: ReportFn): void {
  const accountName = template.spec.serviceAccountName;
  if (accountName === undefined || accountName === 'default') {
    report(
      'practice/own-service-account',
      fieldPath(template.specPath, 'serviceAccountName'),
      `the pod runs as ${accountName === undefined ? 'no named ServiceAccount, so as "default"' : '"default"'}: create a ServiceAccount for this workload and name it here`,
    );
  }
}

function checkRecommendedLabels(
  object: any,
  template: NonNullable<ReturnType<typeof podTemplateOf>>,
  report: ReportFn,
): void {
  const places =
    object.kind === 'Pod'
      ? [['metadata', object.metadata]]
      : [
          ['metadata', object.metadata],
          [template.metadataPath, template.metadata],
        ];
  for (const [at, metadata] of places) {
    const labels = metadata?.labels ?? {};
    const missing = RECOMMENDED_LABELS.filter((label) => typeof labels[label] !== 'string' || labels[label] === '');
    if (missing.length > 0) {
      report(
        'practice/recommended-labels',
        fieldPath(at, 'labels'),
        `missing ${missing.join(', ')}: every workload and its pod template carry all six recommended labels`,
      );
    }
  }
}
