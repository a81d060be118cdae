import { Construct } from 'constructs';
import {
  Certificate,
  CertificateSpecPrivateKeyAlgorithm,
} from '../../generated/crd-bindings/certificate-cert-manager.io';
import {
  ClusterIssuer,
  ClusterIssuerSpecAcmeSolversDns01,
  ClusterIssuerSpecAcmeSolversDns01AzureDnsEnvironment,
} from '../../generated/crd-bindings/clusterissuer-cert-manager.io';
import { Issuer } from '../../generated/crd-bindings/issuer-cert-manager.io';
import { AcmeDns01, Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { createdByInstaller } from './installer-namespaces';

/**
 * cert-manager's namespace: a ClusterIssuer reads its Secrets (the CA key pair, the ACME account
 * key) from here, its "cluster resource namespace".
 */
export const CERT_MANAGER_NAMESPACE = 'cert-manager';

/**
 * The ClusterIssuer that signs the certificates Ingress objects ask for with the annotation
 * `cert-manager.io/cluster-issuer: <env.loadBalancing.ingress.clusterIssuer>`.
 *
 * - The lab (private-ca): a self-signed Issuer signs one CA certificate, whose key cert-manager makes
 *   in the cluster (no key in dist/); a CA ClusterIssuer signs with it. Trust the lab by importing
 *   that CA's certificate (`kubectl -n cert-manager get secret <issuer>-root -o jsonpath='{.data.ca\.crt}'`).
 * - Production (acme): Let's Encrypt with a DNS-01 challenge answered in the cloud's DNS; cert-manager's
 *   controller reaches the DNS API as its workload identity (set on its ServiceAccount at install).
 */
export class CertificateIssuers extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment }) {
    super(scope, id);
    const ingress = props.env.loadBalancing.ingress;
    const issuerName = ingress.clusterIssuer;
    const labels = recommendedLabels({ name: issuerName, component: 'certificates', version: PROJECT_VERSION });
    const source = ingress.certificates;

    if (source.kind === 'private-ca') {
      const bootstrapName = `${issuerName}-selfsigned`;
      const caSecret = `${issuerName}-root`;
      new Issuer(this, 'SelfSignedIssuer', {
        metadata: {
          name: bootstrapName,
          namespace: CERT_MANAGER_NAMESPACE,
          labels,
          annotations: createdByInstaller(CERT_MANAGER_NAMESPACE, 'cert-manager'),
        },
        spec: { selfSigned: {} },
      });
      new Certificate(this, 'CaCertificate', {
        metadata: {
          name: caSecret,
          namespace: CERT_MANAGER_NAMESPACE,
          labels,
          annotations: createdByInstaller(CERT_MANAGER_NAMESPACE, 'cert-manager'),
        },
        spec: {
          isCa: true,
          commonName: source.caCommonName,
          secretName: caSecret,
          // Five years, renewed a month ahead: long enough that the lab's trust store rarely changes.
          duration: '43800h',
          renewBefore: '720h',
          privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256 },
          issuerRef: { name: bootstrapName, kind: 'Issuer', group: 'cert-manager.io' },
        },
      });
      new ClusterIssuer(this, 'ClusterIssuer', {
        metadata: { name: issuerName, labels },
        spec: { ca: { secretName: caSecret } },
      });
      return;
    }

    new ClusterIssuer(this, 'ClusterIssuer', {
      metadata: { name: issuerName, labels },
      spec: {
        acme: {
          server: source.server,
          email: source.email,
          // The ACME account's key: made by cert-manager on first use, stored in this Secret.
          privateKeySecretRef: { name: `${issuerName}-account-key` },
          solvers: [
            {
              // Only names under the environment's domain are answered through its zone.
              selector: { dnsZones: [ingress.domain] },
              dns01: dns01Solver(source.dns01),
            },
          ],
        },
      },
    });
  }
}

/** The DNS-01 solver for each cloud; no credentials here: the controller's workload identity is used. */
function dns01Solver(dns: AcmeDns01): ClusterIssuerSpecAcmeSolversDns01 {
  switch (dns.provider) {
    case 'route53':
      return { route53: { region: dns.region, hostedZoneId: dns.hostedZoneId } };
    case 'cloud-dns':
      return { cloudDns: { project: dns.project } };
    case 'azure-dns':
      return {
        azureDns: {
          subscriptionId: dns.subscriptionId,
          resourceGroupName: dns.resourceGroupName,
          hostedZoneName: dns.hostedZoneName,
          environment: ClusterIssuerSpecAcmeSolversDns01AzureDnsEnvironment.AZURE_PUBLIC_CLOUD,
          managedIdentity: { clientId: dns.managedIdentityClientId },
        },
      };
  }
}
