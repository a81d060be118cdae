/**
 * Secrets: no secret value is ever written to dist/ (the primer: Secrets are
 * only base64, not encryption; a committed value is a leaked value). Secret
 * values come from an ExternalSecret or are created out of band, and reach a
 * process as a file on a Secret volume, never as an environment variable (the
 * primer keeps secrets on tmpfs: the kubelet backs a Secret volume with tmpfs,
 * while an environment is inherited by every child process and readable in
 * /proc/<pid>/environ).
 */
import { Check, ObjectContext } from '../context';
import { containersOf, podTemplateOf } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  { id: 'secrets/no-secret-values', severity: 'error', reason: 'A Secret with data in dist/ publishes its values to everyone who can read the repository.' },
  { id: 'secrets/sensitive-env-literal', severity: 'error', reason: 'An environment variable whose name says it is sensitive must not hold a literal value; mount the Secret and pass the file\'s path (NAME_FILE).' },
  { id: 'secrets/secret-in-env', severity: 'error', reason: 'Secrets as files, never environment variables: an environment is inherited by every child process and readable in /proc/<pid>/environ; mount the Secret as a volume (tmpfs).' },
];

/** `<NAME>_FILE=/absolute/path`: the variable names the file that holds the secret, not the secret. */
function isSecretFilePath(name: string, value: unknown): boolean {
  return /_FILE$/i.test(name) && typeof value === 'string' && value.startsWith('/');
}

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
        if (typeof env?.name === 'string' && isSensitiveName(env.name) && env.value !== undefined && env.value !== ''
          && !isSecretFilePath(env.name, env.value)) {
          report('secrets/sensitive-env-literal', fieldPath(path, 'env', i, 'value'),
            `environment variable ${env.name} has a literal value: mount the Secret as a volume and pass the file's path (${env.name}_FILE=/path)`);
        }
        const ref = env?.valueFrom?.secretKeyRef;
        if (ref) {
          report('secrets/secret-in-env', fieldPath(path, 'env', i, 'valueFrom', 'secretKeyRef'),
            `environment variable ${env.name} takes key "${ref.key}" of Secret "${ref.name}": mount the Secret as a volume and pass the file's path`);
        }
      });
      (container?.envFrom ?? []).forEach((source: any, i: number) => {
        if (source?.secretRef) {
          report('secrets/secret-in-env', fieldPath(path, 'envFrom', i, 'secretRef'),
            `every key of Secret "${source.secretRef.name}" becomes an environment variable: mount the Secret as a volume instead`);
        }
      });
    }
  },
};
