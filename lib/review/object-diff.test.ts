import * as path from 'path';
import { find, shopObjects } from './fixtures/objects';
import { renderAtCommit, resolveCommit } from './git-ref';
import { diffEnvironments, diffObjects, formatObjectDiff } from './object-diff';

test('objects are matched by kind, namespace and name: added, removed and changed', () => {
  const before = shopObjects();
  const after = shopObjects();
  find(after, 'HorizontalPodAutoscaler', 'shop').spec.maxReplicas = 6;
  after.splice(after.indexOf(find(after, 'PodDisruptionBudget', 'shop')), 1);
  after.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'shop' }, data: {} });
  // Order does not matter: the same objects reversed are no change.
  after.reverse();

  const changes = diffObjects(before, after);
  expect(changes.map((c) => `${c.change} ${c.object}`)).toEqual([
    'added ConfigMap shop/extra',
    'changed HorizontalPodAutoscaler shop/shop',
    'removed PodDisruptionBudget shop/shop',
  ]);
  const changed = changes[1];
  expect(changed.change === 'changed' && changed.patch).toContain('-  maxReplicas: 4\n+  maxReplicas: 6');
});

test('the same object in another API version of the same group is one object, changed', () => {
  const before = [{ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a', namespace: 'n' } }];
  const after = [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a', namespace: 'n' } }];
  expect(diffObjects(before, after).map((c) => c.change)).toEqual(['changed']);
});

test('a Secret\'s values never appear in the diff, but that they changed does', () => {
  const secret = (v: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, stringData: { password: v } });
  const [change] = diffObjects([secret('hunter2')], [secret('hunter3')]);
  expect(change.change).toBe('changed');
  const text = formatObjectDiff('HEAD', [{ env: 'lab', status: 'both', changes: [change] }]);
  expect(text).not.toContain('hunter');
  expect(text).toContain('only hidden Secret values changed');
});

test('environments present on one side only are reported as added or removed', () => {
  const result = diffEnvironments(new Map([['lab', shopObjects()]]), new Map([['lab', shopObjects()], ['prod', shopObjects()]]));
  expect(result.map((e) => [e.env, e.status, e.changes.length])).toEqual([['lab', 'both', 0], ['prod', 'added', 10]]);
  expect(formatObjectDiff('main', result)).toContain('prod (environment added): 10 added, 0 removed, 0 changed');
});

test('HEAD renders in a temporary worktree that is removed afterwards', () => {
  const repo = path.resolve(__dirname, '../..');
  const commit = resolveCommit(repo, 'HEAD');
  // A temporary folder of this test's own: the worktree list is the repository's, and other tests (and
  // other checkouts of the repository) may have a diff worktree of their own at the same moment.
  const { execFileSync } = require('child_process');
  const fs = require('fs');
  const os = require('os');
  const ownTmp: string = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'object-diff-test-')));
  try {
    const rendered = renderAtCommit(repo, commit, undefined, ownTmp);
    expect([...rendered.keys()]).toEqual(expect.arrayContaining(['lab', 'prod-eks']));
    expect(rendered.get('lab')!.some((o) => o.kind === 'Deployment' && o.metadata.name === 'web')).toBe(true);
    expect(execFileSync('git', ['worktree', 'list'], { cwd: repo, encoding: 'utf8' })).not.toContain(ownTmp);
    expect(fs.readdirSync(ownTmp)).toEqual([]);
  } finally {
    fs.rmSync(ownTmp, { recursive: true, force: true });
  }
}, 60000);

test('a ref that names no commit is refused, naming it', () => {
  expect(() => resolveCommit(path.resolve(__dirname, '../..'), 'no-such-ref')).toThrow('git ref "no-such-ref" does not name a commit');
});
