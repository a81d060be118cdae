import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Scale } from '../environment';

/** The node label of each failure domain an environment spreads over. */
export const TOPOLOGY_KEYS = {
  node: 'kubernetes.io/hostname',
  zone: 'topology.kubernetes.io/zone',
} as const;

/**
 * Topology spread constraints: replicas over the environment's failure domain (nodes in the lab,
 * zones in a cloud region), at most one apart. Where the domain is the zone, replicas also prefer
 * different nodes within a zone. (https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/: losing a node
 * or a zone then loses only some replicas.)
 */
export function topologySpread(scale: Scale, matchLabels: Record<string, string>): k8s.TopologySpreadConstraint[] {
  const required: k8s.TopologySpreadConstraint = {
    maxSkew: 1,
    topologyKey: TOPOLOGY_KEYS[scale.spreadAcross],
    whenUnsatisfiable: 'DoNotSchedule',
    // A cordoned node carries a NoSchedule taint; honouring taints keeps a drain from counting it
    // as a domain that pods could still go to.
    nodeTaintsPolicy: 'Honor',
    labelSelector: { matchLabels },
  };
  if (scale.spreadAcross === 'node') {
    return [required];
  }
  return [
    required,
    {
      maxSkew: 1,
      topologyKey: TOPOLOGY_KEYS.node,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels },
    },
  ];
}

/** The taints the node lifecycle controller puts on a node that stopped answering. */
export const LOST_NODE_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'] as const;

/**
 * The tolerations that set how long a stateless pod stays on a lost node before it is evicted and
 * replaced elsewhere (env.scale.evictFromLostNodeAfterSeconds), or none: the API server's
 * DefaultTolerationSeconds admission plugin then adds the same two with 300 seconds.
 */
export function lostNodeTolerations(scale: Scale): k8s.Toleration[] | undefined {
  const seconds = scale.evictFromLostNodeAfterSeconds;
  if (seconds === undefined) {
    return undefined;
  }
  return LOST_NODE_TAINTS.map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }));
}

export interface DisruptionBudgetProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly matchLabels: Record<string, string>;
}

/**
 * A PodDisruptionBudget that lets a drain evict one pod at a time and never blocks it: with at
 * least two replicas, one can always go (cdk8s-plus-28 has no construct for it, so this is L1).
 */
export class DisruptionBudget extends Construct {
  constructor(scope: Construct, id: string, props: DisruptionBudgetProps) {
    super(scope, id);
    new k8s.KubePodDisruptionBudget(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: props.matchLabels },
        // Pods that are not ready yet may be evicted whatever the budget: a stuck rollout cannot
        // hold a node drain hostage (the default, IfHealthyBudget, lets it).
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
