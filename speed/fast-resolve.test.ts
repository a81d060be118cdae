import { ApiObject, App, Chart, IResolver, Lazy, LazyResolver, ResolutionContext } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { buildEnvironment } from '../lib/synth/app';
import { ENVIRONMENTS } from '../lib/environments';
import { renderObject } from '../lib/parts/escape-hatch';
import { fastResolveInUse, useFastResolve } from './fast-resolve';
import { renderEnvironment } from '../lib/synth/render';

/**
 * speed/fast-resolve.ts replaces cdk8s's resolve while an app has only the built-in resolvers.
 * Everything it renders must be what cdk8s's own function renders.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdk8sResolve = require('cdk8s/lib/resolve');

/** Each object of the chart, rendered with cdk8s's own resolve and with the fast path. */
function bothWays(chart: Chart): { own: unknown[]; fast: unknown[] } {
  const objects = chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
  try {
    useFastResolve(false);
    const own = objects.map((o) => renderObject(o));
    useFastResolve(true);
    return { own, fast: objects.map((o) => renderObject(o)) };
  } finally {
    useFastResolve(true);
  }
}

afterAll(() => useFastResolve(true));

test.each(Object.values(ENVIRONMENTS).map((env) => [env.name, env] as const))(
  "%s renders the same objects with cdk8s's resolve and the fast path",
  (_name, env) => {
    const { own, fast } = bothWays(buildEnvironment(new App({ outdir: 'unused' }), env));
    expect(own.length).toBeGreaterThan(80);
    expect(fast).toEqual(own);
  },
);

test('the fast path resolves as the built-ins do: lazy values, implicit tokens, number-or-string unions, in arrays and maps', () => {
  const chart = new Chart(new App({ outdir: 'unused' }), 'c');
  const token = {
    resolve: () => ({ inner: Lazy.any({ produce: () => [k8s.IntOrString.fromString('50%'), null, 3] }) }),
  };
  new ApiObject(chart, 'o', {
    apiVersion: 'v1',
    kind: 'Thing',
    spec: {
      lazy: Lazy.any({ produce: () => Lazy.any({ produce: () => ({ port: k8s.IntOrString.fromNumber(8080) }) }) }),
      token,
      list: [Lazy.any({ produce: () => 'a' }), { deep: k8s.Quantity.fromString('1Gi') }, undefined, 'b', 0, false],
      empty: {},
      nothing: null,
    },
  });
  const { own, fast } = bothWays(chart);
  expect(fast).toEqual(own);
  // A union becomes { value } (the typed classes' own mapping unwraps it); sanitizing drops nulls.
  expect((fast[0] as any).spec).toEqual({
    lazy: { port: { value: 8080 } },
    token: { inner: [{ value: '50%' }, undefined, 3] },
    list: ['a', { deep: { value: '1Gi' } }, undefined, 'b', 0, false],
    empty: {},
  });
});

test('a class instance no resolver knows fails the same way on both paths', () => {
  class Opaque {
    constructor(public readonly x = 1) {}
  }
  const chart = new Chart(new App({ outdir: 'unused' }), 'c');
  const o = new ApiObject(chart, 'o', { apiVersion: 'v1', kind: 'Thing', spec: { opaque: new Opaque() } });
  const errorOf = (on: boolean) => {
    useFastResolve(on);
    try {
      o.toJson();
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      useFastResolve(true);
    }
  };
  expect(errorOf(true)).toContain("can't render non-simple object of type 'Opaque'");
  expect(errorOf(true)).toBe(errorOf(false));
});

test("an app with a resolver of its own goes through cdk8s's resolve, which gives it the key path", () => {
  const seen: string[] = [];
  const replaceAtKey: IResolver = {
    resolve(context: ResolutionContext) {
      seen.push(context.key.join('.'));
      // A replaced value is resolved again, by every resolver: replace only the original.
      if (context.key.join('.') === 'spec.replaced' && context.value === 'original') {
        context.replaceValue("by the app's resolver");
      }
    },
  };
  const chart = new Chart(new App({ outdir: 'unused', resolvers: [replaceAtKey] }), 'c');
  new ApiObject(chart, 'o', { apiVersion: 'v1', kind: 'Thing', spec: { replaced: 'original', kept: 'kept' } });
  useFastResolve(true);
  const [object] = bothWays(chart).fast as any[];
  expect(object.spec).toEqual({ replaced: "by the app's resolver", kept: 'kept' });
  expect(seen).toEqual(expect.arrayContaining(['spec.replaced', 'spec.kept']));
});

test('rendering puts the fast path in place, and ApiObject.toJson calls it', () => {
  useFastResolve(false);
  renderEnvironment(ENVIRONMENTS.lab);
  expect(fastResolveInUse()).toBe(true);
  // ApiObject.toJson looks cdk8s's resolve up at each call; were it bound at load, the fast path
  // would silently never run.
  const installed = cdk8sResolve.resolve;
  let calls = 0;
  cdk8sResolve.resolve = (...args: unknown[]) => {
    calls += 1;
    return installed(...args);
  };
  try {
    const chart = new Chart(new App({ outdir: 'unused' }), 'c');
    new ApiObject(chart, 'o', { apiVersion: 'v1', kind: 'Thing' });
    chart.toJson();
  } finally {
    cdk8sResolve.resolve = installed;
  }
  expect(calls).toBeGreaterThan(0);
});

test("the synth's app has only cdk8s's built-in resolvers, so the fast path renders it, not cdk8s's resolve", () => {
  // cdk8s's resolve hands every value to each resolver of the app; the fast path calls none of them.
  // Were a cdk8s release to add, drop or reorder its built-in resolvers, the fast path would give way
  // to cdk8s's own resolve: the same output, silently slower. This is the test that says so.
  const resolverCalls = jest.spyOn(LazyResolver.prototype, 'resolve');
  try {
    expect(renderEnvironment(ENVIRONMENTS.lab).objects.length).toBeGreaterThan(80);
    expect(resolverCalls).not.toHaveBeenCalled();
    useFastResolve(false);
    const chart = new Chart(new App({ outdir: 'unused' }), 'c');
    new ApiObject(chart, 'o', { apiVersion: 'v1', kind: 'Thing' });
    chart.toJson();
    expect(resolverCalls).toHaveBeenCalled();
  } finally {
    resolverCalls.mockRestore();
    useFastResolve(true);
  }
});
