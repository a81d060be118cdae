/**
 * One failing fixture per rule (the good app with one thing broken) and the
 * good app as the passing fixture; near misses that must pass where a rule has
 * an edge worth pinning. A rule whose code is removed fails its case here.
 */
import { checkManifests, Finding, rules } from '../index';
import { asInputs, find, goodApp, hardenedContainerSecurity, resources } from '../fixtures/good-app';

type Mutate = (objects: any[]) => void;
const deployment = (o: any[]) => find(o, 'Deployment');
const pod = (o: any[]) => deployment(o).spec.template.spec;
const container = (o: any[]) => pod(o).containers[0];
const cronJob = (o: any[]) => find(o, 'CronJob');
const cronPod = (o: any[]) => cronJob(o).spec.jobTemplate.spec.template.spec;
const annotate = (object: any, annotations: Record<string, string>) => {
  object.metadata.annotations = { ...object.metadata.annotations, ...annotations };
};
/** The kube-system CronJob of the lab: host network and hostPath, waived with a reason. */
const etcdBackup = (waive?: Record<string, string>) => ({
  apiVersion: 'batch/v1', kind: 'CronJob',
  metadata: { name: 'etcd-backup', namespace: 'kube-system', annotations: waive },
  spec: {
    schedule: '0 * * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3,
    jobTemplate: { spec: { backoffLimit: 1, activeDeadlineSeconds: 900, template: { spec: {
      restartPolicy: 'Never', hostNetwork: true, automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'backup', image: 'registry.k8s.io/etcd:3.5.21-0', resources, securityContext: hardenedContainerSecurity,
        volumeMounts: [{ name: 'pki', mountPath: '/etc/kubernetes/pki/etcd', readOnly: true }] }],
      volumes: [{ name: 'pki', hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'Directory' } }],
    } } } },
  },
});

/** A RoleBinding of people in the shop namespace: the read-config Role, bound to these subjects. */
const peopleBinding = (...subjects: { kind: string; name: string }[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'people', namespace: 'shop' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-config' },
  subjects: subjects.map((s) => ({ ...s, apiGroup: 'rbac.authorization.k8s.io' })),
});

const serviceMonitor = (matchLabels: Record<string, string>, port: string) => ({
  apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'shop', namespace: 'shop' },
  spec: { selector: { matchLabels }, endpoints: [{ port, interval: '30s' }] },
});

