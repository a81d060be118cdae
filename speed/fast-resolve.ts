import { ApiObject, App, ImplicitTokenResolver, IResolver, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';

/**
 * cdk8s renders every object through `resolve` (cdk8s/lib/resolve.js), which visits every value of
 * the object and hands each to the app's resolvers. For each value it finds the app again, makes a
 * ResolutionContext, copies the key path and lists the object's entries; with 15,000 objects (a
 * thousand workloads) that was a fifth of rendering them, most of it garbage to collect.
 *
 * When the app has only cdk8s's three built-in resolvers, which is how lib/synth/render.ts makes it, this
 * resolves the same way without that overhead: each value is tried as a Lazy, then as an implicit
 * token (an object with a `resolve()` method), then as a number-or-string union (IntOrString,
 * Quantity), in that order, and a replaced value is resolved again, exactly as the built-ins do. An
 * app with resolvers of its own (they may read the context's key path) goes through cdk8s's own
 * function. speed/fast-resolve.test.ts renders every environment both ways and compares them.
 * What this relies on in cdk8s, and how to upgrade it: speed/README.md.
 */

/** The cdk8s module whose `resolve` ApiObject.toJson calls, looked up at each call. */
const cdk8sResolve: {
  resolve: (key: string[], value: unknown, apiObject: ApiObject) => unknown;
} = require('cdk8s/lib/resolve'); // eslint-disable-line @typescript-eslint/no-require-imports -- the module object itself, whose resolve is replaced below

const BUILT_IN: readonly (new () => IResolver)[] = [LazyResolver, ImplicitTokenResolver, NumberStringUnionResolver];

const original = cdk8sResolve.resolve;

function onlyBuiltIns(resolvers: readonly IResolver[]): boolean {
  return resolvers.length === BUILT_IN.length && resolvers.every((r, i) => r.constructor === BUILT_IN[i]);
}

/** What the three built-in resolvers, applied in order until one replaces it, make of a value. */
function resolveValue(value: any): unknown {
  if (value == null) {
    return value;
  }
  if (value instanceof Lazy) {
    return resolveValue(value.produce());
  }
  if (typeof value.resolve === 'function') {
    return resolveValue(value.resolve());
  }
  if (value.constructor !== Object && (typeof value.value === 'number' || typeof value.value === 'string')) {
    return resolveValue({ value: value.value });
  }
  if (Array.isArray(value)) {
    return value.map(resolveValue);
  }
  // `==`, as cdk8s compares.
  if (value.constructor == Object) {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      result[key] = resolveValue(value[key]);
    }
    return result;
  }
  return value;
}

function fastResolve(key: string[], value: unknown, apiObject: ApiObject): unknown {
  return onlyBuiltIns(App.of(apiObject).resolvers) ? resolveValue(value) : original(key, value, apiObject);
}

/** Puts the fast path in place of cdk8s's resolve (or, with `false`, cdk8s's own back). */
export function useFastResolve(on = true): void {
  cdk8sResolve.resolve = on ? fastResolve : original;
}

/** Whether ApiObject.toJson goes through the fast path now. */
export function fastResolveInUse(): boolean {
  return cdk8sResolve.resolve === fastResolve;
}
