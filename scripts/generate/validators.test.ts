/**
 * The generated validators: committed, fresh, and built the way the API
 * server validates (strict about unknown fields).
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateAll, makeStrict, OUTPUT_DIR, toJavaScriptPattern } from './validators';

describe('generated schemas', () => {
  // Every input is in the repository: generated/openapi/ and the pinned add-ons' renderings in addons/.
  it('are what the generator produces from the pinned add-ons and the OpenAPI (npm run generate:crds after changing either)', () => {
    const files = generateAll();
    const committed = fs.readdirSync(OUTPUT_DIR).sort();
    expect(committed).toEqual(Object.keys(files).sort());
    for (const [name, content] of Object.entries(files)) {
      expect({ name, same: fs.readFileSync(path.join(OUTPUT_DIR, name), 'utf8') === content }).toEqual({
        name,
        same: true,
      });
    }
  }, 120_000);
});

describe('makeStrict', () => {
  it('closes objects that list their properties, recursively', () => {
    const strict = makeStrict({
      type: 'object',
      properties: { a: { type: 'object', properties: { b: { type: 'string' } } } },
    });
    expect(strict.additionalProperties).toBe(false);
    expect(strict.properties.a.additionalProperties).toBe(false);
  });

  it('leaves free-form objects and x-kubernetes-preserve-unknown-fields open', () => {
    expect(makeStrict({ type: 'object' }).additionalProperties).toBeUndefined();
    expect(makeStrict({ type: 'object', additionalProperties: { type: 'string' } }).additionalProperties).toEqual({
      type: 'string',
    });
    const preserved = makeStrict({
      type: 'object',
      properties: { a: { type: 'string' } },
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(preserved.additionalProperties).toBeUndefined();
    expect(preserved['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
  });

  it('turns x-kubernetes-int-or-string into integer or string', () => {
    expect(makeStrict({ type: 'string', 'x-kubernetes-int-or-string': true })).toEqual({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
  });
});

describe('toJavaScriptPattern', () => {
  it("spells Go's case-insensitive flag as letter classes", () => {
    const pattern = new RegExp(toJavaScriptPattern('^(?i)(abort|warn)?$'));
    expect(pattern.test('Abort')).toBe(true);
    expect(pattern.test('WARN')).toBe(true);
    expect(pattern.test('stop')).toBe(false);
  });

  it('leaves other patterns alone', () => {
    expect(toJavaScriptPattern('^[a-z]+$')).toBe('^[a-z]+$');
  });
});
