/**
 * Pod Security Standards, field by field as Kubernetes' pod-security-admission
 * defines them (k8s.io/pod-security-admission/policy, check_*.go). Every pod
 * template is checked at the level its namespace enforces: the Namespace
 * object's pod-security.kubernetes.io/enforce label. Namespaces this project
 * does not define (kube-system...) are checked at baseline: the cluster would
 * admit anything there, but host access should be a visible, waived exception.
 * A container is a process confined by namespaces, cgroups, capabilities and
 * seccomp; these checks keep each of those doors shut (Pod Security Standards,
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/).
 */
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { containersOf, namespaceOf, podTemplateOf, SYSTEM_NAMESPACES } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export type Level = 'privileged' | 'baseline' | 'restricted';
const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

export const rules: Rule[] = [
  {
    id: 'pss/namespace-enforce',
    severity: 'error',
    reason:
      'Every app namespace must enforce the "restricted" Pod Security Standard so the API server refuses weaker pods.',
  },
  {
    id: 'pss/baseline/host-namespaces',
    severity: 'error',
    reason: "hostNetwork, hostPID and hostIPC share the node's namespaces and break pod isolation.",
  },
  {
    id: 'pss/baseline/privileged',
    severity: 'error',
    reason: 'Privileged containers have every capability and every device of the node.',
  },
  {
    id: 'pss/baseline/capabilities',
    severity: 'error',
    reason: 'Only the default container capabilities may be added.',
  },
  { id: 'pss/baseline/host-path-volumes', severity: 'error', reason: "hostPath volumes expose the node's filesystem." },
  {
    id: 'pss/baseline/host-ports',
    severity: 'error',
    reason: "Host ports bind the node's network and bypass Services and NetworkPolicies.",
  },
  {
    id: 'pss/baseline/apparmor',
    severity: 'error',
    reason: 'AppArmor must not be disabled (Unconfined); only the runtime default or a localhost profile.',
  },
  {
    id: 'pss/baseline/selinux',
    severity: 'error',
    reason: 'SELinux type must be a container type and user/role must not be set.',
  },
  {
    id: 'pss/baseline/proc-mount',
    severity: 'error',
    reason: 'An unmasked /proc exposes host information; only the Default proc mount.',
  },
  { id: 'pss/baseline/seccomp', severity: 'error', reason: 'seccomp must not be disabled (Unconfined).' },
  { id: 'pss/baseline/sysctls', severity: 'error', reason: 'Only namespaced, isolated ("safe") sysctls may be set.' },
  {
    id: 'pss/baseline/windows-host-process',
    severity: 'error',
    reason: 'Windows HostProcess containers have host access.',
  },
  {
    id: 'pss/restricted/volume-types',
    severity: 'error',
    reason:
      'Restricted pods may only use configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.',
  },
  {
    id: 'pss/restricted/privilege-escalation',
    severity: 'error',
    reason: 'allowPrivilegeEscalation must be false so setuid binaries cannot gain privileges.',
  },
  {
    id: 'pss/restricted/run-as-non-root',
    severity: 'error',
    reason: 'Containers must run as a non-root user (runAsNonRoot: true).',
  },
  { id: 'pss/restricted/run-as-user', severity: 'error', reason: 'runAsUser must not be 0 (root).' },
  {
    id: 'pss/restricted/seccomp',
    severity: 'error',
    reason: 'seccomp must be RuntimeDefault or Localhost, set on the pod or every container.',
  },
  {
    id: 'pss/restricted/capabilities',
    severity: 'error',
    reason: 'Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE.',
  },
];

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function minor(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}

/** Safe sysctls by the policy version that allowed them (check_sysctls.go). */
export function safeSysctls(kubernetesVersion: string): Set<string> {
  const m = minor(kubernetesVersion);
  const names = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
  ];
  if (m >= 27) names.push('net.ipv4.ip_local_reserved_ports');
  if (m >= 29)
    names.push(
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
    );
  if (m >= 32) names.push('net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem');
  return new Set(names);
}

function allowedSeLinuxTypes(kubernetesVersion: string): Set<string> {
  const types = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
  if (minor(kubernetesVersion) >= 31) types.push('container_engine_t');
  return new Set(types);
}

/** The level a namespace enforces, and whether the project defines that namespace. */
export function levelOf(namespace: string | undefined, environment: EnvironmentIndex): Level {
  const definition = namespace ? environment.find('Namespace', undefined, namespace) : undefined;
  if (!definition) return namespace && SYSTEM_NAMESPACES.includes(namespace) ? 'baseline' : 'restricted';
  const label = definition.metadata?.labels?.[ENFORCE_LABEL];
  return label === 'privileged' || label === 'baseline' ? label : 'restricted';
}

