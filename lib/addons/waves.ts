/**
 * The deploy applies an environment's add-ons in waves (lib/commands/deploy.ts): each wave's files,
 * then a wait until their controllers have rolled out and their webhooks answer, then the next.
 * An add-on that needs no other running is in wave 1; one that needs others (its definition's
 * `needs`) is in the wave after the last of them: 1 + the highest wave among its needs. Its file in
 * dist/<env>/ is 0<wave>-<name>.yaml, so `kubectl apply -f dist/<env>/`, which reads files in name
 * order, keeps the same order.
 */
export interface AddonNeeds {
  readonly name: string;
  readonly needs?: readonly string[];
}

/**
 * The highest wave an add-on's files may take: its objects' file 0<wave>-<name>.yaml and its own
 * custom resources' 0<wave + 1>-<name>-resources.yaml must sort before 05-platform.yaml, which holds
 * the platform's objects of the add-ons' kinds (the ClusterIssuer, the address pools).
 */
export const LAST_ADDON_FILE_NUMBER = 4;

/**
 * The wave of each installed add-on, by name. Refuses a need the environment does not install
 * (lib/environments/validate-addons.ts reports it first, on the environment's field) and needs that
 * go round in a circle, which no order of waves can satisfy.
 */
export function addonWaves(definitions: readonly AddonNeeds[], installed: readonly string[]): Map<string, number> {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const waves = new Map<string, number>();
  const waveOf = (name: string, path: readonly string[]): number => {
    const known = waves.get(name);
    if (known !== undefined) return known;
    if (path.includes(name)) {
      const circle = [...path.slice(path.indexOf(name)), name];
      throw new Error(
        `the add-ons' needs go round in a circle: ${circle.join(' needs ')}; ` +
          'allowed: needs that end at add-ons that need nothing (lib/addons/<name>.ts, needs)',
      );
    }
    let wave = 1;
    for (const need of byName.get(name)?.needs ?? []) {
      if (!installed.includes(need)) {
        throw new Error(
          `the add-on "${name}" needs "${need}" running, which is not installed; allowed: ${installed.join(', ')}`,
        );
      }
      wave = Math.max(wave, waveOf(need, [...path, name]) + 1);
    }
    waves.set(name, wave);
    return wave;
  };
  for (const name of installed) waveOf(name, []);
  return waves;
}

/**
 * The files of an add-on of the given wave: its objects in 0<wave>-<name>.yaml; the objects of
 * kinds its own CRDs define (custom resources its own webhook admits, which cannot answer while its
 * file is being applied) in 0<wave + 1>-<name>-resources.yaml, applied after its controller is ready.
 * A wave too late for both to sort before 05-platform.yaml is refused.
 */
export function addonFileNames(name: string, wave: number, where: string): { objects: string; resources: string } {
  if (wave + 1 > LAST_ADDON_FILE_NUMBER) {
    throw new Error(
      `${where}: the add-on "${name}" would be applied in wave ${wave}, its own custom resources in wave ${wave + 1}; ` +
        `allowed: waves up to ${LAST_ADDON_FILE_NUMBER - 1}, so that every add-on file sorts before 05-platform.yaml (shorten its chain of needs)`,
    );
  }
  return { objects: `0${wave}-${name}.yaml`, resources: `0${wave + 1}-${name}-resources.yaml` };
}
