import { compareEnvironments } from './env-diff';
import { envDiffOutput, formatEnvDiffMarkdown, formatEnvDiffText } from './env-diff-format';
import { find, MIRROR_CLOUD, MIRROR_LAB, shopObjects } from './fixtures/objects';
import { KubeObject } from './kube';

/** Two environments from the fixture: lab as is, prod after `change` edits its objects. */
function compare(change: (prod: KubeObject[]) => void) {
  const prod = shopObjects(MIRROR_CLOUD);
  change(prod);
  return compareEnvironments([
    { name: 'lab', registryMirror: MIRROR_LAB, objects: shopObjects(MIRROR_LAB) },
    { name: 'prod', registryMirror: MIRROR_CLOUD, objects: prod },
  ]);
}

const quiet = { verbose: false, markdown: false };

test('when every difference is explained, one line: the counts, and how to see the report', () => {
  const report = compare(() => undefined);
  expect(envDiffOutput(report, quiet)).toBe(
    'diff:envs: 2 environments (lab, prod), 10 objects, 3 differences in 1 area, none unexpected; --verbose for the report\n',
  );
});

test('an unexpected difference prints the whole report, without being asked', () => {
  const report = compare((prod) => {
    find(prod, 'Deployment', 'shop').spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
  });
  expect(envDiffOutput(report, quiet)).toBe(formatEnvDiffText(report));
  expect(envDiffOutput(report, quiet)).toContain('FAILED: 1 unexpected difference(s)');
});

test('--verbose prints the whole report, --markdown the report as Markdown', () => {
  const report = compare(() => undefined);
  expect(envDiffOutput(report, { verbose: true, markdown: false })).toBe(formatEnvDiffText(report));
  expect(envDiffOutput(report, { verbose: false, markdown: true })).toBe(formatEnvDiffMarkdown(report));
});
