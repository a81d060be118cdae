'use strict';
/**
 * One rewrite tsrun makes to the code esbuild bundled, for speed only: the output is the same.
 *
 * cdk8s's importer (json2jsii) generates, for every Kubernetes type, a function that maps an
 * object's fields and then drops the undefined ones with
 *
 *   Object.entries(result).reduce((r, i) => i[1] === void 0 ? r : { ...r, [i[0]]: <value> }, {})
 *
 * which copies the object built so far once per field: quadratic in the number of fields. Every
 * object the synth renders goes through these functions (cdk8s-plus-28's k8s.js, and generated/crd-bindings/ for
 * the custom resources); at 1,000 workloads they were the largest cost outside the project's code.
 * The rewrite keeps each callback and its value expression and only adds the field to the one
 * object instead of copying it:
 *
 *   (r, i) => i[1] === void 0 ? r : __tsrunAddField(r, i[0], <value>)
 *
 * Same keys, same order, same values, same prototype: a field named `__proto__` (a label key, say)
 * stays an own field, as the spread made it, rather than setting the prototype. Lines do not move,
 * so the source maps still hold; only the rewritten lines' columns shift. What it relies on in cdk8s and
 * esbuild, and the tests that fail when an upgrade breaks it: speed/README.md.
 */

const HELPER = '__tsrunAddField';

/** Defined once at the top of the bundle, on its first line. */
const HELPER_DEFINITION =
  `var ${HELPER} = (r, k, v) => k === "__proto__"` +
  ' ? Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true })' +
  ' : (r[k] = v, r);';

/**
 * The callback as esbuild prints it. The value expression may not hold braces or span lines, so a
 * callback of another shape is left as it is rather than cut at the wrong place.
 */
const QUADRATIC_CALLBACK = /\(r, i\) => i\[1\] === void 0 \? r : \{ \.\.\.r, \[i\[0\]\]: ([^{}\n]+?) \}, \{\}\)/g;

/**
 * The bundle with every such callback rewritten, and how many were. A bundle that already uses the
 * helper's name is returned as it is.
 *
 * @param {string} code esbuild's output (CommonJS).
 * @returns {{ code: string, rewritten: number }}
 */
function withLinearMapBuilds(code) {
  if (code.includes(HELPER)) {
    return { code, rewritten: 0 };
  }
  let rewritten = 0;
  const body = code.replace(QUADRATIC_CALLBACK, (_callback, value) => {
    rewritten += 1;
    return `(r, i) => i[1] === void 0 ? r : ${HELPER}(r, i[0], ${value}), {})`;
  });
  if (rewritten === 0) {
    return { code, rewritten };
  }
  // After a "use strict" directive, which must stay the first statement; no newline is added.
  const directive = /^(#![^\n]*\n)?(["']use strict["'];)?/.exec(body)[0].length;
  return { code: body.slice(0, directive) + HELPER_DEFINITION + body.slice(directive), rewritten };
}

module.exports = { withLinearMapBuilds };
