/**
 * The environments are the files of lib/environments/ (index.ts): each file's name is its
 * environment's name, and two files cannot claim one name. test/new-environment.test.ts adds a file
 * to a copy of the project and runs the commands; these are the rules on their own.
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkEnvironmentFiles, environmentNamed, environmentNames, ENVIRONMENTS, EnvironmentFile } from '.';
import { withChange } from '../../test/helpers';

const eks = ENVIRONMENTS['prod-eks'];
const file = (name: string, environment = eks): EnvironmentFile => ({
  file: `lib/environments/${name}.ts`,
  environment,
});
const renamed = (name: string) =>
  withChange(eks, (e) => {
    e.name = name;
  });

describe('checkEnvironmentFiles', () => {
  test('each file named as its environment passes', () => {
    expect(() => checkEnvironmentFiles([file('prod-eks'), file('staging-eks', renamed('staging-eks'))])).not.toThrow();
  });

  test("a copy whose name was left as the original's names both files, the field and the value", () => {
    expect(() => checkEnvironmentFiles([file('prod-eks'), file('staging-eks')])).toThrow(
      'the environments in lib/environments/ disagree:\n' +
        '  lib/environments/prod-eks.ts and lib/environments/staging-eks.ts: name: Duplicate value: "prod-eks": each environment needs a name of its own ' +
        '(it is its folder under dist/, and the one would be rendered over the other)\n' +
        '  lib/environments/staging-eks.ts: name: Invalid value: "prod-eks": an environment\'s name is its file\'s name, "staging-eks"; ' +
        'lib/environments/prod-eks.ts is the environment "prod-eks". Set name: "staging-eks" in lib/environments/staging-eks.ts, or rename the file',
    );
  });

  test('two files that claim one name neither is named after are both named', () => {
    expect(() =>
      checkEnvironmentFiles([file('staging-a', renamed('staging')), file('staging-b', renamed('staging'))]),
    ).toThrow('lib/environments/staging-a.ts and lib/environments/staging-b.ts: name: Duplicate value: "staging"');
  });

  test("a name that is not the file's, with no other file involved, says which name the file wants", () => {
    expect(() => checkEnvironmentFiles([file('staging-eks', renamed('staging'))])).toThrow(
      '  lib/environments/staging-eks.ts: name: Invalid value: "staging": an environment\'s name is its file\'s name, "staging-eks". ' +
        'Set name: "staging-eks" in lib/environments/staging-eks.ts, or rename the file',
    );
  });
});

describe('the environments of this project', () => {
  test('are the files with a default export, by file name, in file-name order', () => {
    const withDefault = fs
      .readdirSync(__dirname)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts')
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- each file is found by its name, as index.ts finds it
      .filter((f) => (require(path.join(__dirname, f)) as { default?: unknown }).default !== undefined)
      .map((f) => f.slice(0, -'.ts'.length))
      .sort();
    expect(withDefault).toContain('lab');
    expect(environmentNames()).toEqual(withDefault);
    expect(Object.keys(ENVIRONMENTS)).toEqual(environmentNames());
    expect(Object.values(ENVIRONMENTS).map((e) => e.name)).toEqual(environmentNames());
  });

  test('the helper files beside them (no default export) are not environments', () => {
    for (const helper of ['validate', 'validate-platform', 'people', 'production-scale', 'index']) {
      expect(helper in ENVIRONMENTS).toBe(false);
    }
  });

  test('an unknown name is an error listing the valid ones, whichever way it is asked', () => {
    const message = `unknown environment "prod-akss": valid environments are ${environmentNames().join(', ')} (one file each in lib/environments/)`;
    expect(() => environmentNamed('prod-akss')).toThrow(message);
    expect(() => ENVIRONMENTS['prod-akss']).toThrow(message);
    expect('prod-akss' in ENVIRONMENTS).toBe(false);
    expect(ENVIRONMENTS['prod-aks']).toBe(environmentNamed('prod-aks'));
  });
});
