import { ENVIRONMENTS } from '../environments';
import { workloadScaleIn } from '../environments/workload-scale';
import { renderEnvironment } from '../synth/render';
import { appArmorFor, only, rendered, secretsOf, testChart, withChange } from '../../test/helpers';
import { Api, API_SCALE } from './api';
import { WORKLOADS } from '.';

const envs = Object.values(ENVIRONMENTS);
const apiObjects = (env: (typeof envs)[number]): any[] =>
  renderEnvironment(env)
    .objects.filter((o) => o.constructPath.startsWith(`${env.name}/api/`))
    .map((o) => o.object);

describe.each(envs.map((env) => [env.name, env] as const))('api in %s', (_name, env) => {
  const objects = apiObjects(env);
  const deployment = only(objects, 'Deployment', 'api');
  const pod = deployment.spec.template.spec;
  const server = pod.containers[0];

  test('every object is in the api namespace under the name a person types, with the recommended labels', () => {
    // The ExternalSecret is the platform's secret helper's, labelled as a secret of the app.
    for (const o of objects.filter((x) => x.kind !== 'ExternalSecret')) {
      expect(o.metadata.name).toBe('api');
      expect(o.metadata.namespace).toBe('api');
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('lab-to-prod');
      expect(o.metadata.labels['app.kubernetes.io/version']).toBe('1.0.0');
    }
  });

  test('the pod meets Pod Security "restricted" field by field', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
      ...appArmorFor(env),
    });
    expect(server.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('the image is pinned and pulled through the environment mirror', () => {
    expect(server.image).toBe(`${env.registry.mirror}/hashicorp/http-echo:1.0.0`);
  });

  test('requests equal limits: a Guaranteed QoS pod', () => {
    expect(server.resources.requests).toEqual(server.resources.limits);
    expect(server.resources).toEqual({
      requests: workloadScaleIn(env, 'api', API_SCALE).requests,
      limits: workloadScaleIn(env, 'api', API_SCALE).limits,
    });
  });

  test('probes on the health endpoint; readiness reacts sooner than liveness', () => {
    for (const probe of [server.startupProbe, server.livenessProbe, server.readinessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/health', port: 'http' });
    }
    expect(server.readinessProbe.periodSeconds * server.readinessProbe.failureThreshold).toBeLessThan(
      server.livenessProbe.periodSeconds * server.livenessProbe.failureThreshold,
    );
  });

  test('settings by reference from the ConfigMap, the password by reference from a Secret', () => {
    const config = only(objects, 'ConfigMap');
    expect(server.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
    expect(config.data.ECHO_TEXT).toBe('hello from api');
    expect(server.env).toEqual([{ name: 'DATABASE_PASSWORD_FILE', value: '/run/secrets/db-credentials/password' }]);
    // The file on a read-only Secret volume, root:65532 0440 through fsGroup; never an environment variable.
    const secrets = secretsOf(pod, 'http-echo');
    expect(secrets).toMatchObject({
      inEnv: [],
      files: ['/run/secrets/db-credentials/password'],
      secretName: 'db-credentials',
      defaultMode: 0o440,
    });
    expect(secrets.mount.readOnly).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
    expect(JSON.stringify(objects)).not.toMatch(/"kind":"Secret"/);
  });

  test('the autoscaler owns the scale with at least two replicas, a budget and spread', () => {
    expect(deployment.spec.replicas).toBeUndefined();
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(workloadScaleIn(env, 'api', API_SCALE).minReplicas);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const key = env.scale.spreadAcross === 'zone' ? 'topology.kubernetes.io/zone' : 'kubernetes.io/hostname';
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: key, whenUnsatisfiable: 'DoNotSchedule' });
  });

  test('a ClusterIP Service, dual-stack where the environment is', () => {
    const service = only(objects, 'Service');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ipFamilies).toEqual(env.loadBalancing.ipFamilies);
    expect(service.spec.ipFamilyPolicy).toBe(
      env.loadBalancing.ipFamilies.length === 2 ? 'RequireDualStack' : 'SingleStack',
    );
  });

  test('an Ingress with TLS from a cert-manager ClusterIssuer', () => {
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe(env.loadBalancing.ingress.className);
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBe(
      env.loadBalancing.ingress.clusterIssuer,
    );
    expect(ingress.spec.rules[0].host).toBe(`api.${env.loadBalancing.ingress.domain}`);
    expect(ingress.spec.tls).toEqual([{ hosts: [`api.${env.loadBalancing.ingress.domain}`], secretName: 'api-tls' }]);
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'api', port: { name: 'http' } } });
    expect(ingress.metadata.annotations['out-of-band.lab-to-prod.io/secret.api-tls']).toMatch(/cert-manager/);
  });

  test('network policy: in from the ingress controller on the server port; out to db:5432 and DNS', () => {
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const controller = env.loadBalancing.ingress.controllerNamespace;
    if (controller !== undefined) {
      expect(policy.spec.ingress[0].from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': controller } } },
      ]);
    } else {
      // The cloud's load balancer reaches the pods directly: no in-cluster peer to name, the port only.
      expect(policy.spec.ingress[0].from).toBeUndefined();
    }
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(policy.spec.egress[0]).toEqual({
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'db' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 5432 }],
    });
    expect(policy.spec.egress[1].ports.map((p: any) => p.port)).toEqual([53, 53]);
  });

  test('the password Secret: an ExternalSecret of the shared remote secret in production, out of band in the lab', () => {
    const external = objects.filter((o) => o.kind === 'ExternalSecret');
    const owner = only(objects, 'Deployment');
    if (env.identity.secrets.provider === 'lab-secrets-command') {
      expect(external).toEqual([]);
      expect(owner.metadata.annotations['out-of-band.lab-to-prod.io/secret.db-credentials']).toMatch(/lab-secrets/);
    } else {
      expect(external).toHaveLength(1);
      expect(external[0].metadata).toMatchObject({ name: 'db-credentials', namespace: 'api' });
      expect(external[0].spec.data).toEqual([
        { secretKey: 'password', remoteRef: { key: 'lab-to-prod-db-credentials', property: 'password' } },
      ]);
      expect(owner.metadata.annotations ?? {}).toEqual({});
    }
  });
});

