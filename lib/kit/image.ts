import { Registry } from '../environment';
import { Problems } from './validation';

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

/** Records a problem for a tag that is missing, `latest`, or not a valid tag. */
export function checkImage(p: Problems, field: string, image: ImageRef): void {
  p.check(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(image.repository), `${field}.repository`,
    image.repository, 'a repository path of lowercase letters, digits and separators, e.g. "nginxinc/nginx-unprivileged"');
  p.check(/^[\w][\w.-]{0,127}$/.test(image.tag) && image.tag !== 'latest', `${field}.tag`, image.tag,
    'a version tag (not "latest", which moves), e.g. "1.27.4-alpine"');
  if (image.digest !== undefined) {
    p.check(/^sha256:[0-9a-f]{64}$/.test(image.digest), `${field}.digest`, image.digest, 'a digest "sha256:" followed by 64 hex digits');
  }
}

/** The reference the kubelet pulls: through the environment's mirror. */
export function imageName(registry: Registry, image: ImageRef): string {
  const pinned = `${registry.mirror}/${image.repository}:${image.tag}`;
  return image.digest ? `${pinned}@${image.digest}` : pinned;
}
