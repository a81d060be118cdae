import { Environment, ENVIRONMENT_NAMES, EnvironmentName } from '../environment';
import { lab } from './lab';
import { prodAks } from './prod-aks';
import { prodEks } from './prod-eks';
import { prodGke } from './prod-gke';

/** Every environment this project renders, by name. */
export const ENVIRONMENTS: Readonly<Record<EnvironmentName, Environment>> = {
  'lab': lab,
  'prod-eks': prodEks,
  'prod-gke': prodGke,
  'prod-aks': prodAks,
};

/** The environments named, in the order given; an unknown name is an error listing the valid ones. */
export function selectEnvironments(names: readonly string[]): Environment[] {
  return names.map((name) => {
    if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown environment "${name}": valid environments are ${ENVIRONMENT_NAMES.join(', ')}`);
    }
    return ENVIRONMENTS[name as EnvironmentName];
  });
}
