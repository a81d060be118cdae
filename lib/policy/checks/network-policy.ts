/**
 * NetworkPolicies: what a pod may accept and send. Every app namespace denies everything both ways
 * (its default-deny policy), every workload says what it serves and what it calls in a policy of
 * its own, and a rule that opens a pod to every peer is a recorded decision (a waiver), not an
 * accident. Policies only ever add to each other, so one rule open to all undoes the default-deny.
 */
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { namespaceOf, podTemplateOf, selectorMatches, SYSTEM_NAMESPACES } from '../objects';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'practice/network-policy',
    severity: 'error',
    reason:
      'Every pod must be selected for ingress and egress by a NetworkPolicy of its own (a podSelector that names its pods), beyond the namespace-wide default-deny and DNS: without one, nobody wrote down what it serves and what it calls.',
  },
  {
    id: 'practice/namespace-default-deny',
    severity: 'error',
    reason:
      'An app namespace needs a default-deny NetworkPolicy for both directions (podSelector {}, no rules), so that a pod no other policy names accepts and sends nothing.',
  },
  {
    id: 'practice/network-policy-allows-all',
    severity: 'error',
    reason:
      'A NetworkPolicy rule with no from/to, an empty peer {}, a namespaceSelector {} of every namespace or an ipBlock of every address opens its pods to every peer; that needs a waiver with a reason.',
  },
];

type ReportFn = ObjectContext['report'];
const DIRECTIONS = [
  { type: 'Ingress', rules: 'ingress', peers: 'from', word: 'source' },
  { type: 'Egress', rules: 'egress', peers: 'to', word: 'destination' },
] as const;

/** A podSelector that selects every pod of the namespace: {} or absent. */
function selectsWholeNamespace(selector: any): boolean {
  return (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  );
}

/** The directions a policy applies to, with the API server's default when policyTypes is unset. */
function policyTypesOf(policy: any): string[] {
  return policy.spec?.policyTypes ?? (policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** An app namespace: one the environment defines, other than the cluster's own (kube-system...). */
function isAppNamespace(name: string | undefined, environment: EnvironmentIndex): boolean {
  return (
    name !== undefined &&
    !SYSTEM_NAMESPACES.includes(name) &&
    environment.find('Namespace', undefined, name) !== undefined
  );
}

export const networkPolicyCheck: Check = {
  rules,
  check({ object, report }: ObjectContext, environment: EnvironmentIndex): void {
    if (object?.kind === 'Namespace') checkDefaultDeny(object, environment, report);
    if (object?.kind === 'NetworkPolicy') checkAllowsAll(object, report);
    const template = podTemplateOf(object);
    if (template) checkOwnPolicies(object, template, environment, report);
  },
};

function checkDefaultDeny(namespace: any, environment: EnvironmentIndex, report: ReportFn): void {
  const name = namespace.metadata?.name;
  if (!isAppNamespace(name, environment)) return;
  const policies = environment.inNamespace('NetworkPolicy', name);
  const missing = DIRECTIONS.filter(
    ({ type, rules: field }) =>
      !policies.some(
        (p) =>
          selectsWholeNamespace(p.spec?.podSelector) &&
          policyTypesOf(p).includes(type) &&
          (p.spec?.[field] ?? []).length === 0,
      ),
  );
  if (missing.length > 0) {
    report(
      'practice/namespace-default-deny',
      'metadata.name',
      `app namespace "${name}" has no default-deny NetworkPolicy for ${missing.map((d) => d.rules).join(' and ')}: add one with podSelector: {}, policyTypes: [Ingress, Egress] and no rules`,
    );
  }
}

/** Why a peer (an element of from/to) stands for every peer, or undefined when it does not. */
function everyPeer(peer: any): string | undefined {
  if (!peer || Object.keys(peer).length === 0) return 'an empty peer {}';
  const cidr = peer.ipBlock?.cidr;
  if ((cidr === '0.0.0.0/0' || cidr === '::/0') && (peer.ipBlock?.except ?? []).length === 0)
    return `ipBlock ${cidr}, every address`;
  if (
    peer.namespaceSelector &&
    selectsWholeNamespace(peer.namespaceSelector) &&
    selectsWholeNamespace(peer.podSelector)
  ) {
    return 'namespaceSelector {}, every pod of every namespace';
  }
  return undefined;
}

function describePorts(ports: any[] | undefined): string {
  if (!ports || ports.length === 0) return 'on every port';
  return `on ${ports.map((p) => `${p?.port ?? 'every port'}/${p?.protocol ?? 'TCP'}`).join(', ')}`;
}

function checkAllowsAll(policy: any, report: ReportFn): void {
  const types = policyTypesOf(policy);
  for (const { type, rules: field, peers, word } of DIRECTIONS) {
    if (!types.includes(type)) continue;
    (policy.spec?.[field] ?? []).forEach((rule: any, i: number) => {
      const list = rule?.[peers];
      const ports = describePorts(rule?.ports);
      if (!Array.isArray(list) || list.length === 0) {
        report(
          'practice/network-policy-allows-all',
          fieldPath('spec', field, i),
          `${field} rule has no ${peers}: it allows every ${word} ${ports}; name the peers, or waive with the reason it must be open`,
        );
        return;
      }
      list.forEach((peer: any, j: number) => {
        const why = everyPeer(peer);
        if (why) {
          report(
            'practice/network-policy-allows-all',
            fieldPath('spec', field, i, peers, j),
            `${peers} peer is ${why}: it allows every ${word} ${ports}; name the peers, or waive with the reason it must be open`,
          );
        }
      });
    });
  }
}

function checkOwnPolicies(
  object: any,
  template: NonNullable<ReturnType<typeof podTemplateOf>>,
  environment: EnvironmentIndex,
  report: ReportFn,
): void {
  const labels = template.metadata?.labels ?? {};
  const own = environment
    .inNamespace('NetworkPolicy', namespaceOf(object))
    .filter((p) => !selectsWholeNamespace(p.spec?.podSelector) && selectorMatches(p.spec?.podSelector, labels));
  const types = new Set(own.flatMap(policyTypesOf));
  for (const { type } of DIRECTIONS) {
    if (!types.has(type)) {
      report(
        'practice/network-policy',
        fieldPath(template.metadataPath, 'labels'),
        `no NetworkPolicy of its own in namespace "${namespaceOf(object)}" selects these pods for ${type.toLowerCase()} (labels ${JSON.stringify(labels)}); the namespace-wide policies (podSelector {}) do not count: add one whose podSelector names its pods`,
      );
    }
  }
}
