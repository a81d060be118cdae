import { Construct } from 'constructs';
import { Environment } from '../environment';
import { PeopleAccess } from './access';
import { AppNamespace } from './app-namespace';
import { CertificateIssuers } from './certificates';
import { LoadBalancerPools } from './load-balancer-pool';
import { AppAlerts } from './observability';
import { PriorityClasses } from './priority-classes';
import { SandboxRuntimeClass } from './runtime-class';
import { SecretStore } from './secret-store';
import { StorageClassForEnvironment } from './storage-class';

export interface PlatformProps {
  /** The environment to render for. */
  readonly env: Environment;
  /** The namespaces of the apps that run on the platform, one per app. */
  readonly appNamespaces: readonly string[];
}

/**
 * What the workloads stand on, per environment: applied before them (it renders into
 * 05-platform.yaml, Namespaces first). What differs between the lab and production (the Environment's
 * areas, lib/environment.ts) is decided by the environment's data, never by its name:
 *
 * | area            | lab                                   | production                                 |
 * |-----------------|---------------------------------------|--------------------------------------------|
 * | load balancing  | MetalLB pool + L2 advertisement       | nothing: the cloud's controller            |
 * | certificates    | self-signed → private CA ClusterIssuer | ACME (Let's Encrypt) ClusterIssuer, DNS-01 |
 * | storage         | local-path (or Ceph RBD)              | the cloud's CSI disk                       |
 * | secrets         | `npm run lab-secrets`                 | ClusterSecretStore (external-secrets)      |
 * | observability   | metrics-server: nothing rendered      | PrometheusRule per app namespace           |
 * | sandbox runtime | RuntimeClass gvisor (runsc)           | EKS: defined here; GKE/AKS: the platform's |
 * | people's access | client-certificate groups (CSR API)   | EKS access entries, Google Groups, Entra   |
 *
 * Every app namespace gets Pod Security "restricted", a quota, a LimitRange, default-deny and DNS.
 * RBAC for workloads: none. No workload here calls the Kubernetes API, so no Role is granted to any
 * of them. RBAC for people: a viewer, a deployer and an on-call role per app namespace (access.ts).
 */
export class Platform extends Construct {
  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    const { env } = props;
    for (const name of props.appNamespaces) {
      new AppNamespace(this, `Namespace-${name}`, { name, quota: env.scale.namespaceQuota });
    }
    new PeopleAccess(this, 'Access', { env, appNamespaces: props.appNamespaces });
    new PriorityClasses(this, 'PriorityClasses');
    new StorageClassForEnvironment(this, 'StorageClass', { env });
    new SandboxRuntimeClass(this, 'RuntimeClass', { env });
    new LoadBalancerPools(this, 'LoadBalancer', { env });
    new CertificateIssuers(this, 'Certificates', { env });
    new SecretStore(this, 'SecretStore', { env });
    for (const name of props.appNamespaces) {
      new AppAlerts(this, `Alerts-${name}`, { env, namespace: name });
    }
  }
}
