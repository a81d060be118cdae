import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { only, rendered, testChart, withChange } from '../../test/helpers';
import { EtcdBackup } from './etcd-backup';

const objectsOf = (name: keyof typeof ENVIRONMENTS): any[] =>
  renderEnvironment(ENVIRONMENTS[name])
    .objects.filter((o) => o.constructPath.startsWith(`${name}/etcd-backup/`))
    .map((o) => o.object);

describe('etcd-backup in the lab', () => {
  const objects = objectsOf('lab');
  const cronJob = only(objects, 'CronJob', 'etcd-backup');
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const snapshot = pod.initContainers[0];
  const rotate = pod.containers[0];

  test('a CronJob in kube-system with its own ServiceAccount and no API token', () => {
    expect(cronJob.metadata.namespace).toBe('kube-system');
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('etcd-backup');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(cronJob.spec).toMatchObject({
      schedule: '0 */6 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
  });

  test('pinned to the control-plane nodes: their label, and a toleration of their taint', () => {
    expect(pod.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(pod.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  test("etcdctl snapshot save on the host loopback with kubeadm's certificates, read-only", () => {
    expect(pod.hostNetwork).toBe(true);
    // kubeadm 1.35's etcd (lib/kubernetes-versions.ts): the image already on every control-plane node.
    expect(snapshot.image).toBe('registry.k8s.io/etcd:3.6.6-0');
    expect(snapshot.command).toEqual(
      expect.arrayContaining([
        'etcdctl',
        '--endpoints=https://127.0.0.1:2379',
        '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
        '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt',
        '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
        'snapshot',
        'save',
        '/backup/incoming.db',
      ]),
    );
    expect(snapshot.volumeMounts).toContainEqual({
      name: 'etcd-pki',
      mountPath: '/etc/kubernetes/pki/etcd',
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: 'etcd-pki',
      hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'Directory' },
    });
    expect(pod.volumes).toContainEqual({
      name: 'backup',
      hostPath: { path: '/var/lib/etcd-backup', type: 'DirectoryOrCreate' },
    });
  });

  test('keeps the last N snapshots', () => {
    expect(rotate.env).toEqual([{ name: 'KEEP', value: '12' }]);
    expect(rotate.command[2]).toContain('tail -n "+$((KEEP + 1))"');
    expect(rotate.image).toBe('docker.io/library/busybox:1.37.0');
  });

  test('outside "restricted" only where host access needs it: root, but no capability, no escalation, read-only root, seccomp, AppArmor', () => {
    expect(pod.securityContext).toEqual({
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      seccompProfile: { type: 'RuntimeDefault' },
      appArmorProfile: { type: 'RuntimeDefault' },
    });
    for (const c of [snapshot, rotate]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits).toBeDefined();
    }
  });

  test('the rules it cannot meet are waived on the object, with the reason', () => {
    expect(cronJob.metadata.annotations['policy.lab-to-prod.io/waive'].split(',')).toEqual([
      'pss/baseline/host-namespaces',
      'pss/baseline/host-path-volumes',
      'practice/network-policy',
    ]);
    expect(cronJob.metadata.annotations['policy.lab-to-prod.io/waive-reason']).toMatch(/root-owned 0600/);
  });
});

describe('etcd-backup elsewhere', () => {
  test.each(['prod-eks', 'prod-gke', 'prod-aks'] as const)('%s: managed etcd, nothing rendered', (name) => {
    expect(objectsOf(name)).toEqual([]);
    expect(renderEnvironment(ENVIRONMENTS[name]).objects.some((o) => o.object.metadata?.name === 'etcd-backup')).toBe(
      false,
    );
  });

  test('the condition is the kubeadm bootstrap field, not the environment name', () => {
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      e.name = 'lab2';
      delete e.bootstrap;
      // flannel routes the pod subnets of kubeadm's bootstrap: a cluster built otherwise brings its own network.
      delete e.addons.flannel;
    });
    expect(renderEnvironment(env).objects.some((o) => o.constructPath.startsWith('lab2/etcd-backup/'))).toBe(false);
  });
});

describe('etcd-backup props are validated at construction', () => {
  const build = (props: Partial<ConstructorParameters<typeof EtcdBackup>[2]>, env = ENVIRONMENTS.lab): void => {
    new EtcdBackup(testChart(env.name), 'etcd-backup', { env, ...props });
  };

  test('a managed cluster', () => {
    expect(() => build({}, ENVIRONMENTS['prod-eks'])).toThrow(
      'prod-eks/etcd-backup: env.bootstrap: Invalid value: undefined: a kubeadm bootstrap',
    );
  });

  test('keeping fewer than one snapshot', () => {
    expect(() => build({ keep: 0 })).toThrow('lab/etcd-backup: keep: Invalid value: 0: a whole number >= 1');
    expect(() => build({ keep: 1.5 })).toThrow('lab/etcd-backup: keep: Invalid value: 1.5');
  });

  test('a schedule that is not cron, a time zone that does not exist', () => {
    expect(() => build({ schedule: '*/5 * * *' })).toThrow(
      'lab/etcd-backup: schedule: Invalid value: "*/5 * * *": five cron fields',
    );
    expect(() => build({ timeZone: 'CET+1' })).toThrow('lab/etcd-backup: timeZone: Invalid value: "CET+1"');
  });

  test('a name too long for a CronJob', () => {
    const name = 'e'.repeat(53);
    expect(() => build({ name })).toThrow(`lab/etcd-backup: name: Invalid value: "${name}"`);
  });

  test("a backup folder that is relative, climbs, or is etcd's own", () => {
    for (const dir of ['backups', '/var/../etc', '/var/lib/etcd', '/etc/kubernetes/backup', '/']) {
      expect(() => build({ hostBackupDir: dir })).toThrow(`lab/etcd-backup: hostBackupDir: Invalid value: "${dir}"`);
    }
    expect(() => build({ hostBackupDir: '/srv/etcd-snapshots' })).not.toThrow();
  });

  test('an image tagged latest; requests above limits', () => {
    expect(() => build({ etcdImage: { repository: 'registry.k8s.io/etcd', tag: 'latest' } })).toThrow(
      'lab/etcd-backup: etcdImage.tag: Invalid value: "latest"',
    );
    expect(() =>
      build({ resources: { requests: { cpu: '1', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } } }),
    ).toThrow('lab/etcd-backup: resources.requests.cpu: Invalid value: "1": at most the limit (500m)');
  });

  test('the custom schedule and keep reach the CronJob', () => {
    const chart = testChart('lab');
    new EtcdBackup(chart, 'etcd-backup', { env: ENVIRONMENTS.lab, schedule: '@hourly', keep: 48 });
    const cronJob = only(rendered(chart), 'CronJob');
    expect(cronJob.spec.schedule).toBe('@hourly');
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].env).toEqual([{ name: 'KEEP', value: '48' }]);
  });
});
