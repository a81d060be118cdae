/**
 * lib/environment.ts sets zod's `jitless`: zod 4 otherwise probes whether `new Function` is allowed and
 * builds, for each object schema, a parser of its own with it, which costs more than it saves on the
 * one parse per environment a synth makes. This test counts the functions built while the environments
 * load and are checked: none, unless a zod release stops honouring the setting (or the setting goes).
 */

test('loading and checking the environments builds no parser with new Function', () => {
  const RealFunction = globalThis.Function;
  let built = 0;
  const countingFunction = function (...args: string[]) {
    built += 1;
    return new RealFunction(...args);
  } as unknown as FunctionConstructor;
  globalThis.Function = countingFunction;
  try {
    let zod: typeof import('zod') | undefined;
    let environments: typeof import('../lib/environments') | undefined;
    let validate: typeof import('../lib/environments/validate') | undefined;
    jest.isolateModules(() => {
      // A fresh zod and fresh schemas, so that nothing was parsed before the count began.
      /* eslint-disable @typescript-eslint/no-require-imports */
      zod = require('zod') as typeof import('zod');
      environments = require('../lib/environments') as typeof import('../lib/environments');
      validate = require('../lib/environments/validate') as typeof import('../lib/environments/validate');
      /* eslint-enable @typescript-eslint/no-require-imports */
    });
    const all = Object.values(environments!.ENVIRONMENTS);
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const env of all) {
      validate!.validateEnvironment(env);
    }
    expect(built).toBe(0);
    // The count sees zod's compiled parsers: without jitless, a new object schema builds one.
    zod!.z.config({ jitless: false });
    zod!.z.object({ name: zod!.z.string() }).parse({ name: 'lab' });
    expect(built).toBeGreaterThan(0);
  } finally {
    globalThis.Function = RealFunction;
  }
});
