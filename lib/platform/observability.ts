import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  PrometheusRule,
  PrometheusRuleSpecGroupsRulesExpr,
} from '../../generated/crd-bindings/prometheusrule-monitoring.coreos.com';
import {
  ServiceMonitor,
  ServiceMonitorSpecEndpointsScheme,
} from '../../generated/crd-bindings/servicemonitor-monitoring.coreos.com';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { Problems } from '../k8s/validation';

/**
 * Observability differs between the lab and production (an area of the Environment, lib/environment.ts):
 * - The lab's simple form: metrics-server only, which gives the HorizontalPodAutoscaler and
 *   `kubectl top` their cpu and memory figures. Nothing here renders in the lab.
 * - Production: the organisation's Prometheus (prometheus-operator) scrapes what ServiceMonitors name
 *   and evaluates PrometheusRules; both carry env.observability.monitorSelectorLabels so that its
 *   Prometheus selects them.
 */

export interface ServiceMonitorProps {
  /** The environment to render for. */
  readonly env: Environment;
  /** The ServiceMonitor's name (the app's). */
  readonly name: string;
  /** The app's namespace, where its Service is. */
  readonly namespace: string;
  /** Labels of the Service to scrape; they are also the pods' labels, for the NetworkPolicy. */
  readonly matchLabels: Readonly<Record<string, string>>;
  /** The name of the Service port that serves metrics: `metrics`. */
  readonly port: string;
  /** The container port behind it (number or name), which the NetworkPolicy opens to Prometheus. */
  readonly podPort: number | string;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default '30s' */
  readonly interval?: string;
}

/**
 * A ServiceMonitor for one app, and the NetworkPolicy that lets the organisation's Prometheus through
 * the namespace's default-deny to the metrics port. The ServiceMonitor renders only where the
 * environment's stack is prometheus-operator; the NetworkPolicy renders wherever a Prometheus
 * namespace is named, the lab included, so that NetworkPolicies are the same in every environment
 * (`npm run diff:envs` requires it): where no Prometheus runs, nothing uses the allowance.
 * Returns the construct, or undefined where neither renders.
 *
 * ```ts
 * serviceMonitorFor(this, { env, name, namespace, matchLabels: selectorLabels(name), port: 'metrics', podPort: 9187 });
 * ```
 */
export function serviceMonitorFor(scope: Construct, props: ServiceMonitorProps): Construct | undefined {
  const { env } = props;
  const scraped = env.observability.stack === 'prometheus-operator';
  if (!scraped && env.observability.prometheusNamespace === undefined) {
    return undefined;
  }
  const construct = new Construct(scope, 'Monitoring');
  const p = new Problems(construct.node.path);
  p.check(
    env.observability.prometheusNamespace !== undefined,
    'env.observability.prometheusNamespace',
    env.observability.prometheusNamespace,
    'the namespace Prometheus runs in, so its scrapes can be let through the default-deny NetworkPolicy',
  );
  p.check(
    Object.keys(props.matchLabels).length > 0,
    'matchLabels',
    props.matchLabels,
    'at least one label: an empty selector would scrape every Service',
  );
  p.throwIfAny();

  const labels = recommendedLabels({ name: props.name, component: 'monitoring', version: PROJECT_VERSION });
  if (scraped) {
    new ServiceMonitor(construct, 'ServiceMonitor', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { ...labels, ...env.observability.monitorSelectorLabels },
      },
      spec: {
        selector: { matchLabels: { ...props.matchLabels } },
        namespaceSelector: { matchNames: [props.namespace] },
        endpoints: [
          {
            port: props.port,
            path: props.path ?? '/metrics',
            interval: props.interval ?? '30s',
            scheme: ServiceMonitorSpecEndpointsScheme.HTTP,
          },
        ],
      },
    });
  }
  new k8s.KubeNetworkPolicy(construct, 'NetworkPolicy', {
    metadata: { name: `${props.name}-allow-prometheus`, namespace: props.namespace, labels },
    spec: {
      podSelector: { matchLabels: { ...props.matchLabels } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: { 'kubernetes.io/metadata.name': env.observability.prometheusNamespace! },
              },
            },
          ],
          ports: [
            {
              protocol: 'TCP',
              port:
                typeof props.podPort === 'number'
                  ? k8s.IntOrString.fromNumber(props.podPort)
                  : k8s.IntOrString.fromString(props.podPort),
            },
          ],
        },
      ],
    },
  });
  return construct;
}

