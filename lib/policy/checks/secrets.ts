/**
 * Secrets: no secret value is ever written to dist/ (a Secret's values are
 * only base64-encoded, not encrypted; a committed value is a leaked value:
 * https://kubernetes.io/docs/concepts/security/secrets-good-practices/). Secret
 * values come from an ExternalSecret or are created out of band, and reach a
 * process as a file on a Secret volume, never as an environment variable
 * (secrets stay on tmpfs: the kubelet backs a Secret volume with tmpfs,
 * while an environment is inherited by every child process and readable in
 * /proc/<pid>/environ).
 */
import { Check, ObjectContext } from '../context';
import { containersOf, podTemplateOf } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'secrets/no-secret-values',
    severity: 'error',
    reason: 'A Secret with data in dist/ publishes its values to everyone who can read the repository.',
  },
  {
    id: 'secrets/sensitive-env-literal',
    severity: 'error',
    reason:
      "An environment variable whose name says it is sensitive must not hold a literal value; mount the Secret and pass the file's path (NAME_FILE).",
  },
  {
    id: 'secrets/secret-in-env',
    severity: 'error',
    reason:
      'Secrets as files, never environment variables: an environment is inherited by every child process and readable in /proc/<pid>/environ; mount the Secret as a volume (tmpfs).',
  },
  {
    id: 'secrets/sensitive-config-literal',
    severity: 'error',
    reason:
      'A ConfigMap is readable by everyone who can read the namespace and is printed by kubectl describe: a key (or a key=value line of a file in it) whose name says it is sensitive must not hold a literal value.',
  },
  {
    id: 'secrets/sensitive-arg-literal',
    severity: 'error',
    reason:
      'A command-line flag whose name says it is sensitive (--password=...) must not hold a literal value: the pod spec and every process listing (ps, /proc/<pid>/cmdline) show it.',
  },
  {
    id: 'secrets/url-credentials',
    severity: 'error',
    reason:
      'A URL with a password in its user-info (postgres://app:password@db) outside a Secret publishes the password; pass the user and the password file separately.',
  },
  {
    id: 'secrets/private-key',
    severity: 'error',
    reason:
      'A PEM private key outside a Secret is published with the YAML; keep it in the secret manager and mount it from a Secret.',
  },
];

/** Words that mark a variable name as sensitive, matched against its _-separated parts. */
const SENSITIVE_WORDS = [
  'PASSWORD',
  'PASSWD',
  'PWD',
  'SECRET',
  'TOKEN',
  'KEY',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'PRIVATE',
];

/** A public key or certificate is meant to be shared: PUBLIC_KEY is not a secret. */
const PUBLIC_WORDS = ['PUBLIC', 'PUB'];

export function isSensitiveName(name: string): boolean {
  const parts = name.toUpperCase().split(/[^A-Z0-9]+/);
  return parts.some((part) => SENSITIVE_WORDS.includes(part)) && !parts.some((part) => PUBLIC_WORDS.includes(part));
}

/**
 * A value that points at a secret instead of holding one: empty, an absolute file path
 * (DB_PASSWORD_FILE=/var/run/secrets/..., the file that holds the secret), or wholly an expansion that something else fills in: $(VAR) (the
 * kubelet, from another variable), ${VAR} (a shell or the program), {{ .key }} (a template).
 */
export function isReferenceValue(value: string): boolean {
  const v = value.trim();
  return (
    v === '' ||
    /^\/\S*$/.test(v) ||
    /^\$\([A-Za-z_][A-Za-z0-9_]*\)$/.test(v) ||
    /^\$\{[^}]+\}$/.test(v) ||
    /^\{\{[^}]*\}\}$/.test(v)
  );
}

/** A literal secret under this name: a sensitive name whose value is not a reference. */
function isSensitiveLiteral(name: string, value: unknown): boolean {
  return isSensitiveName(name) && typeof value === 'string' && !isReferenceValue(value);
}

/**
 * `scheme://user:password@host`: a URL whose user-info has a password. The password is only ever
 * printed redacted, with the scheme and user kept so the reader can find it.
 */
const URL_WITH_PASSWORD = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/?#@:]*):([^\s/?#@]+)@/gi;

/** The URLs of a string that carry a password, redacted (postgres://app:<redacted>@). */
export function urlsWithPassword(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(URL_WITH_PASSWORD)) {
    if (isReferenceValue(match[3])) continue;
    found.push(`${match[1]}://${match[2]}:<redacted>@`);
  }
  return found;
}

const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/;

/**
 * `NAME=value` and `name: value` lines of a file in a ConfigMap (.env, .properties, YAML), with
 * the line number; the value without quotes or an `export` before the name.
 */
function assignmentLines(text: string): { line: number; name: string; value: string }[] {
  const out: { line: number; name: string; value: string }[] = [];
  text.split('\n').forEach((line, i) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*?)\s*$/.exec(line);
    // YAML's null and block scalars (`password: |`) carry no value on this line.
    if (!match || /^(~|null|[|>][-+]?)$/.test(match[2])) return;
    out.push({ line: i + 1, name: match[1], value: match[2].replace(/^(["'])(.*)\1$/, '$2') });
  });
  return out;
}

/** Calls visit for every string of an object, with its field path; keys are not visited. */
function eachString(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => eachString(item, fieldPath(path, i), visit));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) eachString(item, fieldPath(path, key), visit);
  }
}

