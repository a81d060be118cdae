import * as path from 'path';
import * as ts from 'typescript';
import { z } from 'zod';
import { ADDONS } from '../../lib/addons';
import { EnvironmentSchema } from '../../lib/environment';
import { WORKLOADS } from '../../lib/workloads';

/**
 * The Environment as JSON Schema (draft 2020-12), for editors: zod writes the shape (fields, types,
 * enums, patterns, required and unknown fields), and each field's doc comment in lib/environment.ts
 * becomes its description, so an editor shows the same words as the TypeScript. Rules that span
 * fields (quotas, QoS, overlaps) and the formats written as functions are the synth's to check.
 * `scale` lists one field per workload of the registry (lib/workloads/index.ts), each the workload's
 * scale with every field optional: an environment writes only what differs from the defaults.
 * `addons` lists one field per add-on of the registry (lib/addons/index.ts), each its settings.
 *
 * `npm run schema` writes it to generated/environment.schema.json; a test checks the file is fresh.
 * Only they use this file, never the synth: it loads the TypeScript compiler (a devDependency).
 */
export const ENVIRONMENT_SCHEMA_FILE = path.join('generated', 'environment.schema.json');

/** The file's text: the schema, two-space indented, with a final newline. */
export function environmentSchemaText(): string {
  return `${JSON.stringify(environmentJsonSchema(), null, 2)}\n`;
}

export function environmentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(EnvironmentSchema) as JsonNode;
  const { checker, type } = environmentType();
  describe(schema, type, checker);
  addWorkloadScales(schema.properties!.scale);
  addAddonSettings(schema.properties!.addons);
  return {
    $schema: schema.$schema,
    title: 'Environment',
    description:
      'One environment of lab-to-prod: everything that differs between the lab and production (lib/environment.ts).',
    ...schema,
  };
}

type JsonNode = {
  $schema?: string;
  description?: string;
  properties?: Record<string, JsonNode>;
  oneOf?: JsonNode[];
  anyOf?: JsonNode[];
  items?: JsonNode;
  additionalProperties?: JsonNode | boolean;
  const?: unknown;
};

/**
 * One field of `scale` per workload that an environment sizes, its schema with nothing required, and
 * no other field: the synth refuses a name that is no workload's. (lib/environment.ts cannot list
 * them: it sits below the workloads.)
 */
function addWorkloadScales(scale: JsonNode): void {
  for (const workload of WORKLOADS) {
    if (workload.scale === undefined) continue;
    const fields = z.toJSONSchema(workload.scale.schema) as JsonNode;
    delete fields.$schema;
    scale.properties![workload.name] = {
      description: `What this environment changes of ${workload.name}'s default scale (lib/workloads/${workload.name}.ts); every field is optional.`,
      ...withNothingRequired(fields),
    };
  }
  scale.additionalProperties = false;
}

/**
 * One field of `addons` per add-on the project can render, its settings as its definition declares
 * them, and no other field: the synth refuses a name that is no add-on's. (lib/environment.ts cannot
 * list them: it sits below the add-ons' definitions.)
 */
function addAddonSettings(addons: JsonNode): void {
  addons.properties = {};
  for (const addon of ADDONS) {
    const fields = z.toJSONSchema(addon.settings) as JsonNode;
    delete fields.$schema;
    addons.properties[addon.name] = {
      description: `Install ${addon.name} (addons/addons.lock.json pins it), with these settings of lib/addons/${addon.name}.ts.`,
      ...fields,
    };
  }
  addons.additionalProperties = false;
}

/** A JSON Schema with every `required` list removed, at any depth. */
function withNothingRequired(node: JsonNode): JsonNode {
  const copy: JsonNode & { required?: string[] } = { ...node };
  delete copy.required;
  if (node.properties !== undefined) {
    copy.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [name, withNothingRequired(child)]),
    );
  }
  return copy;
}

/** The type `Environment` as the TypeScript compiler sees it, doc comments included. */
function environmentType(): { checker: ts.TypeChecker; type: ts.Type } {
  // From the project's root, where npm runs every script and jest every test (a bundled script's
  // __dirname is the bundle's).
  const file = path.resolve('lib', 'environment.ts');
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const alias = source.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'Environment',
  );
  if (alias === undefined) {
    throw new Error('lib/environment.ts declares no type Environment');
  }
  return { checker, type: checker.getTypeAtLocation(alias.name) };
}

/** A symbol's doc comment, with its `@default` tag as a last sentence. */
function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const defaults = symbol
    .getJsDocTags(checker)
    .filter((t) => t.name === 'default')
    .map((t) => ts.displayPartsToString(t.text).trim());
  return [text, ...defaults.map((d) => `Default: ${d.replace(/^-\s*/, '')}`)].filter((s) => s !== '').join('\n');
}

/** Walks the JSON Schema and the TypeScript type side by side, copying each field's doc comment. */
function describe(node: JsonNode, type: ts.Type, checker: ts.TypeChecker): void {
  const t = checker.getNonNullableType(type);
  for (const variant of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) {
    // The union member whose literal fields (the discriminator) are the variant's constants.
    const members = t.isUnion() ? t.types : [t];
    const member = members.find((m) =>
      Object.entries(variant.properties ?? {}).every(([name, p]) => {
        if (p.const === undefined) return true;
        const prop = m.getProperty(name);
        const propType = prop && checker.getTypeOfSymbol(prop);
        return propType !== undefined && propType.isStringLiteral() && propType.value === p.const;
      }),
    );
    if (member !== undefined) describe(variant, member, checker);
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const symbol = t.getProperty(name);
    if (symbol === undefined) continue;
    const doc = docOf(symbol, checker);
    if (doc !== '') child.description = doc;
    describe(child, checker.getTypeOfSymbol(symbol), checker);
  }
  if (node.items !== undefined) {
    const element = checker.getIndexTypeOfType(t, ts.IndexKind.Number);
    if (element !== undefined) describe(node.items, element, checker);
  }
  if (typeof node.additionalProperties === 'object') {
    const value = checker.getIndexTypeOfType(t, ts.IndexKind.String);
    if (value !== undefined) describe(node.additionalProperties, value, checker);
  }
}
