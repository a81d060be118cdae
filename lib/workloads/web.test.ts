import { ENVIRONMENTS } from '../environments';
import { workloadScaleIn } from '../environments/workload-scale';
import { renderEnvironment } from '../synth/render';
import { appArmorFor, only, rendered, testChart, withChange } from '../../test/helpers';
import { Web, WEB_SCALE } from './web';

const envs = Object.values(ENVIRONMENTS);
const webObjects = (env: (typeof envs)[number]): any[] =>
  renderEnvironment(env)
    .objects.filter((o) => o.constructPath.startsWith(`${env.name}/web/`))
    .map((o) => o.object);

describe.each(envs.map((env) => [env.name, env] as const))('web in %s', (_name, env) => {
  const objects = webObjects(env);
  const deployment = only(objects, 'Deployment', 'web');
  const pod = deployment.spec.template.spec;
  const nginx = pod.containers[0];

  test('every object is in the web namespace under the name a person types, with the recommended labels', () => {
    for (const o of objects) {
      expect(o.metadata.name).toBe('web');
      expect(o.metadata.namespace).toBe('web');
      expect(Object.keys(o.metadata.labels).sort()).toEqual([
        'app.kubernetes.io/component',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/managed-by',
        'app.kubernetes.io/name',
        'app.kubernetes.io/part-of',
        'app.kubernetes.io/version',
      ]);
    }
  });

  test('the pod meets Pod Security "restricted" field by field', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 101,
      runAsGroup: 101,
      seccompProfile: { type: 'RuntimeDefault' },
      ...appArmorFor(env),
    });
    expect(nginx.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('the image is pinned and pulled through the environment mirror', () => {
    expect(nginx.image).toBe(`${env.registry.mirror}/nginxinc/nginx-unprivileged:1.27.4-alpine`);
  });

  test('requests and limits come from the environment', () => {
    expect(nginx.resources).toEqual({
      requests: workloadScaleIn(env, 'web', WEB_SCALE).requests,
      limits: workloadScaleIn(env, 'web', WEB_SCALE).limits,
    });
  });

  test('probes: startup and liveness ask nginx, readiness asks for the site', () => {
    expect(nginx.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(nginx.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(nginx.readinessProbe.httpGet).toEqual({ path: '/', port: 'http' });
    expect(nginx.livenessProbe).not.toEqual(nginx.readinessProbe);
  });

  test('the root filesystem is read-only; nginx writes to a capped tmpfs and a capped disk emptyDir', () => {
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
    expect(pod.volumes).toContainEqual({ name: 'cache', emptyDir: { sizeLimit: '64Mi' } });
    expect(nginx.volumeMounts.map((m: any) => m.mountPath)).toEqual([
      '/etc/nginx/nginx.conf',
      '/tmp',
      '/var/cache/nginx',
    ]);
  });

  test('graceful shutdown: a preStop pause inside the grace period', () => {
    expect(nginx.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10);
  });

  test('rollouts surge one pod, never drop one, and keep history for rollbacks', () => {
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(deployment.spec.revisionHistoryLimit).toBe(5);
    expect(deployment.spec.minReadySeconds).toBeGreaterThan(0);
    expect(deployment.spec.progressDeadlineSeconds).toBeGreaterThan(0);
  });

  test('the autoscaler owns the scale: no static replicas, minReplicas >= 2', () => {
    expect(deployment.spec.replicas).toBeUndefined();
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
    expect(hpa.spec.minReplicas).toBe(workloadScaleIn(env, 'web', WEB_SCALE).minReplicas);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBe(workloadScaleIn(env, 'web', WEB_SCALE).maxReplicas);
  });

  test('the disruption budget lets a drain evict one pod at a time', () => {
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.minAvailable).toBeUndefined();
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  test('replicas spread over the environment failure domain', () => {
    const key = env.scale.spreadAcross === 'zone' ? 'topology.kubernetes.io/zone' : 'kubernetes.io/hostname';
    expect(pod.topologySpreadConstraints[0]).toMatchObject({
      topologyKey: key,
      maxSkew: 1,
      whenUnsatisfiable: 'DoNotSchedule',
    });
  });

  test("a lost node's pods are replaced after the environment's seconds, or Kubernetes' default 300", () => {
    const seconds = env.scale.evictFromLostNodeAfterSeconds;
    if (seconds === undefined) {
      expect(pod.tolerations).toBeUndefined();
    } else {
      expect(pod.tolerations).toEqual([
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
      ]);
    }
  });

  test('the Service is a LoadBalancer through the environment load balancing', () => {
    const service = only(objects, 'Service');
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.metadata.annotations).toEqual(env.loadBalancing.serviceAnnotations);
    expect(service.spec.loadBalancerClass).toBe(env.loadBalancing.loadBalancerClass);
    expect(service.spec.ipFamilies).toEqual(env.loadBalancing.ipFamilies);
    expect(service.spec.ipFamilyPolicy).toBe(
      env.loadBalancing.ipFamilies.length === 2 ? 'RequireDualStack' : 'SingleStack',
    );
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  test('network policy: only the web port in, only DNS out', () => {
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }] }]);
    expect(policy.spec.egress).toHaveLength(1);
    expect(policy.spec.egress[0].ports.map((p: any) => p.port)).toEqual([53, 53]);
  });

  test('its pods run at the service priority, below the database (preempted before it under pressure)', () => {
    expect(pod.priorityClassName).toBe('lab-to-prod-service');
  });

  test('its own ServiceAccount, with no token mounted', () => {
    const sa = only(objects, 'ServiceAccount');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
  });

  test('the web namespace enforces Pod Security "restricted"', () => {
    const namespace = only(
      renderEnvironment(env).objects.map((o) => o.object),
      'Namespace',
      'web',
    );
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
  });
});

