/**
 * Server-side validation that the OpenAPI schema does not express: name
 * formats, label syntax, port names and numbers, selectors that match their
 * template, quantities and requests within limits, the CronJob name limit.
 * Each mirrors a rule of Kubernetes' own validation (pkg/apis/.../validation).
 */
import { Check, ObjectContext } from '../context';
import { containersOf, podTemplateOf, selectorMatches } from '../objects';
import { fieldPath } from '../paths';
import { compareQuantities, parseQuantity } from '../../k8s/quantity';
import { Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'schema/name-format',
    severity: 'error',
    reason:
      'Each kind has a name format (DNS-1123 subdomain or label, DNS-1035 label for Services); the API server refuses others.',
  },
  {
    id: 'schema/label-syntax',
    severity: 'error',
    reason:
      'Label keys and values (and annotation keys) have a fixed syntax and length; the API server refuses others.',
  },
  {
    id: 'schema/port-name',
    severity: 'error',
    reason:
      'Container port names must be IANA service names (<= 15 chars, lowercase, a letter, no "--"); Service port names DNS-1123 labels.',
  },
  {
    id: 'schema/port-name-unique',
    severity: 'error',
    reason:
      'Port names must be unique within a container (and within a Service), or named references become ambiguous and are refused.',
  },
  { id: 'schema/port-number', severity: 'error', reason: 'Port numbers must be 1-65535.' },
  {
    id: 'schema/selector-matches-template',
    severity: 'error',
    reason:
      'A workload selector that does not select its own pod template is refused (Deployment, StatefulSet, DaemonSet, ReplicaSet).',
  },
  {
    id: 'schema/quantity',
    severity: 'error',
    reason: 'Resource quantities must parse as Kubernetes quantities ("250m", "128Mi"); the API server refuses others.',
  },
  {
    id: 'schema/requests-within-limits',
    severity: 'error',
    reason: 'A request above its limit is refused by the API server.',
  },
  {
    id: 'schema/cronjob-name-length',
    severity: 'error',
    reason: 'CronJob names are limited to 52 characters: the controller appends 11 characters to name its Jobs.',
  },
];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

/** Why a string is not an IANA service name, or undefined when it is one. */
export function ianaServiceNameProblem(s: string): string | undefined {
  if (s.length > 15) return 'must be no more than 15 characters';
  if (!IANA_SVC_NAME.test(s))
    return 'must contain only lowercase letters, digits and "-", and start and end with a letter or digit';
  if (s.includes('--')) return 'must not contain "--"';
  if (!/[a-z]/.test(s)) return 'must contain at least one letter';
  return undefined;
}

/** Why a label or annotation key is invalid, or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'may contain at most one "/"';
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !isDns1123Subdomain(parts[0])) return `prefix "${parts[0]}" must be a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63) return 'name part must be 1-63 characters';
  if (!LABEL_NAME.test(name))
    return 'name part must be alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric';
  return undefined;
}

export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value !== '' && !LABEL_NAME.test(value))
    return 'must be empty or alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric';
  return undefined;
}

type NameFormat = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label' | 'path-segment';

/** Name format by kind, as the API server validates it. */
export function nameFormatOf(kind: string): NameFormat {
  switch (kind) {
    case 'Service':
      return 'dns1035-label';
    case 'Namespace':
      return 'dns1123-label';
    case 'Role':
    case 'ClusterRole':
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return 'path-segment';
    default:
      return 'dns1123-subdomain';
  }
}

function nameProblem(name: string, format: NameFormat): string | undefined {
  switch (format) {
    case 'dns1035-label':
      return isDns1035Label(name)
        ? undefined
        : 'must be a DNS-1035 label: at most 63 lowercase letters, digits or "-", starting with a letter and ending with a letter or digit';
    case 'dns1123-label':
      return isDns1123Label(name)
        ? undefined
        : 'must be a DNS-1123 label: at most 63 lowercase letters, digits or "-", starting and ending with a letter or digit';
    case 'dns1123-subdomain':
      return isDns1123Subdomain(name)
        ? undefined
        : 'must be a DNS-1123 subdomain: at most 253 characters of lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
    case 'path-segment':
      return name && name !== '.' && name !== '..' && !/[/%]/.test(name)
        ? undefined
        : 'must not be "." or ".." or contain "/" or "%"';
  }
}

