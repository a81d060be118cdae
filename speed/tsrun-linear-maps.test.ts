import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { transformSync } from 'esbuild';

/**
 * speed/tsrun-linear-maps.js rewrites the field mappings cdk8s's importer generates, for speed. These
 * tests hold it to "the same output": on each value form the generated code uses, on awkward keys,
 * and on cdk8s-plus-28's real k8s.js, rewritten as tsrun rewrites it and compared with the stock one.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JavaScript file of tsrun's, which has no types
const { withLinearMapBuilds } = require('./tsrun-linear-maps') as {
  withLinearMapBuilds: (code: string) => { code: string; rewritten: number };
};

/** The callback as esbuild prints the generated code, around one value expression. */
const generated = (value: string) => `"use strict";
const toJson_Inner = (x) => ({ inner: x });
module.exports = (o) => Object.entries(o).reduce((r, i) => i[1] === void 0 ? r : { ...r, [i[0]]: ${value} }, {});
`;

/** Loads CommonJS source text as a module, with the test's own require. */
function load(code: string): any {
  const mod = { exports: {} as any };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the generated code is run as Node runs a module
  new Function('module', 'exports', 'require', code)(mod, mod.exports, require);
  return mod.exports;
}

/** Keys in order, own descriptors and prototype: what "the same object" means here. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(shape);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  return {
    prototype: Object.getPrototypeOf(value) === Object.prototype ? 'Object.prototype' : 'other',
    fields: Reflect.ownKeys(value).map((key) => [String(key), shape((value as any)[key])]),
  };
}

/** Fields in an awkward order, one undefined, one named __proto__ (as JSON.parse makes it, an own field). */
function awkward(make: (n: number) => unknown): Record<string, unknown> {
  const input = JSON.parse('{"zeta": 0, "__proto__": 0, "10": 0, "2": 0, "alpha": 0}');
  for (const [n, key] of Object.keys(input).entries()) {
    input[key] = make(n);
  }
  input.gone = undefined;
  return input;
}

test.each([
  ['the value itself', 'i[1]', (n: number) => `v${n}`],
  ['a quantity or int-or-string (?.value)', 'i[1]?.value', (n: number) => ({ value: n })],
  ['a list copied (?.map)', 'i[1]?.map((y) => y)', (n: number) => [n, `${n}`]],
  ['a nested type (toJson_X)', 'toJson_Inner(i[1])', (n: number) => n],
])(
  '%s: rewritten once, and the result has the same keys in the same order, values and prototype',
  (_form, value, make) => {
    const stock = generated(value);
    const { code, rewritten } = withLinearMapBuilds(stock);
    expect(rewritten).toBe(1);
    expect(code).not.toContain('...r');
    expect(code.split('\n')).toHaveLength(stock.split('\n').length);
    expect(code.startsWith('"use strict";var __tsrunAddField')).toBe(true);
    const input = awkward(make);
    const result = load(code)(input);
    expect(shape(result)).toEqual(shape(load(stock)(input)));
    // The field named __proto__ is an own field, not the prototype.
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')).toBeDefined();
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  },
);

test('code without the generated callback, or of another shape, is left as it is', () => {
  const none = '"use strict";\nmodule.exports = [1, 2].reduce((r, i) => r + i, 0);\n';
  expect(withLinearMapBuilds(none)).toEqual({ code: none, rewritten: 0 });
  const braces =
    'module.exports = (o) => Object.entries(o).reduce((r, i) => i[1] === void 0 ? r : { ...r, [i[0]]: { x: i[1] } }, {});\n';
  expect(withLinearMapBuilds(braces)).toEqual({ code: braces, rewritten: 0 });
  const named = `${generated('i[1]')}var __tsrunAddField = 1;\n`;
  expect(withLinearMapBuilds(named)).toEqual({ code: named, rewritten: 0 });
});

test("cdk8s-plus-28's k8s.js: every generated callback is rewritten and the objects render the same", () => {
  const file = require.resolve('cdk8s-plus-28/lib/imports/k8s.js');
  // As esbuild prints it in the bundle tsrun runs.
  const stock = transformSync(fs.readFileSync(file, 'utf8'), {
    loader: 'js',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
  }).code;
  const { code, rewritten } = withLinearMapBuilds(stock);
  const generatedCallbacks = stock.split('{ ...r, [i[0]]:').length - 1;
  expect(generatedCallbacks).toBeGreaterThan(400);
  expect(rewritten).toBe(generatedCallbacks);
  expect(code).not.toContain('{ ...r, [i[0]]:');

  const render = (k8s: any) => {
    const chart = new Chart(new App({ outdir: path.join(__dirname, 'unused') }), 'c', {
      disableResourceNameHashes: true,
    });
    const labels = { app: 'web', 10: 'ten' };
    const deployment = new k8s.KubeDeployment(chart, 'web', {
      metadata: { name: 'web', labels, annotations: { b: '2', a: '1' } },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'web:1',
                ports: [{ containerPort: 8080 }],
                resources: {
                  limits: { memory: k8s.Quantity.fromString('64Mi') },
                  requests: { cpu: k8s.Quantity.fromString('50m') },
                },
                readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromNumber(8080) } },
              },
            ],
          },
        },
      },
    });
    return deployment.toJson();
  };
  const expected = render(load(stock));
  expect(JSON.stringify(render(load(code)))).toBe(JSON.stringify(expected));
  expect(expected.metadata.labels).toEqual({ 10: 'ten', app: 'web' });
  expect(expected.spec.template.spec.containers[0].resources.limits).toEqual({ memory: '64Mi' });
});

test('generated/crd-bindings/: every generated callback, as esbuild prints the TypeScript, is rewritten', () => {
  // The bindings are TypeScript (`(i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] })`); the rewrite
  // relies on esbuild printing them in the shape above (`void 0`, no parentheses), as tsrun bundles them.
  const folder = path.join(__dirname, '..', 'generated', 'crd-bindings');
  let total = 0;
  for (const name of fs.readdirSync(folder).filter((n) => n.endsWith('.ts'))) {
    const stock = transformSync(fs.readFileSync(path.join(folder, name), 'utf8'), {
      loader: 'ts',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
    }).code;
    const { code, rewritten } = withLinearMapBuilds(stock);
    const generatedCallbacks = stock.split('{ ...r, [i[0]]:').length - 1;
    expect([name, rewritten]).toEqual([name, generatedCallbacks]);
    expect(code).not.toContain('{ ...r, [i[0]]:');
    total += rewritten;
  }
  expect(total).toBeGreaterThan(400);
});