test("the lab replaces a lost worker's web pods after 30 s; production keeps the default", () => {
  const tolerations = (env: (typeof envs)[number]) =>
    only(webObjects(env), 'Deployment', 'web').spec.template.spec.tolerations;
  expect(tolerations(ENVIRONMENTS.lab).map((t: any) => t.tolerationSeconds)).toEqual([30, 30]);
  expect(tolerations(ENVIRONMENTS['prod-eks'])).toBeUndefined();
  const changed = withChange(ENVIRONMENTS['prod-eks'], (e) => {
    e.scale.evictFromLostNodeAfterSeconds = 60;
  });
  expect(tolerations(changed).map((t: any) => t.tolerationSeconds)).toEqual([60, 60]);
});

describe('web configuration', () => {
  test('nginx.conf is in a ConfigMap, mounted, and its hash is in the pod template', () => {
    const objects = webObjects(ENVIRONMENTS.lab);
    const config = only(objects, 'ConfigMap');
    expect(config.data['nginx.conf']).toContain('listen 8080;');
    expect(config.data['nginx.conf']).toContain('pid /tmp/nginx.pid;');
    const template = only(objects, 'Deployment').spec.template;
    expect(template.metadata.annotations['lab-to-prod.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);
  });

  test('a change to nginx.conf changes the pod template, so the Deployment rolls', () => {
    // IPv6 listening is the one input to nginx.conf that differs between environments.
    const hashFor = (ipFamilies: string[]): string => {
      // The lab's kubeadm bootstrap is dual-stack; an IPv4-only variant drops it, as a user would,
      // and flannel with it (it routes the pod subnets kubeadm's bootstrap gives).
      const env = withChange(ENVIRONMENTS.lab, (e) => {
        e.loadBalancing.ipFamilies = ipFamilies;
        delete e.bootstrap;
        delete e.addons.flannel;
      });
      return only(webObjects(env), 'Deployment').spec.template.metadata.annotations['lab-to-prod.io/config-hash'];
    };
    expect(hashFor(['IPv4'])).not.toBe(hashFor(['IPv4', 'IPv6']));
  });

  test('response headers are added to every answer, and a change to them rolls the pods', () => {
    const objectsWith = (responseHeaders?: Record<string, string>) => {
      const chart = testChart();
      new Web(chart, 'web', { env: ENVIRONMENTS.lab, responseHeaders });
      return rendered(chart);
    };
    const changed = objectsWith({ 'X-Config-Revision': 'two' });
    expect(only(changed, 'ConfigMap').data['nginx.conf']).toContain('    add_header X-Config-Revision "two" always;\n');
    expect(only(objectsWith(), 'ConfigMap').data['nginx.conf']).not.toContain('add_header');
    const hash = (objects: any[]) =>
      only(objects, 'Deployment').spec.template.metadata.annotations['lab-to-prod.io/config-hash'];
    expect(hash(changed)).not.toBe(hash(objectsWith()));
  });
});

describe('web props are validated at construction', () => {
  const build = (props: Partial<ConstructorParameters<typeof Web>[2]>): void => {
    new Web(testChart('lab'), 'web', { env: ENVIRONMENTS.lab, ...props });
  };

  test('an image tagged latest', () => {
    expect(() => build({ image: { repository: 'nginxinc/nginx-unprivileged', tag: 'latest' } })).toThrow(
      'lab/web: image.tag: Invalid value: "latest": a version tag (not "latest", which moves), e.g. "1.27.4-alpine"',
    );
  });

  test('an image with no tag', () => {
    expect(() => build({ image: { repository: 'nginxinc/nginx-unprivileged', tag: '' } })).toThrow(
      'lab/web: image.tag: Invalid value: ""',
    );
  });

  test('a digest that is not sha256', () => {
    expect(() => build({ image: { repository: 'nginx', tag: '1.27', digest: 'md5:abc' } })).toThrow(
      'lab/web: image.digest: Invalid value: "md5:abc"',
    );
  });

  test('a name too long for a namespace', () => {
    const name = 'w'.repeat(64);
    expect(() => build({ name })).toThrow(`lab/web: name: Invalid value: "${name}": at most 63 lowercase letters`);
  });

  test('requests above limits', () => {
    const scale = { ...workloadScaleIn(ENVIRONMENTS.lab, 'web', WEB_SCALE), requests: { cpu: '50m', memory: '256Mi' } };
    expect(() => build({ scale })).toThrow(
      'lab/web: scale.requests.memory: Invalid value: "256Mi": at most the limit (128Mi)',
    );
  });

  test('a response header name that is not a token', () => {
    expect(() => build({ responseHeaders: { 'X Bad': 'v' } })).toThrow(
      'lab/web: responseHeaders[X Bad]: Invalid value: "X Bad": a header name of letters, digits and hyphens',
    );
  });

  test("a response header value that would break out of nginx's quotes or read a variable", () => {
    for (const value of ['say "hi"', 'a\\b', '$host', 'line\nbreak']) {
      expect(() => build({ responseHeaders: { 'X-Ok': value } })).toThrow(
        `lab/web: responseHeaders[X-Ok]: Invalid value: ${JSON.stringify(value)}: printable ASCII without ", \\ or $`,
      );
    }
  });

  test('minReplicas above maxReplicas', () => {
    const scale = { ...workloadScaleIn(ENVIRONMENTS.lab, 'web', WEB_SCALE), minReplicas: 6, maxReplicas: 3 };
    expect(() => build({ scale })).toThrow(
      'lab/web: scale.maxReplicas: Invalid value: 3: a whole number >= minReplicas (6)',
    );
  });
});
