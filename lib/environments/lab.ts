import { Environment } from '../environment';

/**
 * The lab: Proxmox VMs built with kubeadm, containerd on the nodes, MetalLB for load balancers
 * (the primer, 1). A few nodes in one room, so replicas spread over nodes, not zones.
 *
 * EXAMPLE VALUES: the address pool, ranges and mirror below are examples. Replace them with
 * your lab's own before you apply; `npm run synth` validates whatever you write here.
 */
const ADDRESS_POOL = 'lab-pool';

export const lab: Environment = {
  name: 'lab',
  kubernetesVersion: '1.33',

  loadBalancing: {
    provider: 'metallb',
    // MetalLB hands out addresses from the named pool; the prefix metallb.io replaced
    // metallb.universe.tf in MetalLB 0.14.
    serviceAnnotations: { 'metallb.io/address-pool': ADDRESS_POOL },
    // kubeadm's dual-stack pod and service subnets make every Service dual-stack here.
    ipFamilies: ['IPv4', 'IPv6'],
    metallbAddressPools: [{
      name: ADDRESS_POOL,
      addresses: ['192.168.50.240-192.168.50.250', 'fd00:50::240-fd00:50::250'], // EXAMPLE
    }],
  },

  storage: {
    // A node's local disk through Rancher's local-path provisioner: simple, and a lost node
    // loses its volumes. Proxmox's Ceph (rbd.csi.ceph.com) is the sturdier choice.
    storageClassName: 'local-path',
    provisioner: 'rancher.io/local-path',
    parameters: {},
    reclaimPolicy: 'Delete',
  },

  identity: { provider: 'none' },

  observability: { stack: 'metrics-server' },

  scale: {
    spreadAcross: 'node',
    web: {
      minReplicas: 2,
      maxReplicas: 4,
      targetCpuUtilization: 70,
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '250m', memory: '128Mi' },
    },
    // requests == limits: a Guaranteed QoS pod, the last to be evicted under node pressure.
    api: {
      minReplicas: 2,
      maxReplicas: 4,
      targetCpuUtilization: 70,
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
      minReplicas: 2,
      maxReplicas: 3,
      targetCpuUtilization: 70,
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '250m', memory: '128Mi' },
    },
  },

  // Docker Hub directly: a fresh lab has no mirror. A Harbor proxy project is the usual next step.
  registry: { mirror: 'docker.io' },
};
