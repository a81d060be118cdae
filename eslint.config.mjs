// The linter: eslint's recommended rules and typescript-eslint's recommended type-aware rules (they
// read TypeScript's types: a promise nobody awaits, a value of type `any` flowing into typed code),
// on every hand-written file. Formatting is prettier's job (prettier.config.mjs), so
// eslint-config-prettier, last, turns off the rules that would fight it.
// Rules are turned off only below, each with its reason; `npm run lint` must report nothing.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The rules about values of type `any`: where it comes from, and where it flows. */
const anyRulesOff = {
  '@typescript-eslint/no-explicit-any': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
};

export default defineConfig(
  // What generators, the synth and tools write (and .gitignore'd folders, which eslint skips itself).
  globalIgnores(['generated/', 'dist/', 'bench/results/', 'coverage/', '.cache/', '.cdk8s.out/']),
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    rules: {
      // An argument named with a leading underscore is unused on purpose (a callback's shape), as
      // TypeScript's own noUnusedParameters allows.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig.json that includes it; the few JavaScript files
        // (outside tsconfig's include) get a default program of their own.
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', 'bin/*.js', 'bench/*.js', 'speed/*.js', 'lib/policy/plugin/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // The JavaScript files are CommonJS run by Node as they are (the entry points that must start
    // before any TypeScript is compiled, and cdk8s's plugin loader, which require()s them): require()
    // is how they import, and with no types every value is `any`, so the type-aware rules have
    // nothing to check there.
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const crypto = require('crypto')` names a module as Node's own global of that name does.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Tests read rendered Kubernetes objects and parsed YAML, whose shape is what the test asserts:
    // typing each of those values first would restate the assertion, so `any` is allowed there.
    files: ['**/*.test.ts', 'test/**', '**/fixtures/**'],
    rules: anyRulesOff,
  },
  {
    // The checks, the review and the generators take in any Kubernetes object of any kind (rendered,
    // read back from dist/ or from a cluster, or an OpenAPI document) and walk its fields by name;
    // the add-ons' definitions patch upstream's objects the same way. Their shapes are the Kubernetes
    // API's, validated against its OpenAPI schema by the schema check (lib/policy/checks/schema.ts),
    // not by TypeScript; so `any` is allowed in these folders.
    files: ['lib/policy/**', 'lib/review/**', 'lib/addons/**', 'scripts/generate/**', 'bench/**'],
    rules: anyRulesOff,
  },
  {
    // The speed machinery reaches into cdk8s's and Node's internals (cdk8s's resolve, Module._compile,
    // V8's code cache), which publish no types: what it relies on there is written in speed/README.md
    // and held by its tests, not by TypeScript.
    files: ['speed/**'],
    rules: anyRulesOff,
  },
  prettier,
);
