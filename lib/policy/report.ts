/** The human report: one block per finding that needs attention, then a summary line that counts them all. */
import { Finding } from './types';

function objectName(f: Finding): string {
  return `${f.kind}/${f.namespace ? `${f.namespace}/` : ''}${f.name}`;
}

export interface ReportOptions {
  /**
   * List the waived findings, each with its recorded reason, after the errors and warnings.
   * @default false: the summary line counts them
   */
  readonly listWaived?: boolean;
}

/** Errors first, then warnings (what needs attention), then waived findings if asked for. */
const LISTING_ORDER = [
  (f: Finding) => f.severity === 'error' && !f.waived,
  (f: Finding) => f.severity !== 'error' && !f.waived,
  (f: Finding) => f.waived !== undefined,
];

export function formatReport(findings: readonly Finding[], options: ReportOptions = {}): string {
  const lines: string[] = [];
  const listed = (options.listWaived ? LISTING_ORDER : LISTING_ORDER.slice(0, 2)).flatMap((shown) =>
    findings.filter(shown),
  );
  for (const f of listed) {
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
  lines.push(
    `policy: ${errors} error(s), ${warnings} warning(s), ${waived} waived${environments.length ? ` (${environments.join(', ')})` : ''}`,
  );
  return lines.join('\n');
}

/** True when any error is not waived: the synth must stop. */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error' && !f.waived);
}