const failing: [string, string, Mutate][] = [
  ['schema/unknown-kind', 'a kind the cluster does not serve', (o) => o.push({ apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' } })],
  ['schema/unknown-kind', 'a Kubernetes kind without a generated schema', (o) => o.push({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e', namespace: 'shop' } })],
  ['schema/unknown-field', 'a misspelled field', (o) => { container(o).imagePullPolicyy = 'Always'; }],
  ['schema/unknown-field', 'a field of a CRD that does not exist', (o) => { find(o, 'ExternalSecret').spec.refreshEvery = '1h'; }],
  ['schema/invalid', 'a string where an integer belongs', (o) => { find(o, 'HorizontalPodAutoscaler').spec.maxReplicas = 'five'; }],
  ['schema/invalid', 'a missing required field', (o) => { delete container(o).name; }],
  ['schema/invalid', 'a CRD enum value outside the enum', (o) => { find(o, 'ExternalSecret').spec.secretStoreRef.kind = 'Vault'; }],
  ['schema/deprecated-field', 'the deprecated alias serviceAccount', (o) => { pod(o).serviceAccount = pod(o).serviceAccountName ?? 'shop'; }],
  ['schema/name-format', 'a Service name that is not a DNS-1035 label', (o) => { find(o, 'Service').metadata.name = '1shop'; }],
  ['schema/name-format', 'a Deployment name with capitals', (o) => { deployment(o).metadata.name = 'Shop'; }],
  ['schema/label-syntax', 'a label value with a space', (o) => { deployment(o).metadata.labels = { team: 'web shop' }; }],
  ['schema/label-syntax', 'an annotation key with two slashes', (o) => annotate(deployment(o), { 'a/b/c': 'x' })],
  ['schema/port-name', 'a port name longer than 15 characters', (o) => { container(o).ports[0].name = 'http-metrics-port'; }],
  ['schema/port-name', 'a port name with "--"', (o) => { container(o).ports[0].name = 'ht--tp'; }],
  ['schema/port-name', 'a port name without a letter', (o) => { container(o).ports[0].name = '8080'; }],
  ['schema/port-name-unique', 'two ports named alike in one container', (o) => { container(o).ports.push({ name: 'http', containerPort: 8081 }); }],
  ['schema/port-number', 'a container port above 65535', (o) => { container(o).ports[0].containerPort = 70000; }],
  ['schema/selector-matches-template', 'a selector the template does not carry', (o) => { deployment(o).spec.selector = { matchLabels: { app: 'other' } }; }],
  ['schema/quantity', 'a memory limit that does not parse', (o) => { container(o).resources = { ...resources, limits: { cpu: '500m', memory: '128MB' } }; }],
  ['schema/requests-within-limits', 'a memory request above its limit', (o) => { container(o).resources = { requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '500m', memory: '512Mi' } }; }],
  ['schema/cronjob-name-length', 'a CronJob name of 53 characters', (o) => { cronJob(o).metadata.name = 'a'.repeat(53); }],
  ['pss/namespace-enforce', 'an app namespace enforcing baseline', (o) => { find(o, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'; }],
  ['pss/baseline/host-namespaces', 'hostPID', (o) => { pod(o).hostPID = true; }],
  ['pss/baseline/privileged', 'a privileged container', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, privileged: true }; }],
  ['pss/baseline/capabilities', 'adding SYS_ADMIN', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } }; }],
  ['pss/baseline/host-path-volumes', 'kube-system host access without a waiver (checked at baseline)', (o) => o.push(etcdBackup())],
  ['pss/baseline/host-path-volumes', 'a hostPath volume', (o) => { pod(o).volumes.push({ name: 'host', hostPath: { path: '/var/log' } }); }],
  ['pss/baseline/host-ports', 'a host port', (o) => { container(o).ports[0].hostPort = 8080; }],
  ['pss/baseline/apparmor', 'AppArmor Unconfined (field)', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, appArmorProfile: { type: 'Unconfined' } }; }],
  ['pss/baseline/apparmor', 'AppArmor unconfined (annotation)', (o) => { deployment(o).spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/shop': 'unconfined' }; }],
  ['pss/baseline/selinux', 'an SELinux user', (o) => { pod(o).securityContext.seLinuxOptions = { user: 'system_u' }; }],
  ['pss/baseline/selinux', 'an SELinux type outside the container types', (o) => { pod(o).securityContext.seLinuxOptions = { type: 'spc_t' }; }],
  ['pss/baseline/proc-mount', 'an unmasked /proc', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, procMount: 'Unmasked' }; }],
  ['pss/baseline/seccomp', 'seccomp Unconfined', (o) => { pod(o).securityContext.seccompProfile = { type: 'Unconfined' }; }],
  ['pss/baseline/sysctls', 'an unsafe sysctl', (o) => { pod(o).securityContext.sysctls = [{ name: 'kernel.msgmax', value: '65536' }]; }],
  ['pss/baseline/windows-host-process', 'a Windows HostProcess container', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, windowsOptions: { hostProcess: true } }; }],
  ['pss/restricted/volume-types', 'a nfs volume', (o) => { pod(o).volumes.push({ name: 'nfs', nfs: { server: 'nfs.example', path: '/x' } }); }],
  ['pss/restricted/privilege-escalation', 'allowPrivilegeEscalation unset', (o) => { delete container(o).securityContext.allowPrivilegeEscalation; }],
  ['pss/restricted/run-as-non-root', 'runAsNonRoot nowhere', (o) => { delete pod(o).securityContext.runAsNonRoot; delete container(o).securityContext.runAsNonRoot; }],
  ['pss/restricted/run-as-user', 'runAsUser 0', (o) => { cronPod(o).securityContext.runAsUser = 0; }],
  ['pss/restricted/seccomp', 'no seccomp profile anywhere', (o) => { delete pod(o).securityContext.seccompProfile; delete container(o).securityContext.seccompProfile; }],
  ['pss/restricted/capabilities', 'not dropping ALL', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, capabilities: { drop: ['NET_RAW'] } }; }],
  ['pss/restricted/capabilities', 'adding CHOWN back', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, capabilities: { drop: ['ALL'], add: ['CHOWN'] } }; }],
  ['practice/resources', 'no cpu limit', (o) => { container(o).resources = { requests: resources.requests, limits: { memory: '128Mi' } }; }],
  ['practice/probes', 'no liveness probe', (o) => { delete container(o).livenessProbe; }],
  ['practice/liveness-differs', 'liveness identical to readiness', (o) => { container(o).livenessProbe = { httpGet: { path: '/ready', port: 'http' } }; }],
  ['practice/probe-port', 'a probe on an undeclared named port', (o) => { container(o).readinessProbe = { httpGet: { path: '/ready', port: 'admin' } }; }],
  ['practice/probe-port', 'a probe on an undeclared port number', (o) => { container(o).livenessProbe = { tcpSocket: { port: 9090 } }; }],
  ['practice/image-pinned', 'the latest tag', (o) => { container(o).image = 'registry.example/shop:latest'; }],
  ['practice/image-pinned', 'no tag (a registry port is not a tag)', (o) => { container(o).image = 'registry.example:5000/shop'; }],
  ['practice/read-only-root-filesystem', 'a writable root filesystem', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, readOnlyRootFilesystem: false }; }],
  ['practice/pdb-allows-drain', 'minAvailable equal to the replicas', (o) => { find(o, 'PodDisruptionBudget').spec = { minAvailable: 2, selector: deployment(o).spec.selector }; }],
  ['practice/pdb-allows-drain', 'minAvailable 100%', (o) => { find(o, 'PodDisruptionBudget').spec = { minAvailable: '100%', selector: deployment(o).spec.selector }; }],
  ['practice/pdb-allows-drain', 'maxUnavailable 0', (o) => { find(o, 'PodDisruptionBudget').spec.maxUnavailable = 0; }],
  ['practice/pdb-allows-drain', 'a PDB that selects nothing', (o) => { find(o, 'PodDisruptionBudget').spec.selector = { matchLabels: { app: 'nothing' } }; }],
  ['practice/pdb-coverage', 'a replicated Deployment without a PDB', (o) => { o.splice(o.indexOf(find(o, 'PodDisruptionBudget')), 1); }],
  ['practice/spread', 'replicas without spread', (o) => { delete pod(o).topologySpreadConstraints; }],
  ['practice/network-policy', 'no egress policy', (o) => { find(o, 'NetworkPolicy').spec.policyTypes = ['Ingress']; }],
  ['practice/service-selector', 'a selector that reaches no pod', (o) => { find(o, 'Service').spec.selector = { app: 'other' }; }],
  ['practice/service-selector', 'a targetPort no container declares', (o) => { find(o, 'Service').spec.ports[0].targetPort = 'metrics'; }],
  ['practice/hpa-target', 'an HPA whose target sets replicas', (o) => { deployment(o).spec.replicas = 3; }],
  ['practice/hpa-target', 'an HPA whose target does not exist', (o) => { find(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'gone'; }],
  ['practice/hpa-target', 'minReplicas above maxReplicas', (o) => { find(o, 'HorizontalPodAutoscaler').spec.minReplicas = 9; }],
  ['practice/job-limits', 'no activeDeadlineSeconds', (o) => { delete cronJob(o).spec.jobTemplate.spec.activeDeadlineSeconds; }],
  ['practice/cronjob-limits', 'no concurrencyPolicy', (o) => { delete cronJob(o).spec.concurrencyPolicy; }],
  ['practice/cronjob-limits', 'no history limit', (o) => { delete cronJob(o).spec.failedJobsHistoryLimit; }],
  ['practice/rbac-wildcard', 'a wildcard verb', (o) => { find(o, 'Role').rules[0].verbs = ['*']; }],
  ['practice/rbac-cluster-admin', 'binding cluster-admin', (o) => { find(o, 'RoleBinding').roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }; }],
  ['practice/rbac-exec-attach', 'granting pods/exec', (o) => { find(o, 'Role').rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }); }],
  ['practice/rbac-secrets-cluster-wide', 'listing Secrets cluster-wide', (o) => o.push(
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'secret-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'shop-secret-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secret-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'shop', namespace: 'shop' }] })],
  ['practice/rbac-escalation', 'granting bind on roles', (o) => { find(o, 'Role').rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'] }); }],
  ['practice/rbac-escalation', 'granting escalate', (o) => { find(o, 'Role').rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'escalate'] }); }],
  ['practice/rbac-escalation', 'impersonating groups', (o) => { find(o, 'Role').rules.push({ apiGroups: [''], resources: ['groups'], verbs: ['impersonate'] }); }],
  ['practice/rbac-viewer-secrets', 'a read-only role that reads Secrets', (o) => { find(o, 'Role').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }); }],
  ['practice/rbac-everyone', 'binding system:authenticated', (o) => o.push(peopleBinding({ kind: 'Group', name: 'system:authenticated' }))],
  ['practice/rbac-everyone', 'binding system:unauthenticated', (o) => o.push(peopleBinding({ kind: 'Group', name: 'system:unauthenticated' }))],
  ['practice/rbac-everyone', 'binding the anonymous user', (o) => o.push(peopleBinding({ kind: 'User', name: 'system:anonymous' }))],
  ['practice/rbac-undeclared-subject', 'a group the environment does not declare', (o) => o.push(peopleBinding({ kind: 'Group', name: 'shop-admins' }))],
  ['practice/rbac-undeclared-subject', 'system:masters, which the environment never declares', (o) => o.push(peopleBinding({ kind: 'Group', name: 'system:masters' }))],
  ['practice/rbac-undeclared-subject', 'a person by user name', (o) => o.push(peopleBinding({ kind: 'User', name: 'alice@example.com' }))],
  ['practice/service-account-token', 'a pod of a role-less account mounting its token', (o) => { delete cronPod(o).automountServiceAccountToken; }],
  ['refs/namespace', 'an object in a namespace nobody creates', (o) => { find(o, 'ConfigMap').metadata.namespace = 'elsewhere'; }],
  ['refs/config-map', 'a missing ConfigMap volume', (o) => { pod(o).volumes[0].configMap.name = 'gone'; }],
  ['refs/secret', 'a Secret no ExternalSecret produces', (o) => { find(o, 'ExternalSecret').spec.target.name = 'other'; }],
  ['refs/persistent-volume-claim', 'a missing claim', (o) => { pod(o).volumes.push({ name: 'data', persistentVolumeClaim: { claimName: 'data' } }); }],
  ['refs/service-account', 'a missing service account', (o) => { pod(o).serviceAccountName = 'gone'; }],
  ['refs/storage-class', 'a claim on a missing StorageClass', (o) => o.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'shop' }, spec: { storageClassName: 'fast', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } })],
  ['refs/runtime-class', 'a missing RuntimeClass', (o) => { pod(o).runtimeClassName = 'kata'; }],
  ['refs/priority-class', 'a missing PriorityClass', (o) => { pod(o).priorityClassName = 'business-critical'; }],
  ['refs/role', 'a binding to a missing Role', (o) => { find(o, 'RoleBinding').roleRef.name = 'gone'; }],
  ['refs/service', 'an Ingress backend naming a missing Service', (o) => { find(o, 'Ingress').spec.rules[0].http.paths[0].backend.service.name = 'gone'; }],
  ['refs/secret-store', 'an ExternalSecret naming a missing store', (o) => { find(o, 'ExternalSecret').spec.secretStoreRef.name = 'gone'; }],
  ['refs/service', 'a StatefulSet whose headless Service does not exist', (o) => o.push({ ...find(o, 'Deployment'), kind: 'StatefulSet', spec: { ...find(o, 'Deployment').spec, serviceName: 'shop-headless' } })],
  ['refs/monitor-target', 'a ServiceMonitor that selects no Service', (o) => o.push(serviceMonitor({ app: 'other' }, 'http'))],
  ['refs/monitor-target', 'a ServiceMonitor naming a port the Service lacks', (o) => o.push(serviceMonitor({ 'app.kubernetes.io/name': 'shop' }, 'metrics'))],
  ['refs/monitor-target', 'a PodMonitor naming a port the containers lack', (o) => o.push({
    apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'shop', namespace: 'shop' },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'shop' } }, podMetricsEndpoints: [{ port: 'metrics' }] } })],
  ['schema/label-syntax', 'a Service selector value that is not a label value', (o) => { find(o, 'Service').spec.selector = { app: 'shop!' }; }],
  ['refs/out-of-band-reason', 'an out-of-band annotation without a reason', (o) => annotate(deployment(o), { 'out-of-band.lab-to-prod.io/secret.x': ' ' })],
  ['secrets/no-secret-values', 'a Secret with data', (o) => o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, stringData: { password: 'hunter2' } })],
  ['secrets/sensitive-env-literal', 'a literal API token', (o) => { container(o).env.push({ name: 'API_TOKEN', value: 'abc' }); }],
  ['secrets/sensitive-env-literal', 'a literal under a _FILE name that is not a path', (o) => { container(o).env.push({ name: 'API_TOKEN_FILE', value: 'abc' }); }],
  ['secrets/secret-in-env', 'a Secret key as an environment variable', (o) => { container(o).env.push({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'password' } } }); }],
  ['secrets/secret-in-env', 'a whole Secret as environment variables (envFrom)', (o) => { container(o).envFrom = [{ secretRef: { name: 'shop-db' } }]; }],
  ['secrets/secret-in-env', 'a Secret in an init container\'s environment', (o) => { pod(o).initContainers = [{ ...container(o), name: 'init', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'password' } } }] }]; }],
  ['policy/waiver-reason', 'a waiver without a reason', (o) => annotate(deployment(o), { 'policy.lab-to-prod.io/waive': 'practice/spread' })],
  ['policy/waiver-unknown-rule', 'a waiver of a rule that does not exist', (o) => annotate(deployment(o), { 'policy.lab-to-prod.io/waive': 'practice/sprad', 'policy.lab-to-prod.io/waive-reason': 'typo' })],
  ['policy/waiver-unused', 'a waiver that waives nothing', (o) => annotate(deployment(o), { 'policy.lab-to-prod.io/waive': 'practice/spread', 'policy.lab-to-prod.io/waive-reason': 'was needed once' })],
];

