import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, ResourceQuantities } from '../environment';
import { checkResources } from '../environments/validate';
import { checkSchedule, CRONJOB_NAME_MAX } from '../k8s/cron';
import { applyAppArmorRuntimeDefault } from '../parts/escape-hatch';
import { containerResources } from '../parts/hardening';
import { checkImage, ImageRef, imageName } from '../parts/image';
import { recommendedLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../k8s/names';
import { releaseOf } from '../kubernetes-versions';
import { Problems } from '../k8s/validation';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import { WAIVE_ANNOTATION, WAIVE_REASON_ANNOTATION } from '../policy';
import { defineWorkload } from './workload';

export interface EtcdBackupProps {
  /** The environment to render for; its control plane must be ours (env.bootstrap: a kubeadm cluster). */
  readonly env: Environment;

  /**
   * The CronJob's name (its Jobs add an 11-character suffix, so at most 52 characters).
   * @default 'etcd-backup'
   */
  readonly name?: string;

  /**
   * When to take a snapshot, in the CronJob's five-field syntax or a macro.
   * @default '0 *\/6 * * *' (every six hours)
   */
  readonly schedule?: string;

  /**
   * The IANA time zone the schedule is read in.
   * @default 'Etc/UTC'
   */
  readonly timeZone?: string;

  /**
   * How many snapshots to keep on the node; older ones are deleted after each new one.
   * @default 12 (three days at the default schedule)
   */
  readonly keep?: number;

  /**
   * The folder on the control-plane node that holds the snapshots. Copy it off the node as well
   * (a Proxmox backup of the VM, rsync to another host): a snapshot on the disk it protects is not
   * enough to survive that disk.
   * @default '/var/lib/etcd-backup'
   */
  readonly hostBackupDir?: string;

  /**
   * The etcd image that provides etcdctl: the one kubeadm runs etcd from, so client and server
   * versions match and the image is already on every control-plane node.
   * @default registry.k8s.io/etcd at the tag kubeadm of env.kubernetesVersion installs (lib/kubernetes-versions.ts)
   */
  readonly etcdImage?: ImageRef;

  /**
   * The image with a shell for naming and pruning snapshots (the etcd image is distroless).
   * @default library/busybox:1.37.0, through the environment's mirror
   */
  readonly shellImage?: ImageRef;

  /**
   * Resources of the snapshot container.
   * @default requests 50m/64Mi, limits 500m/256Mi
   */
  readonly resources?: { readonly requests: ResourceQuantities; readonly limits: ResourceQuantities };
}

/**
 * kubeadm's etcd for a Kubernetes minor (`kubeadm config images list`); not on Docker Hub, so not
 * through the mirror.
 */
export function kubeadmEtcdImage(kubernetesVersion: string): ImageRef {
  return { repository: 'registry.k8s.io/etcd', tag: releaseOf(kubernetesVersion).kubeadmImages.etcd };
}
export const SHELL_IMAGE: ImageRef = { repository: 'library/busybox', tag: '1.37.0' };

const NAMESPACE = 'kube-system';
/** Where kubeadm writes etcd's CA and client certificates on each control-plane node. */
const ETCD_PKI = '/etc/kubernetes/pki/etcd';
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';
const DEFAULT_RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
const SHELL_RESOURCES = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } };

/**
 * Pod Security rules this pod cannot meet, and why: the guardrails report them as waived, with the
 * reason, instead of failing (lib/policy/waivers.ts). kube-system enforces no level of its own.
 */
const WAIVED_RULES = ['pss/baseline/host-namespaces', 'pss/baseline/host-path-volumes', 'practice/network-policy'];
const WAIVER_REASON =
  "etcd-backup reaches etcd on the control-plane node's loopback (hostNetwork), reads kubeadm's etcd " +
  "client certificates and writes snapshots to the node's disk (hostPath); it runs as root only because those " +
  'certificate files are root-owned 0600, with every capability dropped, a read-only root filesystem and seccomp; ' +
  'NetworkPolicies do not apply to host-network pods, so none is written: it opens no port and dials only 127.0.0.1';

