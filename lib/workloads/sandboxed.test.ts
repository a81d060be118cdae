import { ENVIRONMENTS } from '../environments';
import { workloadScaleIn } from '../environments/workload-scale';
import { renderEnvironment } from '../synth/render';
import { appArmorFor, only, rendered, testChart, withChange } from '../../test/helpers';
import { Sandboxed, SANDBOXED_SCALE } from './sandboxed';
import { WORKLOADS } from '.';

const envs = Object.values(ENVIRONMENTS);
const sandboxedObjects = (env: (typeof envs)[number]): any[] =>
  renderEnvironment(env)
    .objects.filter((o) => o.constructPath.startsWith(`${env.name}/sandboxed/`))
    .map((o) => o.object);

describe.each(envs.map((env) => [env.name, env] as const))('sandboxed in %s', (_name, env) => {
  const objects = sandboxedObjects(env);
  const deployment = only(objects, 'Deployment', 'sandboxed');
  const pod = deployment.spec.template.spec;
  const nginx = pod.containers[0];

  test('the pod runs under the environment sandbox RuntimeClass', () => {
    expect(pod.runtimeClassName).toBe(env.sandboxRuntime.className);
  });

  test('a RuntimeClass the managed platform provides is documented on the Deployment', () => {
    const key = `out-of-band.lab-to-prod.io/runtimeclass.${env.sandboxRuntime.className}`;
    if (env.sandboxRuntime.providedByPlatform) {
      expect(deployment.metadata.annotations[key]).toMatch(/managed platform/);
    } else {
      expect(deployment.metadata.annotations?.[key]).toBeUndefined();
    }
  });

  test('still restricted field by field, with requests and limits and its own ServiceAccount', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 101,
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
    expect(nginx.resources).toEqual({
      requests: workloadScaleIn(env, 'sandboxed', SANDBOXED_SCALE).requests,
      limits: workloadScaleIn(env, 'sandboxed', SANDBOXED_SCALE).limits,
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  test('probes, at least two replicas, a budget and spread', () => {
    expect(nginx.startupProbe.httpGet.path).toBe('/healthz');
    expect(nginx.livenessProbe.httpGet.path).toBe('/healthz');
    expect(nginx.readinessProbe.httpGet.path).toBe('/');
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(workloadScaleIn(env, 'sandboxed', SANDBOXED_SCALE).minReplicas);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(pod.topologySpreadConstraints.length).toBeGreaterThanOrEqual(1);
  });

  test('network policy: only neighbours in its namespace, on the web port; out only DNS', () => {
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    expect(policy.spec.egress).toHaveLength(1);
    expect(policy.spec.egress[0].ports.map((p: any) => p.port)).toEqual([53, 53]);
  });
});

describe('sandboxed', () => {
  test('the runtime class follows the environment field, whatever the environment is called', () => {
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      e.name = 'edge';
      e.sandboxRuntime = { className: 'kata-qemu', handler: 'kata-qemu', providedByPlatform: false };
    });
    const chart = testChart('edge');
    new Sandboxed(chart, 'sandboxed', { env });
    expect(only(rendered(chart), 'Deployment').spec.template.spec.runtimeClassName).toBe('kata-qemu');
  });

  test('props are validated at construction', () => {
    const build = (props: Partial<ConstructorParameters<typeof Sandboxed>[2]>): void => {
      new Sandboxed(testChart('lab'), 'sandboxed', { env: ENVIRONMENTS.lab, ...props });
    };
    expect(() =>
      build({ scale: { ...workloadScaleIn(ENVIRONMENTS.lab, 'sandboxed', SANDBOXED_SCALE), minReplicas: 1 } }),
    ).toThrow('lab/sandboxed: scale.minReplicas: Invalid value: 1: a whole number >= 2');
    expect(() => build({ image: { repository: 'nginxinc/nginx-unprivileged', tag: 'latest' } })).toThrow(
      'lab/sandboxed: image.tag: Invalid value: "latest"',
    );
    expect(() => build({ name: 'Sandbox' })).toThrow('lab/sandboxed: name: Invalid value: "Sandbox"');
  });
});

describe('environment validation of scale.sandboxed', () => {
  test('minReplicas above maxReplicas is refused with the environment and field', () => {
    const { validateEnvironment } = jest.requireActual('../environments/validate');
    const env = withChange(ENVIRONMENTS['prod-eks'], (e) => {
      // Only minReplicas is the environment's: maxReplicas is sandboxed's default.
      e.scale.sandboxed = { minReplicas: 8 };
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      'environment "prod-eks": scale.sandboxed.maxReplicas: Invalid value: 6: a whole number >= minReplicas (8)',
    );
  });
});
