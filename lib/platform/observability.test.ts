import { only, rendered, testChart, withChange } from '../../test/helpers';
import { ENVIRONMENTS } from '../environments';
import { ValidationError } from '../k8s/validation';
import { appAlerts, serviceMonitorFor } from './observability';

const props = {
  name: 'db',
  namespace: 'db',
  matchLabels: { 'app.kubernetes.io/name': 'db' },
  port: 'metrics',
  podPort: 9187,
};

describe('serviceMonitorFor', () => {
  test.each(['prod-eks', 'prod-gke', 'prod-aks'] as const)(
    '%s: a ServiceMonitor its Prometheus selects, and a NetworkPolicy letting Prometheus scrape',
    (envName) => {
      const env = ENVIRONMENTS[envName];
      const chart = testChart(envName);
      expect(serviceMonitorFor(chart, { env, ...props })).toBeDefined();
      const objects = rendered(chart);
      const sm = only(objects, 'ServiceMonitor', 'db');
      expect(sm.metadata.labels).toMatchObject(env.observability.monitorSelectorLabels!);
      expect(sm.spec.selector.matchLabels).toEqual(props.matchLabels);
      expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['db'] });
      expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
      const np = only(objects, 'NetworkPolicy');
      expect(np.spec.podSelector.matchLabels).toEqual(props.matchLabels);
      expect(np.spec.ingress).toEqual([
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: { 'kubernetes.io/metadata.name': env.observability.prometheusNamespace },
              },
            },
          ],
          ports: [{ protocol: 'TCP', port: 9187 }],
        },
      ]);
    },
  );

  test('the lab (metrics-server only): no ServiceMonitor, but the same NetworkPolicy as production', () => {
    const lab = testChart('lab');
    serviceMonitorFor(lab, { env: ENVIRONMENTS.lab, ...props });
    const prod = testChart('prod-eks');
    serviceMonitorFor(prod, { env: ENVIRONMENTS['prod-eks'], ...props });
    expect(rendered(lab).map((o) => o.kind)).toEqual(['NetworkPolicy']);
    expect(rendered(lab)[0]).toEqual(rendered(prod).find((o) => o.kind === 'NetworkPolicy'));
  });

  test('no Prometheus namespace and no Prometheus: nothing', () => {
    const chart = testChart('lab');
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      delete e.observability.prometheusNamespace;
    });
    expect(serviceMonitorFor(chart, { env, ...props })).toBeUndefined();
    expect(rendered(chart)).toEqual([]);
  });

  test('an empty selector is refused: it would scrape every Service of the namespace', () => {
    expect(() =>
      serviceMonitorFor(testChart('prod-eks'), { env: ENVIRONMENTS['prod-eks'], ...props, matchLabels: {} }),
    ).toThrow(ValidationError);
    expect(() =>
      serviceMonitorFor(testChart('prod-eks'), { env: ENVIRONMENTS['prod-eks'], ...props, matchLabels: {} }),
    ).toThrow('prod-eks/Monitoring: matchLabels: Invalid value: {}');
  });
});

describe('appAlerts', () => {
  test('every alert is limited to its namespace and has a severity and a description', () => {
    for (const a of appAlerts('api')) {
      expect(a.expr).toContain('namespace="api"');
      expect(a.expr).not.toMatch(/namespace="(?!api")/);
      expect(['warning', 'critical']).toContain(a.severity);
      expect(a.description.length).toBeGreaterThan(20);
    }
  });
});