/**
 * Regular etcd snapshots, the first operational duty of a kubeadm cluster
 * (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#backing-up-an-etcd-cluster): etcd holds every object of the cluster, and a snapshot is what `etcdutl snapshot restore`
 * rebuilds it from. Only for a control plane that is ours to run (env.bootstrap); managed clusters
 * run and back up etcd for you.
 *
 * A CronJob in kube-system, pinned to the control-plane nodes, that saves a snapshot with etcdctl
 * using kubeadm's certificates and keeps the last N. It needs the host (its network, to reach etcd
 * on 127.0.0.1:2379; its files, for the certificates and the snapshots), so it is the one workload
 * outside Pod Security "restricted"; every other hardening that still applies is kept. With several
 * control-plane nodes, each run lands on any one of them: collect the folder from all of them.
 */
export class EtcdBackup extends Construct {
  public readonly name: string;

  constructor(scope: Construct, id: string, props: EtcdBackupProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'etcd-backup';
    const schedule = props.schedule ?? '0 */6 * * *';
    const timeZone = props.timeZone ?? 'Etc/UTC';
    const keep = props.keep ?? 12;
    const hostBackupDir = props.hostBackupDir ?? '/var/lib/etcd-backup';
    const etcdImage = props.etcdImage ?? kubeadmEtcdImage(env.kubernetesVersion);
    const shellImage = props.shellImage ?? SHELL_IMAGE;
    const resources = props.resources ?? DEFAULT_RESOURCES;
    this.name = name;

    const p = new Problems(this.node.path);
    p.check(
      env.bootstrap !== undefined,
      'env.bootstrap',
      env.bootstrap,
      'a kubeadm bootstrap: only a control plane that is ours to run has an etcd to back up (managed clusters back up their own)',
    );
    p.check(
      isDns1123Label(name) && name.length <= CRONJOB_NAME_MAX,
      'name',
      name,
      `${DNS1123_LABEL_RULE}, and at most ${CRONJOB_NAME_MAX} (a CronJob's Jobs add an 11-character suffix)`,
    );
    checkSchedule(p, 'schedule', schedule, 'timeZone', timeZone);
    p.check(Number.isInteger(keep) && keep >= 1, 'keep', keep, 'a whole number >= 1');
    p.check(
      /^(\/[A-Za-z0-9._-]+)+$/.test(hostBackupDir) &&
        !hostBackupDir.split('/').includes('..') &&
        !['/etc', '/var/lib/etcd', '/etc/kubernetes'].some(
          (d) => hostBackupDir === d || hostBackupDir.startsWith(`${d}/`),
        ),
      'hostBackupDir',
      hostBackupDir,
      'an absolute folder of letters, digits, ".", "_" and "-", outside /etc and etcd\'s own /var/lib/etcd',
    );
    checkImage(p, 'etcdImage', etcdImage, 'own registry');
    checkImage(p, 'shellImage', shellImage);
    checkResources(p, 'resources', resources.requests, resources.limits);
    p.throwIfAny();

    const labels = recommendedLabels({ name, component: 'etcd-backup', version: etcdImage.tag });
    const metadata = { name, namespace: NAMESPACE, labels };

    // Everything "restricted" asks for that host access still allows.
    const hardened: k8s.SecurityContext = {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      // uid 0 owns the certificate files, so reading them needs no capability (DAC_OVERRIDE and
      // friends are only for files one does not own): every capability is dropped.
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata,
      // etcdctl talks to etcd, not to the Kubernetes API.
      automountServiceAccountToken: false,
    });

    // The snapshot is written under a temporary name by etcdctl (which itself writes `<file>.part`
    // and renames it when the download is complete); the shell step gives it its dated name only if
    // it is there and not empty, then deletes all but the newest `KEEP`.
    const rotate = [
      'set -eu',
      'cd /backup',
      'test -s incoming.db',
      'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
      'mv incoming.db "etcd-snapshot-${stamp}.db"',
      'ls -1 etcd-snapshot-*.db | sort -r | tail -n "+$((KEEP + 1))" | xargs -r rm -f --',
      'ls -l etcd-snapshot-*.db',
    ].join('\n');

