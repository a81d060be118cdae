/**
 * The difference between two renderings of the same environments (the working tree and a git
 * ref), per environment and object: added, removed, or changed with a unified diff of that
 * object's YAML. Objects are matched as `kubectl apply` matches them: by API group, kind,
 * namespace and name (kube.ts objectKey), so an object that only moved to another file is not a change.
 */
import { Yaml } from 'cdk8s';
import { createTwoFilesPatch } from 'diff';
import { compareText, KubeObject, objectKey, objectLabel } from './kube';

export type ObjectChange =
  | { readonly change: 'added' | 'removed'; readonly object: string; readonly yaml: string }
  | { readonly change: 'changed'; readonly object: string; readonly patch: string };

export interface EnvironmentChanges {
  readonly env: string;
  /** Present in one rendering and not the other. */
  readonly status: 'both' | 'added' | 'removed';
  readonly changes: readonly ObjectChange[];
}

/**
 * An object's YAML for review: a Secret's values are replaced by a marker that changes when the
 * value does (its length and position), never by the value, so a diff shows *that* it changed.
 */
export function reviewYaml(o: KubeObject): string {
  if (o.kind !== 'Secret') {
    return Yaml.stringify(o);
  }
  const hide = (data: Record<string, unknown> | undefined) =>
    data && Object.fromEntries(Object.keys(data).map((k) => [k, `(hidden, ${String(data[k]).length} characters)`]));
  return Yaml.stringify({ ...o, data: hide(o.data), stringData: hide(o.stringData) });
}

/** Compares one environment's objects: `before` (the ref) against `after` (the working tree). */
export function diffObjects(before: readonly KubeObject[], after: readonly KubeObject[], context = 3): ObjectChange[] {
  const index = (objects: readonly KubeObject[]) => new Map(objects.map((o) => [objectKey(o), o]));
  const old = index(before);
  const now = index(after);
  const keys = [...new Set([...old.keys(), ...now.keys()])]
    .map((key) => ({ key, label: objectLabel((now.get(key) ?? old.get(key))!) }))
    .sort((a, b) => compareText(a.label, b.label) || compareText(a.key, b.key));
  const changes: ObjectChange[] = [];
  for (const { key, label } of keys) {
    const a = old.get(key);
    const b = now.get(key);
    if (!a) {
      changes.push({ change: 'added', object: label, yaml: reviewYaml(b!) });
    } else if (!b) {
      changes.push({ change: 'removed', object: label, yaml: reviewYaml(a) });
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      const yamlA = reviewYaml(a);
      const yamlB = reviewYaml(b);
      const patch =
        yamlA === yamlB
          ? '(only hidden Secret values changed)\n'
          : // Without the patch's leading "Index:" and "===" lines: the report names the object already.
            createTwoFilesPatch(label, label, yamlA, yamlB, 'before', 'after', { context }).replace(
              /^Index: .*\n=+\n/,
              '',
            );
      changes.push({ change: 'changed', object: label, patch });
    }
  }
  return changes;
}

/** Compares every environment of two renderings (environment name → objects). */
export function diffEnvironments(
  before: ReadonlyMap<string, readonly KubeObject[]>,
  after: ReadonlyMap<string, readonly KubeObject[]>,
): EnvironmentChanges[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort(compareText);
  return names.map((env) => {
    const a = before.get(env);
    const b = after.get(env);
    return { env, status: !a ? 'added' : !b ? 'removed' : 'both', changes: diffObjects(a ?? [], b ?? []) };
  });
}

/** The report: a summary line per environment, then each change. */
export function formatObjectDiff(refName: string, envs: readonly EnvironmentChanges[]): string {
  const out: string[] = [];
  const total = envs.reduce((n, e) => n + e.changes.length, 0);
  out.push(
    `Rendered YAML: working tree against ${refName}: ${total === 0 ? 'no differences' : `${total} object change(s)`}.`,
    '',
  );
  for (const e of envs) {
    const count = (c: string) => e.changes.filter((x) => x.change === c).length;
    const status = e.status === 'both' ? '' : ` (environment ${e.status})`;
    out.push(`${e.env}${status}: ${count('added')} added, ${count('removed')} removed, ${count('changed')} changed`);
  }
  for (const e of envs) {
    for (const c of e.changes) {
      out.push('', `=== ${e.env}: ${c.change} ${c.object}`);
      if (c.change === 'changed') {
        out.push(c.patch.trimEnd());
      } else {
        const sign = c.change === 'added' ? '+' : '-';
        out.push(
          ...c.yaml
            .trimEnd()
            .split('\n')
            .map((l) => `${sign}${l}`),
        );
      }
    }
  }
  return out.join('\n') + '\n';
}
