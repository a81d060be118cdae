import { only, withChange } from '../../test/helpers';
import { Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { ValidationError } from '../k8s/validation';
import { checkManifests } from '../policy';
import { onCallSuspendObjects, SUSPEND_ROLE_NAME, WORKLOADS_LAYER_NAME } from './reconciler-access';

const suspendObjects = onCallSuspendObjects;

const engineNamespace = (env: Environment) =>
  env.delivery.engine === 'flux' ? env.delivery.flux!.namespace : env.delivery.argocd!.namespace;

const PRODUCTION = Object.values(ENVIRONMENTS)
  .filter((e) => e.delivery.reconcilerOnly)
  .map((e) => [e.name, e] as const);

describe("on-call's Role to suspend the workloads layer", () => {
  test('there is production to render it for', () => {
    expect(PRODUCTION.map(([name]) => name)).toEqual(expect.arrayContaining(['prod-eks', 'prod-gke', 'prod-aks']));
  });

  test.each(PRODUCTION)("%s: a Role in the engine's namespace, bound to every app's on-call group", (_name, env) => {
    const objects = suspendObjects(env);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      `Role/${engineNamespace(env)}/${SUSPEND_ROLE_NAME}`,
      `RoleBinding/${engineNamespace(env)}/${SUSPEND_ROLE_NAME}`,
    ]);
    const binding = only(objects, 'RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SUSPEND_ROLE_NAME });
    const onCall = Object.values(env.identity.people.groups).map((g) => g['on-call']);
    expect(binding.subjects.map((s: any) => s.name)).toEqual([...new Set(onCall)].sort());
    expect(binding.subjects.every((s: any) => s.kind === 'Group')).toBe(true);
    for (const o of objects) {
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('lab-to-prod');
      expect(o.metadata.labels['app.kubernetes.io/component']).toBe('delivery');
    }
  });

  test.each(PRODUCTION)('%s: its only write is a patch of the workloads layer, by name', (_name, env) => {
    const rules = only(suspendObjects(env), 'Role').rules;
    const writes = rules.filter((r: any) => r.verbs.some((v: string) => !['get', 'list', 'watch'].includes(v)));
    const layerKind = env.delivery.engine === 'flux' ? 'kustomizations' : 'applications';
    expect(writes).toEqual([
      expect.objectContaining({ resources: [layerKind], resourceNames: [WORKLOADS_LAYER_NAME], verbs: ['patch'] }),
    ]);
    // `flux suspend` lists the object by name before it patches it; kubectl reads it.
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resources: expect.arrayContaining([layerKind]), verbs: ['get', 'list', 'watch'] }),
      ]),
    );
  });

  test("the lab's roles stay as they are: nothing is rendered there", () => {
    expect(ENVIRONMENTS.lab.delivery.reconcilerOnly).toBe(false);
    expect(suspendObjects(ENVIRONMENTS.lab)).toEqual([]);
  });

  test.each(PRODUCTION)("%s: the project's guardrails pass it", (_name, env) => {
    const objects = suspendObjects(env);
    const onCall = Object.values(env.identity.people.groups).map((g) => g['on-call']);
    const findings = checkManifests(
      objects.map((object) => ({
        environment: env.name,
        kubernetesVersion: env.kubernetesVersion,
        file: 'flux/lab-to-prod.yaml',
        object,
      })),
      { peopleGroups: { [env.name]: onCall } },
    );
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test("an engine's settings missing name the environment's field", () => {
    const env = withChange(ENVIRONMENTS['prod-gke'], (e) => {
      delete e.delivery.flux;
    });
    expect(() => suspendObjects(env)).toThrow(ValidationError);
    expect(() => suspendObjects(env)).toThrow(
      'prod-gke/delivery/flux: env.delivery.flux.namespace: Invalid value: undefined: the namespace flux runs in: ' +
        "on-call's Role to suspend lab-to-prod-workloads is rendered there",
    );
  });
});
