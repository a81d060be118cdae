import { KubeObject } from '../k8s/kube-object';
import { FieldProblem } from '../k8s/validation';

/**
 * One add-on's objects as upstream renders them (addons/<name>/upstream.yaml, CRDs aside), for its
 * definition (lib/addons/<name>.ts) to patch with this project's settings. Every patch finds its
 * target by kind and name: if the pinned version has no such object (a newer release renamed it),
 * the synth stops with the environment, the add-on, the setting and what the pinned version does
 * have, rather than render a setting that silently applies to nothing.
 */
export class AddonObjects {
  private readonly found: FieldProblem[] = [];

  constructor(
    /** The add-on's name, as in the lock and in Environment.addons. */
    public readonly addon: string,
    /** Its pinned version (addons/addons.lock.json). */
    public readonly version: string,
    /** `environment "lab"`: where its settings were given. */
    private readonly where: string,
    /** The objects, in upstream's order; patches change them in place. */
    public readonly objects: KubeObject[],
  ) {}

  /**
   * The object of this kind and name (and namespace, for a namespaced one upstream places), or
   * undefined with a problem recorded against `field`, the setting that needed it.
   */
  public find(kind: string, name: string, field: string, value: unknown): KubeObject | undefined {
    const object = this.objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (object === undefined) {
      const same = this.objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name as string);
      this.problem(
        field,
        value,
        `the pinned ${this.addon} ${this.version} has no ${kind} "${name}" to set it on; ` +
          `its ${kind} objects: ${same.length === 0 ? 'none' : same.join(', ')}`,
      );
    }
    return object;
  }

  /** A container of a workload's pod template, by name; undefined with a problem recorded if either is missing. */
  public container(
    kind: string,
    name: string,
    containerName: string,
    field: string,
    value: unknown,
  ): KubeObject | undefined {
    const workload = this.find(kind, name, field, value);
    if (workload === undefined) {
      return undefined;
    }
    const containers: KubeObject[] = workload.spec?.template?.spec?.containers ?? [];
    const container = containers.find((c) => c.name === containerName);
    if (container === undefined) {
      this.problem(
        field,
        value,
        `the pinned ${this.addon} ${this.version}'s ${kind} "${name}" has no container "${containerName}"; ` +
          `its containers: ${containers.map((c) => c.name as string).join(', ') || 'none'}`,
      );
    }
    return container;
  }

  /** Takes an object out of the rendering (a duplicate of one the platform renders from the environment). */
  public remove(kind: string, name: string, field: string, value: unknown): void {
    const object = this.find(kind, name, field, value);
    if (object !== undefined) {
      this.objects.splice(this.objects.indexOf(object), 1);
    }
  }

  /** Records a problem with a setting (or an environment field the add-on reads). */
  public problem(field: string, value: unknown, allowed: string): void {
    this.found.push({ where: this.where, field, value, allowed });
  }

  public get problems(): readonly FieldProblem[] {
    return this.found;
  }
}