describe('api workload identity per provider', () => {
  const serviceAccount = (name: keyof typeof ENVIRONMENTS): any =>
    only(apiObjects(ENVIRONMENTS[name]), 'ServiceAccount');
  const podLabels = (name: keyof typeof ENVIRONMENTS): any =>
    only(apiObjects(ENVIRONMENTS[name]), 'Deployment').spec.template.metadata.labels;

  test('lab: no cloud identity', () => {
    expect(serviceAccount('lab').metadata.annotations).toBeUndefined();
    expect(podLabels('lab')['azure.workload.identity/use']).toBeUndefined();
  });

  test('EKS: the IAM role for service accounts', () => {
    expect(serviceAccount('prod-eks').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/lab-to-prod-api',
    });
  });

  test('GKE: the Google service account', () => {
    expect(serviceAccount('prod-gke').metadata.annotations).toEqual({
      'iam.gke.io/gcp-service-account': 'api-workload@example-lab-to-prod.iam.gserviceaccount.com',
    });
  });

  test('AKS: the managed identity client ID on the ServiceAccount and the opt-in label on the pod', () => {
    expect(serviceAccount('prod-aks').metadata.annotations).toMatchObject({
      'azure.workload.identity/client-id': '11111111-2222-4333-8444-555555555555',
    });
    expect(podLabels('prod-aks')['azure.workload.identity/use']).toBe('true');
    expect(
      only(apiObjects(ENVIRONMENTS['prod-aks']), 'Deployment').spec.selector.matchLabels['azure.workload.identity/use'],
    ).toBeUndefined();
  });

  test('the identity follows the provider, not the environment name', () => {
    const renamed = withChange(ENVIRONMENTS['prod-eks'], (e) => {
      e.name = 'staging';
    });
    const chart = testChart('staging');
    new Api(chart, 'api', { env: renamed });
    expect(only(rendered(chart), 'ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn']).toBe(
      'arn:aws:iam::123456789012:role/lab-to-prod-api',
    );
  });
});