function checkLabels(labels: unknown, at: string, report: ObjectContext['report']): void {
  if (!labels || typeof labels !== 'object') return;
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) report('schema/label-syntax', fieldPath(at, key), `label key "${key}" is invalid: ${keyProblem}`);
    const valueProblem = labelValueProblem(value);
    if (valueProblem)
      report(
        'schema/label-syntax',
        fieldPath(at, key),
        `label value ${JSON.stringify(value)} is invalid: ${valueProblem}`,
      );
  }
}

function checkPortNumber(value: unknown, at: string, report: ObjectContext['report']): void {
  if (typeof value === 'number' && (!Number.isInteger(value) || value < 1 || value > 65535)) {
    report('schema/port-number', at, `port ${value} is out of range: must be 1-65535`);
  }
}

const RESOURCE_QUANTITY_FIELDS = ['requests', 'limits'];

export const apiRulesCheck: Check = {
  rules,
  check({ object, report }: ObjectContext): void {
    const kind: string = object?.kind;
    const name = object?.metadata?.name;
    if (typeof name === 'string') {
      const problem = nameProblem(name, nameFormatOf(kind));
      if (problem) report('schema/name-format', 'metadata.name', `${kind} name "${name}" ${problem}`);
      if (kind === 'CronJob' && name.length > 52) {
        report(
          'schema/cronjob-name-length',
          'metadata.name',
          `CronJob name "${name}" is ${name.length} characters: must be no more than 52`,
        );
      }
    }
    checkLabels(object?.metadata?.labels, 'metadata.labels', report);
    for (const key of Object.keys(object?.metadata?.annotations ?? {})) {
      const problem = qualifiedNameProblem(key);
      if (problem)
        report(
          'schema/label-syntax',
          fieldPath('metadata.annotations', key),
          `annotation key "${key}" is invalid: ${problem}`,
        );
    }

    if (kind === 'Service') {
      checkService(object, report);
      checkLabels(object.spec?.selector, 'spec.selector', report);
    }
    if (kind === 'PodDisruptionBudget')
      checkLabels(object.spec?.selector?.matchLabels, 'spec.selector.matchLabels', report);
    if (kind === 'NetworkPolicy')
      checkLabels(object.spec?.podSelector?.matchLabels, 'spec.podSelector.matchLabels', report);
    if (kind === 'PersistentVolumeClaim') {
      checkQuantities(object.spec?.resources?.requests, 'spec.resources.requests', report);
    }

    const template = podTemplateOf(object);
    if (!template) return;
    checkLabels(template.metadata?.labels, fieldPath(template.metadataPath, 'labels'), report);
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(kind)) {
      const selector = object.spec?.selector;
      checkLabels(selector?.matchLabels, 'spec.selector.matchLabels', report);
      const empty =
        !selector ||
        (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
      if (empty) {
        report(
          'schema/selector-matches-template',
          'spec.selector',
          `${kind} needs a non-empty selector that matches spec.template.metadata.labels`,
        );
      } else if (!selectorMatches(selector, template.metadata?.labels)) {
        report(
          'schema/selector-matches-template',
          'spec.selector',
          `selector ${JSON.stringify(selector)} does not match the template labels ${JSON.stringify(template.metadata?.labels ?? {})}`,
        );
      }
    }
    (template.spec.volumes ?? []).forEach((volume: any, i: number) => {
      if (volume?.emptyDir?.sizeLimit !== undefined) {
        checkQuantities(
          { sizeLimit: volume.emptyDir.sizeLimit },
          fieldPath(template.specPath, 'volumes', i, 'emptyDir'),
          report,
        );
      }
    });
    for (const { container, path } of containersOf(template)) {
      checkContainerPorts(container, path, report);
      checkResources(container?.resources, fieldPath(path, 'resources'), report);
    }
  },
};