    const cronJob = new k8s.KubeCronJob(this, 'CronJob', {
      metadata: {
        ...metadata,
        annotations: { [WAIVE_ANNOTATION]: WAIVED_RULES.join(','), [WAIVE_REASON_ANNOTATION]: WAIVER_REASON },
      },
      spec: {
        schedule,
        timeZone,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 900,
            template: {
              metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': 'rotate' } },
              spec: {
                serviceAccountName: name,
                automountServiceAccountToken: false,
                priorityClassName: PRIORITY_CLASSES.batch,
                restartPolicy: 'Never',
                // Only the control-plane nodes run etcd and hold its certificates; kubeadm taints
                // them NoSchedule, so the pod tolerates exactly that taint.
                nodeSelector: { [CONTROL_PLANE_ROLE]: '' },
                tolerations: [{ key: CONTROL_PLANE_ROLE, operator: 'Exists', effect: 'NoSchedule' }],
                // kubeadm's etcd listens for clients on the node's loopback: only the host's network
                // namespace reaches it (a pod has a network namespace of its own, with its own loopback).
                // (NetworkPolicies do not apply to host-network pods, so this workload has none; it
                // opens no port and talks only to 127.0.0.1.)
                hostNetwork: true,
                securityContext: {
                  // Root, because kubeadm writes the certificates' keys root-owned with mode 0600,
                  // and hostPath volumes ignore fsGroup; no other privilege comes with it.
                  runAsNonRoot: false,
                  runAsUser: 0,
                  runAsGroup: 0,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                initContainers: [
                  {
                    name: 'snapshot',
                    // Pulled by kubeadm already for etcd's static pod: the exact reference, no mirror.
                    image: `${etcdImage.repository}:${etcdImage.tag}${etcdImage.digest ? `@${etcdImage.digest}` : ''}`,
                    imagePullPolicy: 'IfNotPresent',
                    command: [
                      'etcdctl',
                      '--endpoints=https://127.0.0.1:2379',
                      `--cacert=${ETCD_PKI}/ca.crt`,
                      // kubeadm's client certificate for etcd health checks; kubeadm's etcd trusts
                      // every certificate its CA signed (no etcd RBAC), which is enough for a snapshot.
                      `--cert=${ETCD_PKI}/healthcheck-client.crt`,
                      `--key=${ETCD_PKI}/healthcheck-client.key`,
                      '--dial-timeout=10s',
                      '--command-timeout=300s',
                      'snapshot',
                      'save',
                      '/backup/incoming.db',
                    ],
                    resources: containerResources(resources.requests, resources.limits),
                    securityContext: hardened,
                    volumeMounts: [
                      { name: 'etcd-pki', mountPath: ETCD_PKI, readOnly: true },
                      { name: 'backup', mountPath: '/backup' },
                    ],
                  },
                ],
                containers: [
                  {
                    name: 'rotate',
                    image: imageName(env.registry, shellImage),
                    imagePullPolicy: 'IfNotPresent',
                    command: ['/bin/sh', '-c', rotate],
                    env: [{ name: 'KEEP', value: String(keep) }],
                    resources: containerResources(SHELL_RESOURCES.requests, SHELL_RESOURCES.limits),
                    securityContext: hardened,
                    volumeMounts: [{ name: 'backup', mountPath: '/backup' }],
                  },
                ],
                volumes: [
                  { name: 'etcd-pki', hostPath: { path: ETCD_PKI, type: 'Directory' } },
                  { name: 'backup', hostPath: { path: hostBackupDir, type: 'DirectoryOrCreate' } },
                ],
              },
            },
          },
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(cronJob), '/spec/jobTemplate/spec/template', env);
  }
}

// This file is a workload because of its default export, listed in index.ts. It is no app: it runs
// beside etcd in kube-system, and only where the control plane is ours, a kubeadm cluster (the lab).
export default defineWorkload({
  name: 'etcd-backup',
  appNamespace: false,
  runsIn: (env) => env.bootstrap !== undefined,
  build: (scope, id, env) => new EtcdBackup(scope, id, { env }),
});
