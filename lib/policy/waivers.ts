/**
 * Waivers: an object may waive rules for itself, with a recorded reason.
 *
 *   metadata:
 *     annotations:
 *       policy.lab-to-prod.io/waive: "pss/baseline/host-namespaces,pss/baseline/host-path-volumes"
 *       policy.lab-to-prod.io/waive-reason: "etcd backup reads the etcd data dir and talks to etcd on the host network"
 *
 * A waived finding stays in the report, marked as waived with the reason, and
 * does not fail the synth. A waiver without a reason, of an unknown rule, or of
 * a policy/* rule is itself an error; one that waives nothing is a warning.
 */
import { fieldPath } from './paths';
import { Finding, Rule } from './types';

export const WAIVE_ANNOTATION = 'policy.lab-to-prod.io/waive';
export const WAIVE_REASON_ANNOTATION = 'policy.lab-to-prod.io/waive-reason';

export const rules: Rule[] = [
  {
    id: 'policy/waiver-reason',
    severity: 'error',
    reason: 'A waiver must record why the rule does not apply, so a reviewer can judge it.',
  },
  {
    id: 'policy/waiver-unknown-rule',
    severity: 'error',
    reason:
      'A waiver of a rule id that does not exist (or of a policy/* rule) is a typo or an attempt to silence the waiver checks.',
  },
  {
    id: 'policy/waiver-unused',
    severity: 'warning',
    reason: 'A waiver that waives nothing is stale and should be removed.',
  },
];

type NewFinding = (ruleId: string, fieldPath: string, message: string) => Finding;

/** Marks the object's findings it waives, and adds findings about the waiver itself. */
export function applyWaivers(
  object: any,
  findings: Finding[],
  knownRuleIds: ReadonlySet<string>,
  newFinding: NewFinding,
): Finding[] {
  const annotations = object?.metadata?.annotations ?? {};
  const list = annotations[WAIVE_ANNOTATION];
  if (list === undefined) return findings;
  const at = fieldPath('metadata.annotations', WAIVE_ANNOTATION);
  const reason =
    typeof annotations[WAIVE_REASON_ANNOTATION] === 'string' ? annotations[WAIVE_REASON_ANNOTATION].trim() : '';
  const ids = String(list)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const extra: Finding[] = [];
  if (!reason) {
    extra.push(
      newFinding(
        'policy/waiver-reason',
        fieldPath('metadata.annotations', WAIVE_REASON_ANNOTATION),
        `waiver of ${ids.join(', ')} has no reason: set ${WAIVE_REASON_ANNOTATION}`,
      ),
    );
  }
  const valid = new Set<string>();
  for (const id of ids) {
    if (!knownRuleIds.has(id) || id.startsWith('policy/')) {
      extra.push(newFinding('policy/waiver-unknown-rule', at, `"${id}" is not a rule that can be waived`));
    } else {
      valid.add(id);
    }
  }
  const used = new Set<string>();
  const marked = findings.map((f) => {
    if (!reason || !valid.has(f.ruleId)) return f;
    used.add(f.ruleId);
    return { ...f, waived: { reason } };
  });
  for (const id of reason ? valid : []) {
    if (!used.has(id))
      extra.push(newFinding('policy/waiver-unused', at, `waiver of "${id}" waives nothing on this object: remove it`));
  }
  return [...marked, ...extra];
}