/** Near misses: changes that look risky but must not trip the rule. */
const passing: [string, string, Mutate][] = [
  ['schema/unknown-field', 'a preserve-unknown-fields-free CRD field that exists', (o) => { find(o, 'ExternalSecret').spec.refreshPolicy = 'Periodic'; }],
  ['schema/invalid', 'an int-or-string field given a string', (o) => { find(o, 'PodDisruptionBudget').spec.maxUnavailable = '50%'; }],
  ['schema/requests-within-limits', 'equal quantities written differently', (o) => { container(o).resources = { requests: { cpu: '0.5', memory: '1Gi' }, limits: { cpu: '500m', memory: '1073741824' } }; }],
  ['schema/port-name', 'a 15-character port name', (o) => { container(o).ports[0].name = 'http-metrics-pt'; container(o).readinessProbe.httpGet.port = 'http-metrics-pt'; container(o).livenessProbe.httpGet.port = 'http-metrics-pt'; find(o, 'Service').spec.ports[0].targetPort = 'http-metrics-pt'; }],
  ['schema/cronjob-name-length', 'a CronJob name of 52 characters', (o) => { cronJob(o).metadata.name = 'a'.repeat(52); }],
  ['pss/restricted/capabilities', 'adding NET_BIND_SERVICE back', (o) => { container(o).securityContext = { ...hardenedContainerSecurity, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }; }],
  ['pss/baseline/sysctls', 'a safe sysctl', (o) => { pod(o).securityContext.sysctls = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }]; }],
  ['pss/baseline/host-namespaces', 'kube-system host access, waived with a reason', (o) => o.push(etcdBackup({
    'policy.lab-to-prod.io/waive': 'pss/baseline/host-namespaces,pss/baseline/host-path-volumes',
    'policy.lab-to-prod.io/waive-reason': 'etcd listens on the host network; the backup reads its certificates from the node',
  }))],
  ['practice/pdb-allows-drain', 'minAvailable below the HPA minimum', (o) => { find(o, 'PodDisruptionBudget').spec = { minAvailable: 1, selector: deployment(o).spec.selector }; }],
  ['practice/image-pinned', 'a registry with a port and a tag', (o) => { container(o).image = 'registry.example:5000/shop:1.4.2'; }],
  ['practice/service-account-token', 'a pod whose account is bound to a Role may mount its token', (o) => { delete pod(o).automountServiceAccountToken; }],
  ['practice/rbac-undeclared-subject', 'a group the environment declares', (o) => o.push(peopleBinding({ kind: 'Group', name: 'shop-viewers' }))],
  ['practice/rbac-everyone', 'the namespace\'s own service accounts are not everyone', (o) => o.push(peopleBinding({ kind: 'Group', name: 'system:serviceaccounts:shop' }))],
  ['practice/rbac-viewer-secrets', 'a role that also writes is not a viewer\'s (the other rules judge it)', (o) => { find(o, 'Role').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] }); }],
  ['practice/rbac-escalation', 'reading roles and bindings is not binding them', (o) => { find(o, 'Role').rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list'] }); }],
  ['practice/rbac-exec-attach', 'an on-call role that grants exec, waived with a reason', (o) => {
    find(o, 'Role').rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] });
    annotate(find(o, 'Role'), { 'policy.lab-to-prod.io/waive': 'practice/rbac-exec-attach', 'policy.lab-to-prod.io/waive-reason': 'on-call operators exec to diagnose' });
  }],
  ['refs/secret', 'a Secret documented as created out of band', (o) => { pod(o).imagePullSecrets = [{ name: 'pull' }]; annotate(deployment(o), { 'out-of-band.lab-to-prod.io/secret.pull': 'created by the cluster bootstrap' }); }],
  ['refs/runtime-class', 'a RuntimeClass the platform provides (option)', (o) => { pod(o).runtimeClassName = 'gvisor'; }],
  ['refs/monitor-target', 'a ServiceMonitor on the Service\'s named port', (o) => o.push(serviceMonitor({ 'app.kubernetes.io/name': 'shop' }, 'http'))],
  ['secrets/sensitive-env-literal', 'a literal value under an innocent name', (o) => { container(o).env.push({ name: 'KEYCLOAK_REALM', value: 'shop' }); }],
  ['secrets/sensitive-env-literal', 'a _FILE variable holding the path of a mounted secret file', (o) => { container(o).env.push({ name: 'API_TOKEN_FILE', value: '/run/secrets/shop-db/password' }); }],
  ['secrets/secret-in-env', 'settings from a ConfigMap, by key and whole', (o) => { container(o).env.push({ name: 'APP_CONF', valueFrom: { configMapKeyRef: { name: 'shop-config', key: 'app.conf' } } }); container(o).envFrom = [{ configMapRef: { name: 'shop-config' } }]; }],
];

