import { Environment } from '../environment';
import { productionScale } from './production-scale';

/**
 * Production on Amazon EKS: the AWS Load Balancer Controller provisions a Network Load Balancer,
 * EBS volumes through the EBS CSI driver, IAM roles for service accounts (IRSA).
 *
 * EXAMPLE VALUES: the account ID, region, cluster name, VPC and mirror below are examples.
 */
const ACCOUNT_ID = '123456789012'; // EXAMPLE
const REGION = 'eu-west-1'; // EXAMPLE
const CLUSTER_NAME = 'lab-to-prod'; // EXAMPLE

export const prodEks: Environment = {
  name: 'prod-eks',
  // EKS supports 1.32 to 1.36 today (standard plus extended support; SUPPORT_WINDOWS.eks in
  // lib/kubernetes-versions.ts, from the EKS version lifecycle page). 1.35 is in standard support.
  // renovate: datasource=endoflife-date packageName=amazon-eks (the dependency bot reads its minors)
  kubernetesVersion: '1.35',

  // The EKS cluster, recognised by its CA (certificate-authority-data of the context `aws eks
  // update-kubeconfig` writes). Until it is recorded here, `npm run deploy` refuses and prints the hash it
  // sees with this line.
  cluster: { caCertHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' }, // EXAMPLE

  loadBalancing: {
    provider: 'aws-load-balancer-controller',
    loadBalancerClass: 'service.k8s.aws/nlb',
    serviceAnnotations: {
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      // Targets are pod IPs, so traffic skips the extra kube-proxy hop through a node port.
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-ip-address-type': 'dualstack',
    },
    // An EKS cluster is either IPv4 or IPv6 inside; the NLB above faces clients on both.
    ipFamilies: ['IPv4'],
    // Traefik behind its own NLB, the same controller as in every environment, so the api's
    // NetworkPolicy is the same everywhere and only the load balancer in front differs. (The AWS Load
    // Balancer Controller's ALB Ingress serves certificates from ACM only, never from the Secret
    // cert-manager writes.)
    ingress: {
      className: 'traefik',
      controllerNamespace: 'traefik',
      domain: 'prod.lab-to-prod.example', // EXAMPLE
      clusterIssuer: 'letsencrypt',
      certificates: {
        kind: 'acme',
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        email: 'platform-team@lab-to-prod.example', // EXAMPLE
        // cert-manager's controller acts as an IAM role (IRSA) allowed to change this zone.
        dns01: { provider: 'route53', region: REGION, hostedZoneId: 'Z0123456789EXAMPLE' }, // EXAMPLE
      },
    },
  },

  storage: {
    storageClassName: 'gp3-encrypted',
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'gp3', encrypted: 'true' },
    reclaimPolicy: 'Retain',
    allowVolumeExpansion: true,
  },

  identity: {
    provider: 'aws-irsa',
    accountId: ACCOUNT_ID,
    roleNamePrefix: 'lab-to-prod-',
    secrets: { provider: 'aws-secrets-manager', clusterSecretStore: 'aws-secrets-manager', region: REGION },
    // People: EKS access entries (cluster authentication mode API). On the AWS side, one IAM role per
    // group that people assume, each with a STANDARD access entry naming its Kubernetes group and no
    // access policy, so that these RoleBindings alone decide what it may do:
    //   aws eks create-access-entry --cluster-name <cluster> --type STANDARD \
    //     --principal-arn arn:aws:iam::<account>:role/web-deployers --kubernetes-groups web-deployers
    // kubernetesGroups is the name of a `kind: Group` subject in a RoleBinding:
    // https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html
    // https://docs.aws.amazon.com/eks/latest/userguide/create-k8s-group-access-entry.html
    people: {
      signIn: { kind: 'eks-access-entries' },
      groups: {
        web: { viewer: 'web-viewers', deployer: 'web-deployers', 'on-call': 'web-on-call' },
        api: { viewer: 'api-viewers', deployer: 'api-deployers', 'on-call': 'api-on-call' },
        db: { viewer: 'db-viewers', deployer: 'db-deployers', 'on-call': 'db-on-call' },
        batch: { viewer: 'batch-viewers', deployer: 'batch-deployers', 'on-call': 'batch-on-call' },
        sandboxed: { viewer: 'sandboxed-viewers', deployer: 'sandboxed-deployers', 'on-call': 'sandboxed-on-call' },
      },
    },
  },

  // EKS managed node groups run Amazon Linux 2023 (the default AMI type from Kubernetes 1.30 on; AL2
  // images end with 1.32) or Bottlerocket. Neither has AppArmor: a pod that asks for an AppArmor
  // profile is refused by their kubelets. Both confine containers with SELinux instead: AL2023 has it
  // enabled in permissive mode by default (https://docs.aws.amazon.com/linux/al2023/ug/default-SELinux-modes-states.html;
  // switch it to enforcing in the node's launch template to have it refuse, not only log), Bottlerocket
  // in enforcing mode (https://github.com/bottlerocket-os/bottlerocket/blob/develop/SECURITY_FEATURES.md).
  // seccomp RuntimeDefault, dropped capabilities and a read-only root stay on every pod, as everywhere.
  nodes: { osImage: 'Amazon Linux 2023 (EKS optimized AMI) or Bottlerocket', securityModule: 'SELinux' },

  observability: {
    stack: 'prometheus-operator',
    // The labels the organisation's Prometheus selects ServiceMonitors and rules by. This project
    // renders the Prometheus Operator (addons) but not the Prometheus it runs, which is the
    // organisation's: a kube-prometheus-stack release named kube-prometheus-stack selects by
    // `release: <its name>`, and kube-state-metrics, which the alert rules read, comes with it.
    monitorSelectorLabels: { release: 'kube-prometheus-stack' },
    prometheusNamespace: 'monitoring',
  },

  // What the managed cluster lacks and this environment's objects stand on, each upstream's own
  // rendering pinned in addons/addons.lock.json and rendered into dist/prod-eks/ (lib/addons/<name>.ts
  // says what is changed).
  addons: {
    'cert-manager': {},
    'external-secrets': {},
    'prometheus-operator': {},
    // Two proxies: the environment's one door for HTTP(S) stays open while a node drains.
    traefik: { replicas: 2 },
    // EKS installs no metrics-server, and the autoscalers need it.
    'metrics-server': { replicas: 2 },
    // EKS (standard mode) installs no load balancer controller either: this one provisions Traefik's
    // NLB (loadBalancing above). Region and VPC are stated so that it needs no instance metadata; it
    // acts as the IAM role <roleNamePrefix>aws-load-balancer-controller (IRSA), which carries the
    // controller's published IAM policy.
    'aws-load-balancer-controller': { clusterName: CLUSTER_NAME, region: REGION, vpcId: 'vpc-0123456789abcdef0' }, // EXAMPLE
  },
  // What EKS (or AWS's own installation) provides, rendered nothing for here.
  providedByPlatform: [
    {
      piece:
        'Amazon EBS CSI driver, the Amazon EKS add-on aws-ebs-csi-driver (added to the cluster; AWS runs and updates it)',
      documentation: 'https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html',
    },
    {
      piece: 'Amazon VPC CNI, the default Amazon EKS add-on, with network policy enforcement enabled',
      documentation: 'https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html',
    },
  ],

  // Production's shared sizing (production-scale.ts), spread over the cluster's zones.
  scale: productionScale(),

  // An ECR pull-through cache rule for Docker Hub under the prefix docker-hub.
  registry: { mirror: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/docker-hub` },

  // EKS ships no gVisor: a node group whose launch template installs runsc and registers it with
  // containerd, labelled as below; the platform chart creates the RuntimeClass that schedules there.
  sandboxRuntime: {
    className: 'gvisor',
    handler: 'runsc',
    providedByPlatform: false,
    nodeSelector: { 'lab-to-prod.example/sandbox': 'gvisor' }, // EXAMPLE
  },

  // Delivered by Argo CD: EKS's managed Argo CD capability (AWS runs and updates Argo CD outside the
  // cluster's nodes; https://docs.aws.amazon.com/eks/latest/userguide/capabilities.html), bootstrapped once
  // with `kubectl apply -f dist/prod-eks-delivery/argocd/` (lib/delivery/argocd.ts). Production
  // follows a promoted commit of the branch, never its tip: `npm run promote -- --env prod-eks --to
  // <commit>` rewrites the revision line below, once the lab has run that commit. Until the first
  // promotion nothing is applied.
  delivery: {
    engine: 'argocd',
    repository: 'https://git.example.com/platform/lab-to-prod.git', // EXAMPLE
    branch: 'main',
    revision: 'unpromoted',
    // Only the reconciler writes what it delivers: people's roles keep what has no place in git.
    reconcilerOnly: true,
    argocd: { namespace: 'argocd', project: 'lab-to-prod' },
  },
};

// This file is an environment because of its default export (lib/environments/index.ts finds it).
export default prodEks;
