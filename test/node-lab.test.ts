import * as path from 'path';
import { ENVIRONMENTS } from '../lib/environments';
import { renderEnvironment } from '../lib/synth/render';
import { differencesFromCommitted, labOnTestNode, renderLabOnTestNode } from './node-lab';

const committed = path.join(__dirname, '..', 'dist', 'lab');

test('the lab on the test node differs from the committed dist/lab/ in its AppArmor requests only', () => {
  const { appArmorOnly, other } = differencesFromCommitted(renderEnvironment(labOnTestNode()), committed);
  expect(other).toEqual([]);
  // One pod-level request per pod template: web, api, db, the migration Job, the backup CronJob,
  // sandboxed and the etcd backup.
  expect(appArmorOnly).toHaveLength(7);
  expect(appArmorOnly.every((d) => d.includes('securityContext.appArmorProfile'))).toBe(true);
});

test('the comparison sees any other difference', () => {
  const changed = {
    ...labOnTestNode(),
    scale: { ...ENVIRONMENTS.lab.scale, web: { ...(ENVIRONMENTS.lab.scale.web as object), minReplicas: 3 } },
  };
  const { other } = differencesFromCommitted(renderEnvironment(changed), committed);
  expect(other).toContainEqual(
    expect.stringContaining('HorizontalPodAutoscaler/web/web spec.minReplicas: 3 rendered, 2 committed'),
  );
});

test("web's response headers change nginx.conf and its hash only, which a rolling update may change", () => {
  const rendered = renderLabOnTestNode({ web: { responseHeaders: { 'X-Rolled': 'yes' } } });
  const { webConfig, other } = differencesFromCommitted(rendered, committed, true);
  expect(other).toEqual([]);
  expect(webConfig.map((d) => d.split(':')[0])).toEqual([
    '10-web.yaml ConfigMap/web/web data[nginx.conf]',
    '10-web.yaml Deployment/web/web spec.template.metadata.annotations[lab-to-prod.io/config-hash]',
  ]);
  // Without leave to change web's configuration, the same differences are failures.
  expect(differencesFromCommitted(rendered, committed).other).toHaveLength(2);
});
