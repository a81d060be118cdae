import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';

/**
 * The StorageClass behind every volume claim (storage is one of the areas where the lab and production
 * differ; a database lives on a volume, never in the container's copy-on-write layer, which is lost with
 * the container: https://kubernetes.io/docs/concepts/storage/persistent-volumes/).
 * env.storage names the CSI driver and its parameters: local-path or Ceph RBD in the lab, gp3
 * (encrypted) on EBS, pd-balanced on GKE, Azure Disk's managed CSI on AKS.
 */
export class StorageClassForEnvironment extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment }) {
    super(scope, id);
    const storage = props.env.storage;
    new k8s.KubeStorageClass(this, 'Resource', {
      metadata: {
        name: storage.storageClassName,
        labels: recommendedLabels({ name: storage.storageClassName, component: 'storage', version: PROJECT_VERSION }),
      },
      provisioner: storage.provisioner,
      // An empty map is left out: the API server stores none, so `parameters: {}` would read as a
      // change on every apply, and parameters cannot be updated.
      parameters: Object.keys(storage.parameters).length > 0 ? { ...storage.parameters } : undefined,
      reclaimPolicy: storage.reclaimPolicy,
      // The volume is made only when a pod using it is scheduled, in that pod's zone: a volume made
      // first would pin the pod to wherever the disk happened to land.
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: storage.allowVolumeExpansion,
    });
  }
}
