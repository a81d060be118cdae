import { App, Chart } from 'cdk8s';
import { Environment } from '../lib/environment';
import { renderObject } from '../lib/parts/escape-hatch';
import { ApiObject } from 'cdk8s';

/** A chart to build constructs in, the way lib/synth/app.ts does, for behaviour tests of one construct. */
export function testChart(envName = 'test'): Chart {
  return new Chart(new App({ outdir: 'unused' }), envName, { disableResourceNameHashes: true });
}

/** Every object a chart renders, as in dist/. */
export function rendered(chart: Chart): any[] {
  return chart.node
    .findAll()
    .filter((c): c is ApiObject => c instanceof ApiObject)
    .map(renderObject);
}

/** The one object of a kind (and name) among rendered objects; fails the test if it is not exactly one. */
export function only(objects: readonly any[], kind: string, name?: string): any {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` "${name}"` : ''}, found ${found.length}`);
  }
  return found[0];
}

/** An environment with one field replaced, for validation tests. */
export function withChange<T extends Environment>(env: T, change: (copy: any) => void): Environment {
  const copy = structuredClone(env);
  change(copy);
  return copy;
}

/**
 * The AppArmor part of a restricted pod security context for an environment: the runtime default
 * profile where its nodes run AppArmor, nothing where they do not (env.nodes; test/node-facts.test.ts
 * checks the absence).
 */
export function appArmorFor(env: Environment): { appArmorProfile?: { type: 'RuntimeDefault' } } {
  return env.nodes.securityModule === 'AppArmor' ? { appArmorProfile: { type: 'RuntimeDefault' } } : {};
}

/**
 * What a container of a pod reads from a Secret: every env entry that takes a Secret (the guardrail
 * `secrets/secret-in-env` refuses them, so this should be empty) and the Secret files it mounts, with
 * the volume's Secret, mode and mount.
 */
export function secretsOf(
  pod: any,
  containerName: string,
): { inEnv: any[]; files: string[]; secretName?: string; defaultMode?: number; mount?: any } {
  const container = [...(pod.initContainers ?? []), ...pod.containers].find((c: any) => c.name === containerName);
  const inEnv = [
    ...(container.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef),
    ...(container.envFrom ?? []).filter((e: any) => e.secretRef),
  ];
  const secretVolumes = (pod.volumes ?? []).filter((v: any) => v.secret);
  const mount = (container.volumeMounts ?? []).find((m: any) => secretVolumes.some((v: any) => v.name === m.name));
  const volume = secretVolumes.find((v: any) => v.name === mount?.name);
  return {
    inEnv,
    files: (volume?.secret.items ?? []).map((item: any) => `${mount.mountPath}/${item.path}`),
    secretName: volume?.secret.secretName,
    defaultMode: volume?.secret.defaultMode,
    mount,
  };
}
