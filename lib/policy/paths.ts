/** Field paths written the way Kubernetes validation errors write them: spec.containers[0].image */

export function fieldPath(base: string, ...segments: (string | number)[]): string {
  let out = base;
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${segment}]`;
  }
  return out;
}

/** Ajv's JSON pointer (/spec/containers/0/image) as a field path. */
export function pointerToFieldPath(pointer: string): string {
  if (!pointer) return '';
  const segments = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return fieldPath('', ...segments);
}