const MOVE_IT =
  "keep it in a Secret (an ExternalSecret or one created out of band), mounted as a file, and pass the file's path";

export const secretsCheck: Check = {
  rules,
  check({ object, report }: ObjectContext): void {
    if (object?.kind === 'Secret') {
      for (const field of ['data', 'stringData']) {
        for (const key of Object.keys(object[field] ?? {})) {
          // the value itself is never printed
          report(
            'secrets/no-secret-values',
            fieldPath(field, key),
            `Secret carries a value for "${key}": produce it with an ExternalSecret or create it out of band`,
          );
        }
      }
      return; // a Secret's own values are the rule above's; the scans below are for everything else
    }
    // Secret values are never printed: the findings name the field, the key and what to do.
    eachString(object, '', (text, path) => {
      for (const url of urlsWithPassword(text)) {
        report(
          'secrets/url-credentials',
          path,
          `URL ${url}... carries a password (redacted here): ${MOVE_IT}, and the URL without the password`,
        );
      }
      if (PRIVATE_KEY_BLOCK.test(text)) {
        report('secrets/private-key', path, `a PEM private key (value redacted): ${MOVE_IT}`);
      }
    });
    if (object?.kind === 'ConfigMap') checkConfigMap(object, report);
    const template = podTemplateOf(object);
    if (!template) return;
    for (const { container, path } of containersOf(template)) {
      (container?.env ?? []).forEach((env: any, i: number) => {
        if (typeof env?.name === 'string' && isSensitiveLiteral(env.name, env.value)) {
          report(
            'secrets/sensitive-env-literal',
            fieldPath(path, 'env', i, 'value'),
            `environment variable ${env.name} has a literal value (redacted): mount the Secret as a volume and pass the file's path (${env.name}_FILE=/path)`,
          );
        }
        const ref = env?.valueFrom?.secretKeyRef;
        if (ref) {
          report(
            'secrets/secret-in-env',
            fieldPath(path, 'env', i, 'valueFrom', 'secretKeyRef'),
            `environment variable ${env.name} takes key "${ref.key}" of Secret "${ref.name}": mount the Secret as a volume and pass the file's path`,
          );
        }
      });
      (container?.envFrom ?? []).forEach((source: any, i: number) => {
        if (source?.secretRef) {
          report(
            'secrets/secret-in-env',
            fieldPath(path, 'envFrom', i, 'secretRef'),
            `every key of Secret "${source.secretRef.name}" becomes an environment variable: mount the Secret as a volume instead`,
          );
        }
      });
      for (const list of ['command', 'args']) {
        if (Array.isArray(container?.[list])) checkArguments(container[list], fieldPath(path, list), report);
      }
    }
  },
};

/** Keys of a ConfigMap, and the NAME=value lines of the files in it, that hold a literal secret. */
function checkConfigMap(configMap: any, report: ObjectContext['report']): void {
  for (const [key, value] of Object.entries(configMap.data ?? {})) {
    if (typeof value !== 'string') continue;
    const at = fieldPath('data', key);
    if (isSensitiveLiteral(key, value) && !value.includes('\n')) {
      report(
        'secrets/sensitive-config-literal',
        at,
        `ConfigMap key "${key}" holds a literal value (redacted): ${MOVE_IT} (${key}_FILE=/path)`,
      );
      continue;
    }
    for (const { line, name, value: assigned } of assignmentLines(value)) {
      if (isSensitiveLiteral(name, assigned)) {
        report(
          'secrets/sensitive-config-literal',
          at,
          `line ${line} of ConfigMap key "${key}" sets ${name} to a literal value (redacted): ${MOVE_IT} in a setting of its own`,
        );
      }
    }
  }
}

/** `--password=value`, or `--password value` as two arguments; `-p` and positional secrets are not recognised. */
function checkArguments(list: unknown[], at: string, report: ObjectContext['report']): void {
  list.forEach((item, i) => {
    if (typeof item !== 'string') return;
    const joined = /^--?([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/s.exec(item);
    const separate = /^--?([A-Za-z][A-Za-z0-9_.-]*)$/.exec(item);
    const next = list[i + 1];
    let flag: string | undefined;
    let value: unknown;
    let where = i;
    if (joined) {
      [flag, value] = [joined[1], joined[2]];
    } else if (separate && typeof next === 'string' && !next.startsWith('-')) {
      [flag, value, where] = [separate[1], next, i + 1];
    }
    if (flag !== undefined && isSensitiveLiteral(flag, value)) {
      report(
        'secrets/sensitive-arg-literal',
        fieldPath(at, where),
        `flag --${flag} has a literal value (redacted): ${MOVE_IT} (a --${flag}-file flag, or the program's own way to read it from a file)`,
      );
    }
  });
}
