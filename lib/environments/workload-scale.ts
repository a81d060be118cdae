import { Environment } from '../environment';

/**
 * A workload's scale in one environment: the workload's own defaults (beside its construct, in
 * lib/workloads/) with what the environment's `scale.<workload>` changes laid over them. Objects are
 * merged field by field, at any depth, so an environment writes only what differs: `{ limits: {
 * memory: '256Mi' } }` keeps the default limits.cpu. Any other value (a number, a string) replaces
 * the default. Not checked here: the environment's validation checks the result against the
 * workload's schema (validate.ts), so a construct given an unvalidated environment in a test still
 * renders what it was given.
 */
export function workloadScaleIn<S extends object>(env: Environment, workload: string, defaults: S): S {
  return withOverrides(defaults, env.scale[workload]) as S;
}

/** `overrides` laid over `defaults`, field by field; neither is changed. */
export function withOverrides(defaults: unknown, overrides: unknown): unknown {
  if (overrides === undefined) {
    return defaults;
  }
  if (!isPlainObject(defaults) || !isPlainObject(overrides)) {
    return overrides;
  }
  const merged: Record<string, unknown> = { ...defaults };
  for (const [field, value] of Object.entries(overrides)) {
    merged[field] = withOverrides(defaults[field], value);
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