export const podSecurityCheck: Check = {
  rules,
  check({ object, input, report }: ObjectContext, environment: EnvironmentIndex): void {
    if (object?.kind === 'Namespace') {
      const name = object.metadata?.name;
      const label = object.metadata?.labels?.[ENFORCE_LABEL];
      if (!SYSTEM_NAMESPACES.includes(name) && label !== 'restricted') {
        report(
          'pss/namespace-enforce',
          fieldPath('metadata.labels', ENFORCE_LABEL),
          `app namespace "${name}" enforces ${label === undefined ? 'nothing (the label is missing)' : `"${label}"`}: set ${ENFORCE_LABEL}: restricted`,
        );
      }
      return;
    }
    const template = podTemplateOf(object);
    if (!template) return;
    const level = levelOf(namespaceOf(object), environment);
    if (level === 'privileged') return;
    const version = input.kubernetesVersion;
    checkBaseline(template, version, report);
    if (level === 'restricted') checkRestricted(template, report);
  },
};

type Template = NonNullable<ReturnType<typeof podTemplateOf>>;

function checkBaseline(template: Template, version: string, report: ObjectContext['report']): void {
  const { spec, specPath } = template;
  const podSecurity = spec.securityContext ?? {};
  const podSecurityPath = fieldPath(specPath, 'securityContext');
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[field] === true)
      report(
        'pss/baseline/host-namespaces',
        fieldPath(specPath, field),
        `${field}: true is not allowed: must be unset or false`,
      );
  }
  (spec.volumes ?? []).forEach((volume: any, i: number) => {
    if (volume?.hostPath)
      report(
        'pss/baseline/host-path-volumes',
        fieldPath(specPath, 'volumes', i, 'hostPath'),
        `hostPath volume "${volume.name}" is not allowed`,
      );
  });
  for (const sysctl of podSecurity.sysctls ?? []) {
    if (!safeSysctls(version).has(sysctl?.name)) {
      report(
        'pss/baseline/sysctls',
        fieldPath(podSecurityPath, 'sysctls'),
        `sysctl "${sysctl?.name}" is not allowed: must be one of ${[...safeSysctls(version)].join(', ')}`,
      );
    }
  }
  checkSeccompNotUnconfined(podSecurity, podSecurityPath, report);
  checkSeLinux(podSecurity.seLinuxOptions, fieldPath(podSecurityPath, 'seLinuxOptions'), version, report);
  checkAppArmorProfile(podSecurity.appArmorProfile, fieldPath(podSecurityPath, 'appArmorProfile'), report);
  if (podSecurity.windowsOptions?.hostProcess === true) {
    report(
      'pss/baseline/windows-host-process',
      fieldPath(podSecurityPath, 'windowsOptions', 'hostProcess'),
      'hostProcess: true is not allowed',
    );
  }
  for (const [key, value] of Object.entries(template.metadata?.annotations ?? {})) {
    if (
      key.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
      value !== 'runtime/default' &&
      !String(value).startsWith('localhost/')
    ) {
      report(
        'pss/baseline/apparmor',
        fieldPath(template.metadataPath, 'annotations', key),
        `AppArmor profile ${JSON.stringify(value)} is not allowed: must be "runtime/default" or "localhost/<profile>"`,
      );
    }
  }
  for (const { container, path } of containersOf(template)) {
    const security = container?.securityContext ?? {};
    const securityPath = fieldPath(path, 'securityContext');
    if (security.privileged === true)
      report(
        'pss/baseline/privileged',
        fieldPath(securityPath, 'privileged'),
        'privileged: true is not allowed: must be unset or false',
      );
    for (const capability of security.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(capability)) {
        report(
          'pss/baseline/capabilities',
          fieldPath(securityPath, 'capabilities', 'add'),
          `adding capability "${capability}" is not allowed: only ${[...BASELINE_CAPABILITIES].join(', ')}`,
        );
      }
    }
    (container?.ports ?? []).forEach((port: any, i: number) => {
      if (port?.hostPort)
        report(
          'pss/baseline/host-ports',
          fieldPath(path, 'ports', i, 'hostPort'),
          `hostPort ${port.hostPort} is not allowed: must be unset or 0`,
        );
    });
    if (security.procMount !== undefined && security.procMount !== 'Default') {
      report(
        'pss/baseline/proc-mount',
        fieldPath(securityPath, 'procMount'),
        `procMount "${security.procMount}" is not allowed: must be unset or "Default"`,
      );
    }
    checkSeccompNotUnconfined(security, securityPath, report);
    checkSeLinux(security.seLinuxOptions, fieldPath(securityPath, 'seLinuxOptions'), version, report);
    checkAppArmorProfile(security.appArmorProfile, fieldPath(securityPath, 'appArmorProfile'), report);
    if (security.windowsOptions?.hostProcess === true) {
      report(
        'pss/baseline/windows-host-process',
        fieldPath(securityPath, 'windowsOptions', 'hostProcess'),
        'hostProcess: true is not allowed',
      );
    }
  }
}

function checkSeccompNotUnconfined(security: any, at: string, report: ObjectContext['report']): void {
  if (security?.seccompProfile?.type === 'Unconfined') {
    report(
      'pss/baseline/seccomp',
      fieldPath(at, 'seccompProfile', 'type'),
      'seccompProfile "Unconfined" is not allowed',
    );
  }
}

