import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PROJECT_VERSION, recommendedLabels } from '../kit/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../kit/names';
import { Problems } from '../kit/validation';

/** The Pod Security Standards level every app namespace enforces. */
export const POD_SECURITY_LEVEL = 'restricted';

export interface AppNamespaceProps {
  /** The namespace's name, which is the app's name. */
  readonly name: string;
}

/**
 * A namespace for one app, in which Pod Security admission enforces, audits and warns at the
 * "restricted" level: a pod that asks for more than the restricted profile allows is refused by the
 * API server itself (the primer, 3: admission), whatever the YAML that created it.
 */
export class AppNamespace extends Construct {
  constructor(scope: Construct, id: string, props: AppNamespaceProps) {
    super(scope, id);
    const p = new Problems(this.node.path);
    p.check(isDns1123Label(props.name), 'name', props.name, DNS1123_LABEL_RULE);
    p.throwIfAny();

    new k8s.KubeNamespace(this, 'Resource', {
      metadata: {
        name: props.name,
        labels: {
          ...recommendedLabels({ name: props.name, component: 'namespace', version: PROJECT_VERSION }),
          'pod-security.kubernetes.io/enforce': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/warn': POD_SECURITY_LEVEL,
        },
      },
    });
  }
}