describe('api graceful shutdown', () => {
  const container = (env: (typeof envs)[number]): any =>
    only(apiObjects(env), 'Deployment').spec.template.spec.containers[0];

  test('the kubelet pauses before SIGTERM (the image has no sleep to exec), inside the grace period', () => {
    expect(container(ENVIRONMENTS.lab).lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(
      only(apiObjects(ENVIRONMENTS.lab), 'Deployment').spec.template.spec.terminationGracePeriodSeconds,
    ).toBeGreaterThan(5);
  });
});

describe('api configuration', () => {
  test('a change to the settings changes the pod template, so the Deployment rolls', () => {
    const hashFor = (text: string): string => {
      const chart = testChart('lab');
      new Api(chart, 'api', { env: ENVIRONMENTS.lab, settings: { ECHO_TEXT: text } });
      return only(rendered(chart), 'Deployment').spec.template.metadata.annotations['lab-to-prod.io/config-hash'];
    };
    expect(hashFor('a')).not.toBe(hashFor('b'));
  });
});

describe('api props are validated at construction', () => {
  const build = (props: Partial<ConstructorParameters<typeof Api>[2]>, env = ENVIRONMENTS.lab): void => {
    new Api(testChart(env.name), 'api', { env, ...props });
  };

  test('requests below limits: not Guaranteed', () => {
    const scale = { ...workloadScaleIn(ENVIRONMENTS.lab, 'api', API_SCALE), requests: { cpu: '50m', memory: '64Mi' } };
    expect(() => build({ scale })).toThrow(
      'lab/api: scale.requests.cpu: Invalid value: "50m": equal to the limit (100m), so that the pod is in the Guaranteed QoS class',
    );
  });

  test('a quantity that does not parse', () => {
    const scale = { ...workloadScaleIn(ENVIRONMENTS.lab, 'api', API_SCALE), limits: { cpu: 'lots', memory: '64Mi' } };
    expect(() => build({ scale })).toThrow('lab/api: scale.limits.cpu: Invalid value: "lots": a Kubernetes quantity');
  });

  test('minReplicas above maxReplicas', () => {
    const scale = { ...workloadScaleIn(ENVIRONMENTS.lab, 'api', API_SCALE), minReplicas: 5, maxReplicas: 3 };
    expect(() => build({ scale })).toThrow(
      'lab/api: scale.maxReplicas: Invalid value: 3: a whole number >= minReplicas (5)',
    );
  });

  test('an image tagged latest', () => {
    expect(() => build({ image: { repository: 'hashicorp/http-echo', tag: 'latest' } })).toThrow(
      'lab/api: image.tag: Invalid value: "latest": a version tag (not "latest", which moves)',
    );
  });

  test('a name that is not a DNS label', () => {
    expect(() => build({ name: 'API_v2' })).toThrow(
      'lab/api: name: Invalid value: "API_v2": at most 63 lowercase letters',
    );
  });

  test('a host that is not a DNS name', () => {
    expect(() => build({ host: 'api' })).toThrow('lab/api: host: Invalid value: "api": a fully qualified DNS name');
    expect(() => build({ host: 'Api.Example.com' })).toThrow('lab/api: host: Invalid value: "Api.Example.com"');
  });

  test('a setting whose name is not an environment variable name', () => {
    expect(() => build({ settings: { 'LOG-LEVEL': 'debug' } })).toThrow(
      'lab/api: settings.LOG-LEVEL: Invalid value: "LOG-LEVEL": an environment variable name',
    );
  });

  test('AKS without a client ID for the workload', () => {
    const env = withChange(ENVIRONMENTS['prod-aks'], (e) => {
      e.identity.clientIds = {};
    });
    expect(() => build({}, env as any)).toThrow(
      'prod-aks/api: env.identity.clientIds.api: Invalid value: undefined: the client ID (a GUID) of the user-assigned managed identity',
    );
  });

  test('GKE: a name whose Google service account ID would be too long', () => {
    const name = 'a'.repeat(25);
    expect(() => build({ name }, ENVIRONMENTS['prod-gke'])).toThrow(
      `prod-gke/api: name: Invalid value: "${name}": a name whose Google service account ID "${name}-workload" is 6 to 30`,
    );
  });
});

describe('environment validation of scale.api', () => {
  test('an environment whose api requests differ from its limits is refused', () => {
    const { validateEnvironment } = jest.requireActual('../environments/validate');
    const env = withChange(ENVIRONMENTS['prod-eks'], (e) => {
      // An environment writes only what differs: requests.cpu stays api's default, equal to its limit.
      e.scale.api = { requests: { memory: '64Mi' } };
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      'environment "prod-eks": scale.api.requests.memory: Invalid value: "64Mi": equal to the limit (128Mi)',
    );
  });
});
