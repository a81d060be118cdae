import { ENVIRONMENTS } from '../environments';
import { testChart } from '../../test/helpers';
import { Web } from '../workloads/web';
import { checkImage, imageName, startsWithRegistryHost } from './image';
import { Problems } from '../k8s/validation';

/** The problems checkImage records for one image, as text. */
function problemsOf(repository: string, pulledThrough?: 'mirror' | 'own registry'): string[] {
  const p = new Problems('lab/web');
  checkImage(p, 'image', { repository, tag: '1.27.4-alpine' }, pulledThrough);
  return p.problems.map((x) => `${x.field}: ${JSON.stringify(x.value)}: ${x.allowed}`);
}

describe('a repository that names a registry is refused: the mirror is put before it', () => {
  test("today's example: docker.io/nginxinc/... would be pulled as <mirror>/docker.io/nginxinc/...", () => {
    expect(
      imageName({ mirror: 'docker.io' }, { repository: 'nginxinc/nginx-unprivileged', tag: '1.27.4-alpine' }),
    ).toBe('docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine');
    expect(problemsOf('docker.io/nginxinc/nginx-unprivileged')).toEqual([
      'image.repository: "docker.io/nginxinc/nginx-unprivileged": a repository path without a registry host, e.g. "nginxinc/nginx-unprivileged": ' +
        'images are pulled through the environment\'s registry.mirror, which is put before this path, so "docker.io" would be pulled as a path inside the mirror',
    ]);
  });

  test.each([
    'ghcr.io/owner/app',
    'registry.k8s.io/etcd',
    'harbor.lab.example/dockerhub/nginx',
    'localhost/app',
    'localhost:5000/app',
    'harbor:5000/app',
  ])('%s: a first segment with a dot, a port, or localhost is a registry host', (repository) => {
    expect(startsWithRegistryHost(repository)).toBe(true);
    expect(problemsOf(repository)).toEqual([expect.stringContaining('a repository path without a registry host')]);
  });

  test.each([
    'nginxinc/nginx-unprivileged',
    'library/postgres',
    'prometheuscommunity/postgres-exporter',
    'nginx',
    'my_org/app-1.2',
  ])('%s is a path and is accepted', (repository) => {
    expect(startsWithRegistryHost(repository)).toBe(false);
    expect(problemsOf(repository)).toEqual([]);
  });

  test("an image pulled from its own registry (kubeadm's etcd) names it, and may", () => {
    expect(problemsOf('registry.k8s.io/etcd', 'own registry')).toEqual([]);
  });

  test('a workload given such an image refuses it at construction, naming the construct', () => {
    expect(
      () =>
        new Web(testChart('lab'), 'web', {
          env: ENVIRONMENTS.lab,
          image: { repository: 'docker.io/nginxinc/nginx-unprivileged', tag: '1.27.4-alpine' },
        }),
    ).toThrow(
      'lab/web: image.repository: Invalid value: "docker.io/nginxinc/nginx-unprivileged": a repository path without a registry host',
    );
  });
});
