import { ENVIRONMENTS } from '../lib/environments';
import { renderEnvironment } from '../lib/synth/render';

const RECOMMENDED = [
  'app.kubernetes.io/component',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/name',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/version',
];

test.each(Object.keys(ENVIRONMENTS))(
  'every object of %s carries the six recommended labels, part of lab-to-prod, managed by cdk8s',
  (name) => {
    const { objects } = renderEnvironment(ENVIRONMENTS[name]);
    expect(objects.length).toBeGreaterThan(50);
    for (const { object } of objects) {
      const where = `${object.kind}/${object.metadata.name}`;
      const labels = object.metadata.labels ?? {};
      expect({ where, missing: RECOMMENDED.filter((l) => !(l in labels)) }).toEqual({ where, missing: [] });
      expect({
        where,
        partOf: labels['app.kubernetes.io/part-of'],
        managedBy: labels['app.kubernetes.io/managed-by'],
      }).toEqual({ where, partOf: 'lab-to-prod', managedBy: 'cdk8s' });
    }
  },
);

test.each(Object.keys(ENVIRONMENTS))('no object of %s has a name with a cdk8s hash suffix', (name) => {
  const { objects } = renderEnvironment(ENVIRONMENTS[name]);
  for (const { object } of objects.filter((o) => o.object.metadata?.name)) {
    expect(object.metadata.name).not.toMatch(/-c8[0-9a-f]{6}$/);
  }
});
