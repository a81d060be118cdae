/**
 * Secrets: no secret value is ever written to dist/ (the primer: Secrets are
 * only base64, not encryption; a committed value is a leaked value). Secret
 * values come from an ExternalSecret or are created out of band.
 */
import { Check, ObjectContext } from '../context';
import { containersOf, podTemplateOf } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  { id: 'secrets/no-secret-values', severity: 'error', reason: 'A Secret with data in dist/ publishes its values to everyone who can read the repository.' },
  { id: 'secrets/sensitive-env-literal', severity: 'error', reason: 'An environment variable whose name says it is sensitive must come from a Secret, not a literal value.' },
];

/** Words that mark a variable name as sensitive, matched against its _-separated parts. */
const SENSITIVE_WORDS = ['PASSWORD', 'PASSWD', 'PWD', 'SECRET', 'TOKEN', 'KEY', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'PRIVATE'];

export function isSensitiveName(name: string): boolean {
  const parts = name.toUpperCase().split(/[^A-Z0-9]+/);
  return parts.some((part) => SENSITIVE_WORDS.includes(part));
}

export const secretsCheck: Check = {
  rules,
  check({ object, report }: ObjectContext): void {
    if (object?.kind === 'Secret') {
      for (const field of ['data', 'stringData']) {
        for (const key of Object.keys(object[field] ?? {})) {
          // the value itself is never printed
          report('secrets/no-secret-values', fieldPath(field, key), `Secret carries a value for "${key}": produce it with an ExternalSecret or create it out of band`);
        }
      }
    }
    const template = podTemplateOf(object);
    if (!template) return;
    for (const { container, path } of containersOf(template)) {
      (container?.env ?? []).forEach((env: any, i: number) => {
        if (typeof env?.name === 'string' && isSensitiveName(env.name) && env.value !== undefined && env.value !== '') {
          report('secrets/sensitive-env-literal', fieldPath(path, 'env', i, 'value'),
            `environment variable ${env.name} has a literal value: use valueFrom.secretKeyRef`);
        }
      });
    }
  },
};