/** The fixture environment provides the gvisor RuntimeClass and declares one group for people. */
function run(objects: any[]): Finding[] {
  return checkManifests(asInputs(objects), { platformProvided: { test: ['RuntimeClass/gvisor'] }, peopleGroups: { test: ['shop-viewers'] } });
}

describe('the passing fixture', () => {
  it('passes every rule, in the oldest and the newest supported minor', () => {
    expect(run(goodApp())).toEqual([]);
    expect(checkManifests(asInputs(goodApp(), 'old', '1.31'))).toEqual([]);
    expect(checkManifests(asInputs(goodApp(), 'new', '1.37'))).toEqual([]);
  });
});

describe.each(failing)('%s fails on %s', (ruleId, _what, mutate) => {
  it('reports the rule, as an unwaived finding with a field path and the construct path', () => {
    const objects = goodApp();
    mutate(objects);
    const hits = run(objects).filter((f) => f.ruleId === ruleId);
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.waived).toBeUndefined();
      expect(hit.message).not.toBe('');
      expect(hit.constructPath).toMatch(/^test\//);
    }
  });
});

describe.each(passing)('%s passes %s', (ruleId, _what, mutate) => {
  it('does not report the rule', () => {
    const objects = goodApp();
    mutate(objects);
    expect(run(objects).filter((f) => f.ruleId === ruleId && !f.waived)).toEqual([]);
  });
});

describe('the rule catalogue', () => {
  it('has a failing fixture for every rule', () => {
    const covered = new Set(failing.map(([id]) => id));
    expect(rules.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });
  it('has unique ids, each with a reason', () => {
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) expect(rule.reason.length).toBeGreaterThan(20);
  });
});

describe('lib/policy/README.md', () => {
  it('lists every rule with its severity and reason (regenerate the table from `rules` after a change)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const readme: string = require('fs').readFileSync(require('path').join(__dirname, '..', 'README.md'), 'utf8');
    const table = ['| id | severity | why |', '|---|---|---|', ...rules.map((r) => `| \`${r.id}\` | ${r.severity} | ${r.reason} |`)].join('\n');
    expect(readme).toContain(table);
  });
});