function checkService(service: any, report: ObjectContext['report']): void {
  const ports: any[] = service.spec?.ports ?? [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = fieldPath('spec.ports', i);
    checkPortNumber(port?.port, fieldPath(at, 'port'), report);
    checkPortNumber(port?.targetPort, fieldPath(at, 'targetPort'), report);
    if (typeof port?.targetPort === 'string') {
      const problem = ianaServiceNameProblem(port.targetPort);
      if (problem)
        report('schema/port-name', fieldPath(at, 'targetPort'), `targetPort name "${port.targetPort}" ${problem}`);
    }
    if (port?.name === undefined) {
      if (ports.length > 1)
        report('schema/port-name', fieldPath(at, 'name'), 'a Service with more than one port must name every port');
      return;
    }
    if (!isDns1123Label(String(port.name))) {
      report('schema/port-name', fieldPath(at, 'name'), `Service port name "${port.name}" must be a DNS-1123 label`);
    }
    if (names.has(port.name))
      report('schema/port-name-unique', fieldPath(at, 'name'), `Service port name "${port.name}" is used twice`);
    names.add(port.name);
  });
}

function checkContainerPorts(container: any, path: string, report: ObjectContext['report']): void {
  const names = new Set<string>();
  (container?.ports ?? []).forEach((port: any, i: number) => {
    const at = fieldPath(path, 'ports', i);
    checkPortNumber(port?.containerPort, fieldPath(at, 'containerPort'), report);
    if (port?.hostPort !== undefined && port.hostPort !== 0)
      checkPortNumber(port.hostPort, fieldPath(at, 'hostPort'), report);
    if (port?.name === undefined) return;
    const problem = ianaServiceNameProblem(String(port.name));
    if (problem) report('schema/port-name', fieldPath(at, 'name'), `container port name "${port.name}" ${problem}`);
    if (names.has(port.name))
      report(
        'schema/port-name-unique',
        fieldPath(at, 'name'),
        `port name "${port.name}" is used twice in container "${container.name}"`,
      );
    names.add(port.name);
  });
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const handler = container?.[probe];
    for (const action of ['httpGet', 'tcpSocket']) {
      checkPortNumber(handler?.[action]?.port, fieldPath(path, probe, action, 'port'), report);
    }
  }
}

function checkQuantities(values: any, at: string, report: ObjectContext['report']): void {
  for (const [resource, value] of Object.entries(values ?? {})) {
    const quantity = parseQuantity(value);
    if (!quantity) {
      report(
        'schema/quantity',
        fieldPath(at, resource),
        `${JSON.stringify(value)} is not a quantity: use a number with an optional suffix like 250m, 128Mi, 1Gi, 2`,
      );
    } else if (quantity.numerator < 0n) {
      report(
        'schema/quantity',
        fieldPath(at, resource),
        `${JSON.stringify(value)} is negative: quantities here must be >= 0`,
      );
    }
  }
}

function checkResources(resources: any, at: string, report: ObjectContext['report']): void {
  if (!resources) return;
  for (const field of RESOURCE_QUANTITY_FIELDS) checkQuantities(resources[field], fieldPath(at, field), report);
  for (const [resource, requestValue] of Object.entries(resources.requests ?? {})) {
    const limitValue = resources.limits?.[resource];
    if (limitValue === undefined) continue;
    const request = parseQuantity(requestValue);
    const limit = parseQuantity(limitValue);
    if (request && limit && compareQuantities(request, limit) > 0) {
      report(
        'schema/requests-within-limits',
        fieldPath(at, 'requests', resource),
        `request ${JSON.stringify(requestValue)} is above the limit ${JSON.stringify(limitValue)}: must be less than or equal to it`,
      );
    }
  }
}
