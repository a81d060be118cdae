/**
 * lab-to-prod's guardrails: every synthesized object checked against the
 * Kubernetes schema, the Pod Security Standards, practice and reference
 * integrity, and for secret values. main.ts calls checkManifests() on the
 * objects of all environments before writing dist/; the cdk8s validation
 * plugin (lib/policy/plugin) calls it from `cdk8s synth`; tests call it too.
 */
import { apiRulesCheck } from './checks/api-rules';
import { networkPolicyCheck } from './checks/network-policy';
import { podSecurityCheck } from './checks/pod-security';
import { practiceCheck } from './checks/practice';
import { rbacCheck } from './checks/rbac';
import { referencesCheck } from './checks/references';
import { schemaCheck } from './checks/schema';
import { secretsCheck } from './checks/secrets';
import { Check, EnvironmentIndex } from './context';
import { namespaceOf } from './objects';
import { saveCompileCache } from '../../speed/schema-modules';
import { CheckOptions, Finding, ManifestInput, Rule } from './types';
import { applyWaivers, rules as waiverRules } from './waivers';

export type { CheckOptions, Finding, ManifestInput, Rule, Severity } from './types';
export { formatReport, hasErrors } from './report';
export { WAIVE_ANNOTATION, WAIVE_REASON_ANNOTATION } from './waivers';
export { OUT_OF_BAND_PREFIX } from './checks/references';

const CHECKS: readonly Check[] = [
  schemaCheck,
  apiRulesCheck,
  podSecurityCheck,
  practiceCheck,
  networkPolicyCheck,
  rbacCheck,
  referencesCheck,
  secretsCheck,
];

/** Every rule: stable id, severity and a one-line reason. */
export const rules: readonly Rule[] = [...CHECKS.flatMap((c) => c.rules), ...waiverRules];

const RULES_BY_ID = new Map(rules.map((r) => [r.id, r]));
const RULE_IDS: ReadonlySet<string> = new Set(RULES_BY_ID.keys());

/** Checks the objects of all environments; references are resolved within each environment. */
export function checkManifests(inputs: readonly ManifestInput[], options: CheckOptions = {}): Finding[] {
  const byEnvironment = new Map<string, ManifestInput[]>();
  for (const input of inputs) {
    const list = byEnvironment.get(input.environment) ?? [];
    list.push(input);
    byEnvironment.set(input.environment, list);
  }
  const findings: Finding[] = [];
  for (const [environment, envInputs] of byEnvironment) {
    const versions = new Set(envInputs.map((i) => i.kubernetesVersion));
    if (versions.size > 1) {
      throw new Error(
        `environment "${environment}" has objects for several Kubernetes versions (${[...versions].join(', ')}); one environment runs one version`,
      );
    }
    const index = new EnvironmentIndex(
      environment,
      envInputs[0].kubernetesVersion,
      envInputs,
      options.platformProvided?.[environment],
      options.peopleGroups?.[environment],
    );
    for (const input of envInputs) findings.push(...checkObject(input, index));
  }
  saveCompileCache();
  return findings;
}

function checkObject(input: ManifestInput, index: EnvironmentIndex): Finding[] {
  const object = input.object;
  const base = {
    environment: input.environment,
    kind: String(object?.kind ?? '(no kind)'),
    namespace: namespaceOf(object),
    name: String(object?.metadata?.name ?? '(no name)'),
    constructPath: input.constructPath,
  };
  const newFinding = (ruleId: string, fieldPath: string, message: string): Finding => {
    const rule = RULES_BY_ID.get(ruleId);
    if (!rule) throw new Error(`internal: unknown rule id ${ruleId}`);
    return { ...base, ruleId, severity: rule.severity, fieldPath, message };
  };
  const findings: Finding[] = [];
  const report = (ruleId: string, fieldPath: string, message: string) =>
    findings.push(newFinding(ruleId, fieldPath, message));
  if (!object || typeof object !== 'object' || typeof object.kind !== 'string') {
    report('schema/unknown-kind', 'kind', 'not a Kubernetes object: no kind');
    return findings;
  }
  for (const check of CHECKS) {
    check.check({ input, object, report }, index);
    // An object the schema does not know cannot be checked further meaningfully.
    if (check === schemaCheck && findings.some((f) => f.ruleId === 'schema/unknown-kind')) break;
  }
  return applyWaivers(object, findings, RULE_IDS, newFinding);
}

/**
 * A key that names one object across all environments: "<environment>/<Kind>/<namespace>/<name>"
 * ("-" for cluster-scoped). Key construct-metadata.json's resources by it so that cdk8s-cli's
 * report shows the right construct path when the same name exists in several environments.
 */
export function resourceKey(environment: string, object: any): string {
  return `${environment}/${object?.kind}/${namespaceOf(object) ?? '-'}/${object?.metadata?.name}`;
}
