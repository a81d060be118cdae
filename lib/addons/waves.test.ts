/**
 * The deploy waves of an environment's add-ons: 1 for an add-on that needs no other running, 1 + the
 * highest wave of its needs otherwise; needs in a circle and waves too late to sort before
 * 05-platform.yaml are refused.
 */
import { ADDONS } from '.';
import { addonFileNames, addonWaves } from './waves';

test('an add-on that needs nothing is wave 1; one that needs others is in the wave after the last of them', () => {
  const definitions = [
    { name: 'a' },
    { name: 'b', needs: ['a'] },
    { name: 'c', needs: ['a', 'b'] },
    { name: 'd', needs: [] },
  ];
  expect(Object.fromEntries(addonWaves(definitions, ['c', 'b', 'a', 'd']))).toEqual({ a: 1, b: 2, c: 3, d: 1 });
});

test('needs that go round in a circle are refused, naming the circle', () => {
  const definitions = [
    { name: 'a', needs: ['c'] },
    { name: 'b', needs: ['a'] },
    { name: 'c', needs: ['b'] },
  ];
  expect(() => addonWaves(definitions, ['a', 'b', 'c'])).toThrow(
    "the add-ons' needs go round in a circle: a needs c needs b needs a; " +
      'allowed: needs that end at add-ons that need nothing (lib/addons/<name>.ts, needs)',
  );
  expect(() => addonWaves([{ name: 'a', needs: ['a'] }], ['a'])).toThrow('go round in a circle: a needs a;');
});

test('a need the environment does not install is refused, with the installed ones', () => {
  expect(() => addonWaves([{ name: 'b', needs: ['a'] }], ['b'])).toThrow(
    'the add-on "b" needs "a" running, which is not installed; allowed: b',
  );
});

test("the registry's needs name add-ons it has and end: every add-on installed together has a wave", () => {
  const names = ADDONS.map((d) => d.name);
  for (const definition of ADDONS) {
    for (const need of definition.needs ?? []) expect(names).toContain(need);
  }
  const waves = addonWaves(ADDONS, names);
  expect(waves.get('cert-manager')).toBe(1);
  expect(waves.get('aws-load-balancer-controller')).toBe(2);
});

test("an add-on's files: its objects in its wave's, its own custom resources in the next; too late a wave is refused", () => {
  expect(addonFileNames('x', 1, 'environment "lab"')).toEqual({
    objects: '01-x.yaml',
    resources: '02-x-resources.yaml',
  });
  expect(addonFileNames('x', 3, 'environment "lab"')).toEqual({
    objects: '03-x.yaml',
    resources: '04-x-resources.yaml',
  });
  expect(() => addonFileNames('x', 4, 'environment "lab"')).toThrow(
    'environment "lab": the add-on "x" would be applied in wave 4, its own custom resources in wave 5; ' +
      'allowed: waves up to 3, so that every add-on file sorts before 05-platform.yaml (shorten its chain of needs)',
  );
});