function checkAppArmorProfile(profile: any, at: string, report: ObjectContext['report']): void {
  if (profile?.type !== undefined && profile.type !== 'RuntimeDefault' && profile.type !== 'Localhost') {
    report(
      'pss/baseline/apparmor',
      fieldPath(at, 'type'),
      `appArmorProfile "${profile.type}" is not allowed: must be RuntimeDefault or Localhost`,
    );
  }
}

function checkSeLinux(options: any, at: string, version: string, report: ObjectContext['report']): void {
  if (!options) return;
  const allowed = allowedSeLinuxTypes(version);
  if (options.type !== undefined && !allowed.has(options.type)) {
    report(
      'pss/baseline/selinux',
      fieldPath(at, 'type'),
      `SELinux type "${options.type}" is not allowed: must be one of ${[...allowed].filter(Boolean).join(', ')}`,
    );
  }
  for (const field of ['user', 'role']) {
    if (options[field]) report('pss/baseline/selinux', fieldPath(at, field), `SELinux ${field} must not be set`);
  }
}

function checkRestricted(template: Template, report: ObjectContext['report']): void {
  const { spec, specPath } = template;
  const pod = spec.securityContext ?? {};
  const podPath = fieldPath(specPath, 'securityContext');
  (spec.volumes ?? []).forEach((volume: any, i: number) => {
    const types = Object.keys(volume ?? {}).filter((k) => k !== 'name');
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type)) {
        report(
          'pss/restricted/volume-types',
          fieldPath(specPath, 'volumes', i, type),
          `volume "${volume.name}" of type ${type} is not allowed: must be one of ${[...RESTRICTED_VOLUME_TYPES].join(', ')}`,
        );
      }
    }
  });
  if (pod.runAsNonRoot === false)
    report(
      'pss/restricted/run-as-non-root',
      fieldPath(podPath, 'runAsNonRoot'),
      'runAsNonRoot: false is not allowed: must be true',
    );
  if (pod.runAsUser === 0)
    report(
      'pss/restricted/run-as-user',
      fieldPath(podPath, 'runAsUser'),
      'runAsUser: 0 is not allowed: must be a non-zero user id',
    );
  const podSeccomp = pod.seccompProfile?.type;
  const podSeccompOk = podSeccomp === 'RuntimeDefault' || podSeccomp === 'Localhost';
  if (podSeccomp !== undefined && !podSeccompOk && podSeccomp !== 'Unconfined') {
    report(
      'pss/restricted/seccomp',
      fieldPath(podPath, 'seccompProfile', 'type'),
      `seccompProfile "${podSeccomp}" is not allowed: must be RuntimeDefault or Localhost`,
    );
  }
  for (const { container, path } of containersOf(template)) {
    const security = container?.securityContext ?? {};
    const at = fieldPath(path, 'securityContext');
    const name = container?.name;
    if (security.allowPrivilegeEscalation !== false) {
      report(
        'pss/restricted/privilege-escalation',
        fieldPath(at, 'allowPrivilegeEscalation'),
        `container "${name}" must set allowPrivilegeEscalation: false (got ${JSON.stringify(security.allowPrivilegeEscalation)})`,
      );
    }
    if (security.runAsNonRoot === false) {
      report(
        'pss/restricted/run-as-non-root',
        fieldPath(at, 'runAsNonRoot'),
        `container "${name}": runAsNonRoot: false is not allowed: must be true`,
      );
    } else if (security.runAsNonRoot !== true && pod.runAsNonRoot !== true) {
      report(
        'pss/restricted/run-as-non-root',
        fieldPath(at, 'runAsNonRoot'),
        `container "${name}" must run as non-root: set runAsNonRoot: true on the pod or the container`,
      );
    }
    if (security.runAsUser === 0)
      report(
        'pss/restricted/run-as-user',
        fieldPath(at, 'runAsUser'),
        `container "${name}": runAsUser: 0 is not allowed`,
      );
    const seccomp = security.seccompProfile?.type;
    if (seccomp !== undefined) {
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost' && seccomp !== 'Unconfined') {
        report(
          'pss/restricted/seccomp',
          fieldPath(at, 'seccompProfile', 'type'),
          `container "${name}": seccompProfile "${seccomp}" is not allowed: must be RuntimeDefault or Localhost`,
        );
      }
    } else if (!podSeccompOk) {
      report(
        'pss/restricted/seccomp',
        fieldPath(at, 'seccompProfile'),
        `container "${name}" has no seccompProfile and the pod sets none: set type RuntimeDefault on the pod or the container`,
      );
    }
    const capabilities = security.capabilities ?? {};
    if (!(capabilities.drop ?? []).includes('ALL')) {
      report(
        'pss/restricted/capabilities',
        fieldPath(at, 'capabilities', 'drop'),
        `container "${name}" must drop ALL capabilities`,
      );
    }
    for (const capability of capabilities.add ?? []) {
      if (capability !== 'NET_BIND_SERVICE') {
        report(
          'pss/restricted/capabilities',
          fieldPath(at, 'capabilities', 'add'),
          `container "${name}" may add back only NET_BIND_SERVICE, not "${capability}"`,
        );
      }
    }
  }
}
