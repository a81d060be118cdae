import { Registry } from '../environment';
import { Problems } from '../k8s/validation';

/** A public image, pinned by tag (and optionally digest), pulled through the environment's mirror. */
export interface ImageRef {
  /** The repository on Docker Hub: `nginxinc/nginx-unprivileged`. */
  readonly repository: string;
  /** A version tag, never `latest`: `1.27.4-alpine`. */
  readonly tag: string;
  /**
   * The content digest, which pins the bytes even if the tag is moved.
   * @default - pinned by tag only
   */
  readonly digest?: string;
}

/**
 * Whether a repository path starts with a registry host: a first segment with a dot or a port, or
 * "localhost", as the container runtimes read an image reference (docker.io/nginxinc/..., harbor:5000/...).
 */
export function startsWithRegistryHost(repository: string): boolean {
  const first = repository.split('/')[0];
  return repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/**
 * Records a problem for a repository that is not a path, and for a tag that is missing, `latest`, or
 * not a valid tag. `pulledThrough` 'mirror' (the default): the environment's registry.mirror is put
 * before the repository (imageName), so a repository that names a registry itself would be pulled as
 * `<mirror>/docker.io/...`, which no mirror serves. 'own registry': the repository is the whole
 * reference (kubeadm's etcd from registry.k8s.io).
 */
export function checkImage(
  p: Problems,
  field: string,
  image: ImageRef,
  pulledThrough: 'mirror' | 'own registry' = 'mirror',
): void {
  if (pulledThrough === 'mirror' && startsWithRegistryHost(image.repository)) {
    // One problem for such a repository: the path format below would only repeat it.
    p.check(
      false,
      `${field}.repository`,
      image.repository,
      `a repository path without a registry host, e.g. "nginxinc/nginx-unprivileged": images are pulled through the environment's ` +
        `registry.mirror, which is put before this path, so "${image.repository.split('/')[0]}" would be pulled as a path inside the mirror`,
    );
  } else {
    p.check(
      /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(image.repository),
      `${field}.repository`,
      image.repository,
      'a repository path of lowercase letters, digits and separators, e.g. "nginxinc/nginx-unprivileged"',
    );
  }
  p.check(
    /^[\w][\w.-]{0,127}$/.test(image.tag) && image.tag !== 'latest',
    `${field}.tag`,
    image.tag,
    'a version tag (not "latest", which moves), e.g. "1.27.4-alpine"',
  );
  if (image.digest !== undefined) {
    p.check(
      /^sha256:[0-9a-f]{64}$/.test(image.digest),
      `${field}.digest`,
      image.digest,
      'a digest "sha256:" followed by 64 hex digits',
    );
  }
}

/** The reference the kubelet pulls: through the environment's mirror. */
export function imageName(registry: Registry, image: ImageRef): string {
  const pinned = `${registry.mirror}/${image.repository}:${image.tag}`;
  return image.digest ? `${pinned}@${image.digest}` : pinned;
}