/** The PrometheusRule each app namespace gets in production. */
export const ALERT_RULE_NAME = 'app-alerts';

interface Alert {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  readonly description: string;
}

/**
 * The alerts a team wants for one app namespace, from kube-state-metrics and the kubelet's volume
 * stats (both shipped with kube-prometheus-stack). Each expression is limited to the namespace, so an
 * alert names the app whose on-call should look.
 */
export function appAlerts(namespace: string): Alert[] {
  const ns = `namespace="${namespace}"`;
  return [
    {
      alert: 'PodNotReady',
      // Pods of finished Jobs are never Ready; they are not a problem.
      expr: `max by (namespace, pod) (kube_pod_status_ready{${ns}, condition="false"}) == 1 unless on (namespace, pod) max by (namespace, pod) (kube_pod_status_phase{${ns}, phase="Succeeded"}) == 1`,
      for: '15m',
      severity: 'warning',
      summary: 'A pod has not been Ready for 15 minutes.',
      description:
        'Pod {{ $labels.namespace }}/{{ $labels.pod }} is not Ready: it gets no traffic. Check its readiness probe and events.',
    },
    {
      alert: 'ContainerCrashLooping',
      expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m])) >= 1`,
      for: '15m',
      severity: 'warning',
      summary: 'A container keeps crashing.',
      description:
        'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is in CrashLoopBackOff. Read its previous logs: kubectl logs --previous.',
    },
    {
      alert: 'ContainerRestartingOften',
      expr: `sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${ns}}[1h])) > 3`,
      for: '0m',
      severity: 'warning',
      summary: 'A container restarted more than 3 times in an hour.',
      description:
        'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value }} times in the last hour (OOM kills and failed liveness probes count).',
    },
    {
      alert: 'PersistentVolumeFillingUp',
      expr: `kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}} < 0.15`,
      for: '5m',
      severity: 'warning',
      summary: 'A volume has less than 15% free space.',
      description:
        'Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} free. Grow the claim (the StorageClass allows expansion) or clean up.',
    },
    {
      alert: 'PersistentVolumeFullInFourDays',
      expr: `kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}} < 0.4 and predict_linear(kubelet_volume_stats_available_bytes{${ns}}[6h], 4 * 24 * 3600) < 0`,
      for: '1h',
      severity: 'critical',
      summary: 'A volume will be full within four days at its current rate.',
      description:
        "Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is filling up; at the last 6 hours' rate it is full within four days.",
    },
    {
      alert: 'AutoscalerAtMaxReplicas',
      expr: `kube_horizontalpodautoscaler_status_current_replicas{${ns}} >= kube_horizontalpodautoscaler_spec_max_replicas{${ns}}`,
      for: '15m',
      severity: 'warning',
      summary: 'An autoscaler has run at its maximum for 15 minutes.',
      description:
        'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} cannot add pods: raise maxReplicas (env.scale) or find the load.',
    },
    {
      alert: 'JobFailed',
      expr: `kube_job_failed{${ns}, condition="true"} == 1`,
      for: '0m',
      severity: 'warning',
      summary: 'A Job failed.',
      description:
        'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed after its retries. kubectl -n {{ $labels.namespace }} describe job {{ $labels.job_name }}.',
    },
  ];
}

/** One app namespace's PrometheusRule (production only). */
export class AppAlerts extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment; readonly namespace: string }) {
    super(scope, id);
    const { env, namespace } = props;
    if (env.observability.stack !== 'prometheus-operator') {
      return;
    }
    new PrometheusRule(this, 'Resource', {
      metadata: {
        name: ALERT_RULE_NAME,
        namespace,
        labels: {
          ...recommendedLabels({ name: namespace, component: 'monitoring', version: PROJECT_VERSION }),
          ...env.observability.monitorSelectorLabels,
        },
      },
      spec: {
        groups: [
          {
            name: `${namespace}.rules`,
            rules: appAlerts(namespace).map((a) => ({
              alert: a.alert,
              expr: PrometheusRuleSpecGroupsRulesExpr.fromString(a.expr),
              for: a.for,
              labels: { severity: a.severity },
              annotations: { summary: a.summary, description: a.description },
            })),
          },
        ],
      },
    });
  }
}
