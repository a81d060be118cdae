/** What a check sees: the object under check and an index of its environment. */
import { ManifestInput, Rule } from './types';
import { isNamespaced, namespaceOf } from './objects';

/** Reports a finding on the object under check. */
export type Report = (ruleId: string, fieldPath: string, message: string) => void;

export interface ObjectContext {
  readonly input: ManifestInput;
  readonly object: any;
  readonly report: Report;
}

/** All objects of one environment, indexed for reference lookups. */
export class EnvironmentIndex {
  private readonly byKey = new Map<string, any>();
  private readonly byKind = new Map<string, any[]>();
  readonly platformProvided: ReadonlySet<string>;
  /** The groups people may be bound through (CheckOptions.peopleGroups). */
  readonly peopleGroups: ReadonlySet<string>;

  constructor(
    readonly environment: string,
    readonly kubernetesVersion: string,
    readonly inputs: readonly ManifestInput[],
    platformProvided: readonly string[] = [],
    peopleGroups: readonly string[] = [],
  ) {
    this.platformProvided = new Set(platformProvided);
    this.peopleGroups = new Set(peopleGroups);
    for (const input of inputs) {
      const object = input.object;
      if (!object || typeof object !== 'object') continue;
      this.byKey.set(EnvironmentIndex.key(object.kind, namespaceOf(object), object.metadata?.name), object);
      const list = this.byKind.get(object.kind) ?? [];
      list.push(object);
      this.byKind.set(object.kind, list);
    }
  }

  private static key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  /** The object of this kind and name (namespace ignored for cluster-scoped kinds), if defined. */
  find(kind: string, namespace: string | undefined, name: string): any {
    const ns = isNamespaced({ kind }) ? (namespace ?? 'default') : undefined;
    return this.byKey.get(EnvironmentIndex.key(kind, ns, name));
  }

  /** Defined in this environment, or listed as provided by its platform. */
  isProvidedByPlatform(kind: string, namespace: string | undefined, name: string): boolean {
    return (
      this.platformProvided.has(`${kind}/${name}`) ||
      (namespace !== undefined && this.platformProvided.has(`${kind}/${namespace}/${name}`))
    );
  }

  ofKind(kind: string): readonly any[] {
    return this.byKind.get(kind) ?? [];
  }

  /** Objects of a kind in one namespace. */
  inNamespace(kind: string, namespace: string | undefined): any[] {
    return this.ofKind(kind).filter((o) => namespaceOf(o) === namespace);
  }
}

/** A group of rules and the function that applies them to one object. */
export interface Check {
  readonly rules: readonly Rule[];
  check(context: ObjectContext, environment: EnvironmentIndex): void;
}
