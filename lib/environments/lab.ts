import { Environment } from '../environment';

/**
 * The lab: Proxmox VMs built with kubeadm, containerd on the nodes, MetalLB for load balancers
 * (the README's "The lab and production model"). A few nodes in one room, so replicas spread over
 * nodes, not zones.
 *
 * EXAMPLE VALUES: the address pool, ranges and mirror below are examples. Replace them with
 * your lab's own before you apply; `npm run synth` validates whatever you write here.
 */
const ADDRESS_POOL = 'lab-pool';

export const lab: Environment = {
  name: 'lab',
  // Kubernetes 1.35: an upstream-supported release (upstream patches the three newest minors;
  // SUPPORT_WINDOWS.upstream in lib/kubernetes-versions.ts gives them and the source) and the
  // minor every production environment runs, so the lab runs what production runs.
  // renovate: datasource=endoflife-date packageName=kubernetes (the dependency bot reads its minors)
  kubernetesVersion: '1.35',

  // The lab's cluster, recognised by its CA: the hash `kubeadm token create --print-join-command` prints
  // (--discovery-token-ca-cert-hash). Until it is recorded here, `npm run deploy` refuses and prints the
  // hash it sees with this line.
  cluster: { caCertHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' }, // EXAMPLE

  loadBalancing: {
    provider: 'metallb',
    // MetalLB hands out addresses from the named pool; the prefix metallb.io replaced
    // metallb.universe.tf in MetalLB 0.14.
    serviceAnnotations: { 'metallb.io/address-pool': ADDRESS_POOL },
    // kubeadm's dual-stack pod and service subnets make every Service dual-stack here.
    ipFamilies: ['IPv4', 'IPv6'],
    metallbAddressPools: [
      {
        name: ADDRESS_POOL,
        addresses: ['192.168.50.240-192.168.50.250', 'fd00:50::240-fd00:50::250'], // EXAMPLE
      },
    ],
    // Traefik, the in-cluster ingress controller of every environment, behind a MetalLB address;
    // certificates from the lab's own CA (import the CA certificate into your browser once: secret
    // lab-ca-root in namespace cert-manager). ingress-nginx, the old default, was retired in March
    // 2026 and gets no more fixes.
    ingress: {
      className: 'traefik',
      controllerNamespace: 'traefik',
      domain: 'lab.example', // EXAMPLE
      clusterIssuer: 'lab-ca',
      certificates: { kind: 'private-ca', caCommonName: 'lab-to-prod lab CA' },
    },
  },

  // A node's local disk through Rancher's local-path provisioner: simple, and a lost node loses its
  // volumes; it cannot grow a volume either. The provisioner is the add-on local-path-provisioner
  // (addons, below), and this class is rendered instead of upstream's, under the same name. Proxmox's
  // Ceph is the sturdier choice once ceph-csi runs in the cluster; replace this block with:
  //   storageClassName: 'ceph-rbd', provisioner: 'rbd.csi.ceph.com', reclaimPolicy: 'Delete',
  //   allowVolumeExpansion: true, parameters: {
  //     clusterID: '<ceph fsid>', pool: 'kubernetes', imageFeatures: 'layering',
  //     'csi.storage.k8s.io/fstype': 'ext4',
  //     'csi.storage.k8s.io/provisioner-secret-name': 'csi-rbd-secret',
  //     'csi.storage.k8s.io/provisioner-secret-namespace': 'ceph-csi-rbd',
  //     'csi.storage.k8s.io/controller-expand-secret-name': 'csi-rbd-secret',
  //     'csi.storage.k8s.io/controller-expand-secret-namespace': 'ceph-csi-rbd',
  //     'csi.storage.k8s.io/node-stage-secret-name': 'csi-rbd-secret',
  //     'csi.storage.k8s.io/node-stage-secret-namespace': 'ceph-csi-rbd' }
  storage: {
    storageClassName: 'local-path',
    provisioner: 'rancher.io/local-path',
    parameters: {},
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: false,
  },

  // No cloud identity; Secrets are made in the cluster by `npm run lab-secrets`.
  identity: {
    provider: 'none',
    secrets: { provider: 'lab-secrets-command' },
    // People: the lab's minimal sign-in. `npm run lab-access -- --user <name> --group <group>` has the
    // cluster's CA sign a client certificate (signer kubernetes.io/kube-apiserver-client); the API
    // server takes the certificate's common name (CN) as the user and each organisation (O) as a group.
    // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates
    // https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#kubernetes-signers
    people: {
      signIn: { kind: 'client-certificate' },
      groups: {
        web: { viewer: 'web-viewers', deployer: 'web-deployers', 'on-call': 'web-on-call' },
        api: { viewer: 'api-viewers', deployer: 'api-deployers', 'on-call': 'api-on-call' },
        db: { viewer: 'db-viewers', deployer: 'db-deployers', 'on-call': 'db-on-call' },
        batch: { viewer: 'batch-viewers', deployer: 'batch-deployers', 'on-call': 'batch-on-call' },
        sandboxed: { viewer: 'sandboxed-viewers', deployer: 'sandboxed-deployers', 'on-call': 'sandboxed-on-call' },
      },
    },
  },

  // metrics-server only: resource metrics for the HorizontalPodAutoscaler and `kubectl top`.
  // The simple form: metrics-server only. The Prometheus namespace is named all the same, so the
  // NetworkPolicies that let a Prometheus scrape are the same as in production; nothing uses them
  // until one is installed in the lab.
  observability: { stack: 'metrics-server', prometheusNamespace: 'monitoring' },

  scale: {
    spreadAcross: 'node',
    // A lab's node that stops answering is a stopped or broken VM, not a network blip on a cloud's
    // fabric, and two workers carry every replica: waiting Kubernetes' default five minutes before
    // replacing web's and api's pods leaves half of them gone that long. After the 50 s the
    // controller manager gives a silent node, 30 s more; production keeps the default.
    evictFromLostNodeAfterSeconds: 30,
    // Each app namespace's ceiling in a lab of a few small VMs: room for the largest workload at its
    // maxReplicas plus one surge pod (validated), and for a sidecar or a Job beside it.
    namespaceQuota: {
      requests: { cpu: '2', memory: '4Gi' },
      limits: { cpu: '4', memory: '8Gi' },
      pods: 20,
      persistentVolumeClaims: 5,
      storage: '50Gi',
      containerMax: { cpu: '1', memory: '2Gi' },
      containerDefaults: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
    },
    // Each workload's size is production's (its defaults, beside its construct in lib/workloads/)
    // but for what is written here: a lab of a few small VMs runs fewer, smaller pods.
    web: {
      minReplicas: 2,
      maxReplicas: 4,
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '250m', memory: '128Mi' },
    },
    // requests == limits: a Guaranteed QoS pod, the last to be evicted under node pressure.
    api: {
      minReplicas: 2,
      maxReplicas: 4,
      requests: { cpu: '100m', memory: '64Mi' },
      limits: { cpu: '100m', memory: '64Mi' },
    },
    db: {
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '512Mi' },
      storage: '5Gi',
    },
    batch: {
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
      backupStorage: '5Gi',
    },
    sandboxed: {
      maxReplicas: 3,
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '250m', memory: '128Mi' },
    },
  },

  // The lab's VMs run Debian 13's cloud image: the nodes' user-data is written for it (it installs
  // Debian 13's own containerd and runc, lib/bootstrap/cloud-init.ts) and the README's Proxmox
  // template is made from it. Debian's kernel enables AppArmor by default (since Debian 10,
  // https://wiki.debian.org/AppArmor), so pods ask for AppArmor's runtime default profile on top of seccomp.
  nodes: { osImage: 'Debian 13 cloud image', securityModule: 'AppArmor' },

  // Docker Hub directly: a fresh lab has no mirror. A Harbor proxy project is the usual next step.
  registry: { mirror: 'docker.io' },

  // gVisor installed on every node (runsc plus containerd's runsc shim, registered as handler
  // "runsc" in /etc/containerd/config.toml); the platform chart creates the RuntimeClass.
  sandboxRuntime: { className: 'gvisor', handler: 'runsc', providedByPlatform: false },

  // What a kubeadm cluster lacks and the lab's objects stand on, each upstream's own rendering pinned in
  // addons/addons.lock.json and rendered into dist/lab/ (lib/addons/<name>.ts says what is changed).
  addons: {
    // The CNI pair: flannel gives pods their addresses from bootstrap.podSubnets and routes them;
    // it enforces no NetworkPolicy, so kube-network-policies enforces every app's default-deny beside it.
    flannel: {},
    'kube-network-policies': {},
    metallb: {},
    'cert-manager': {},
    traefik: {},
    // kubeadm's kubelets serve self-signed certificates (no serverTLSBootstrap in kubeadm.yaml), which
    // metrics-server cannot verify; signing them by the cluster's CA is the sturdier path.
    'metrics-server': { kubeletInsecureTls: true },
    'local-path-provisioner': {},
  },
  // Nothing: the lab runs no piece it does not install itself.
  providedByPlatform: [],

  bootstrap: {
    kubernetesVersion: 'v1.35.4',
    clusterName: 'lab',
    controlPlaneEndpoint: 'k8s-api.lab.example:6443', // EXAMPLE: a DNS name for the control plane
    nodeAddresses: ['192.168.50.11', 'fd00:50::11'], // EXAMPLE: the first control-plane VM
    podSubnets: ['10.244.0.0/16', 'fd00:10:244::/56'],
    serviceSubnets: ['10.96.0.0/16', 'fd00:10:96::/112'],
  },

  // Delivered by Flux from git: source-controller and kustomize-controller, installed once with
  // `flux install --components=source-controller,kustomize-controller`, then `kubectl apply -f
  // dist/lab-delivery/flux/` (lib/delivery/). The lab follows the branch's newest commit: a merge
  // reaches it without anyone running a command. Flux's GitRepository takes any Go duration
  // (its CRD's pattern); its recommended settings poll every minute, and its Kustomization
  // documents 60 seconds as the least interval: one minute is the floor the synth allows
  // (lib/environments/validate-delivery.ts) and the lab's poll. Every ten minutes it applies again,
  // correcting drift.
  delivery: {
    engine: 'flux',
    repository: 'https://git.example.com/platform/lab-to-prod.git', // EXAMPLE
    branch: 'main',
    revision: 'tip',
    // People try things by hand in the lab; the reconciler puts back what git says at its next run.
    reconcilerOnly: false,
    flux: { namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' },
  },
};

// This file is an environment because of its default export (lib/environments/index.ts finds it).
export default lab;
