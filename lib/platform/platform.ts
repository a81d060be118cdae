import { Construct } from 'constructs';
import { Environment } from '../environment';
import { AppNamespace } from './app-namespace';

export interface PlatformProps {
  /** The environment to render for. */
  readonly env: Environment;
  /** The namespaces of the apps that run on the platform, one per app. */
  readonly appNamespaces: readonly string[];
}

/**
 * What the workloads stand on, per environment: applied before them (it renders into 00-platform.yaml).
 */
export class Platform extends Construct {
  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    for (const name of props.appNamespaces) {
      new AppNamespace(this, `Namespace-${name}`, { name });
    }
  }
}
