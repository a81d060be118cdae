/**
 * `npm run schema`: writes the Environment's JSON Schema, for editors, to
 * generated/environment.schema.json (scripts/generate/environment-json-schema.ts). scripts/generate/environment-schema.test.ts
 * fails while the committed file differs from what this writes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ENVIRONMENT_SCHEMA_FILE, environmentSchemaText } from './environment-json-schema';
import { readCommandLine } from '../../lib/commands/command-line';

readCommandLine(
  'schema',
  `usage: npm run schema

Writes generated/environment.schema.json: the Environment (lib/environment.ts) as JSON Schema, for
editors. Takes no options.`,
  { options: {} },
);

fs.mkdirSync(path.dirname(ENVIRONMENT_SCHEMA_FILE), { recursive: true });
fs.writeFileSync(ENVIRONMENT_SCHEMA_FILE, environmentSchemaText());
console.log(`${ENVIRONMENT_SCHEMA_FILE}: written`);
