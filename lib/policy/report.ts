/** The human report: one block per finding, then a summary line. */
import { Finding } from './types';

function objectName(f: Finding): string {
  return `${f.kind}/${f.namespace ? `${f.namespace}/` : ''}${f.name}`;
}

export function formatReport(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    const status = f.waived ? `waived ${f.severity}` : f.severity;
    lines.push(`${status.toUpperCase()} ${f.ruleId}  [${f.environment}] ${objectName(f)}`);
    lines.push(`  field:     ${f.fieldPath || '(object)'}`);
    lines.push(`  message:   ${f.message}`);
    lines.push(`  construct: ${f.constructPath ?? '(unknown)'}`);
    if (f.waived) lines.push(`  waived:    ${f.waived.reason}`);
  }
  const errors = findings.filter((f) => f.severity === 'error' && !f.waived).length;
  const warnings = findings.filter((f) => f.severity === 'warning' && !f.waived).length;
  const waived = findings.filter((f) => f.waived).length;
  const environments = [...new Set(findings.map((f) => f.environment))].sort();
  if (lines.length) lines.push('');
  lines.push(`policy: ${errors} error(s), ${warnings} warning(s), ${waived} waived${environments.length ? ` (${environments.join(', ')})` : ''}`);
  return lines.join('\n');
}

/** True when any error is not waived: the synth must stop. */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error' && !f.waived);
}
