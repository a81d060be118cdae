/**
 * The `npm run diff:envs` report, for a reviewer: counts per area first, then each area's
 * differences grouped by why they are expected, then by object. Plain text or Markdown.
 * Secret values are never shown: a Secret's data only says that it differs.
 */
import { AREAS } from './areas';
import { Difference, EnvDiffReport } from './env-diff';
import { markdownTable, textTable } from './table';

const SECTIONS = [...AREAS, 'unexpected'] as const;

/** The value as a reviewer reads it; multi-line text shows only its lines not in every environment. */
function showValue(d: Difference, index: number): string {
  const value = d.values[index];
  if (value === undefined) {
    return '(absent)';
  }
  if (d.kind === 'Secret' && d.path !== undefined && /^(data|stringData)[.[]/.test(d.path)) {
    return '(secret value, hidden)';
  }
  if (typeof value === 'string' && value.includes('\n')) {
    const all = d.values.filter((v): v is string => typeof v === 'string').map((v) => v.split('\n'));
    const own = value.split('\n').filter((line) => !all.every((lines) => lines.includes(line)));
    return own.length === 0 ? '(no lines of its own)' : own.map((l) => `+ ${l.trim()}`).join(' ; ');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Environments that share a value, listed together: `prod-eks, prod-gke: 3`. */
function groupedValues(d: Difference, envs: readonly string[]): { envs: string[]; value: string }[] {
  const groups: { envs: string[]; value: string }[] = [];
  envs.forEach((env, i) => {
    const value = showValue(d, i);
    const group = groups.find((g) => g.value === value);
    if (group) {
      group.envs.push(env);
    } else {
      groups.push({ envs: [env], value });
    }
  });
  return groups;
}

function bySection(report: EnvDiffReport): Map<string, Map<string, Difference[]>> {
  const sections = new Map<string, Map<string, Difference[]>>();
  for (const d of report.differences) {
    const reasons = sections.get(d.classification.area) ?? new Map<string, Difference[]>();
    const list = reasons.get(d.classification.reason) ?? [];
    list.push(d);
    reasons.set(d.classification.reason, list);
    sections.set(d.classification.area, reasons);
  }
  return sections;
}

function countOf(sections: Map<string, Map<string, Difference[]>>, area: string): number {
  return [...(sections.get(area)?.values() ?? [])].reduce((n, list) => n + list.length, 0);
}

function summaryLine(report: EnvDiffReport): string {
  return (
    `Compared ${report.environments.join(', ')}: ${report.objectCount} objects, ${report.objectsInAll} in every environment; ` +
    `${report.differences.length} differences, ${report.unexpected} unexpected.`
  );
}

/** Plain text for a terminal. */
export function formatEnvDiffText(report: EnvDiffReport): string {
  const sections = bySection(report);
  const out: string[] = [summaryLine(report), ''];
  out.push(
    textTable({ header: ['Area', 'Differences'], rows: SECTIONS.map((a) => [a, String(countOf(sections, a))]) }),
  );
  for (const area of SECTIONS) {
    const reasons = sections.get(area);
    if (!reasons) {
      continue;
    }
    out.push(`== ${area} (${countOf(sections, area)})`);
    for (const [reason, list] of reasons) {
      out.push(`  why: ${reason}`);
      for (const d of list) {
        out.push(`    ${d.object}${d.path === undefined ? ' (the object itself)' : `  ${d.path}`}`);
        for (const g of groupedValues(d, report.environments)) {
          out.push(`        ${g.envs.join(', ')}: ${g.value}`);
        }
      }
    }
    out.push('');
  }
  if (report.unexpected > 0) {
    out.push(
      `FAILED: ${report.unexpected} unexpected difference(s). A security context, a Pod Security label, a probe or a`,
      'NetworkPolicy must be the same everywhere; any other difference needs a rule with a reason in lib/review/areas.ts.',
    );
  } else {
    out.push('OK: every difference belongs to an area.');
  }
  return out.join('\n') + '\n';
}

/** Markdown, for a pull request or a README. */
export function formatEnvDiffMarkdown(report: EnvDiffReport): string {
  const sections = bySection(report);
  const out: string[] = ['## Differences between environments', '', summaryLine(report), ''];
  out.push(
    markdownTable({ header: ['Area', 'Differences'], rows: SECTIONS.map((a) => [a, String(countOf(sections, a))]) }),
  );
  for (const area of SECTIONS) {
    const reasons = sections.get(area);
    if (!reasons) {
      continue;
    }
    out.push(`### ${area} (${countOf(sections, area)})`, '');
    for (const [reason, list] of reasons) {
      out.push(`Why: ${reason}`, '');
      out.push(
        markdownTable({
          header: ['Object', 'Field', ...report.environments],
          rows: list.map((d) => [
            d.object,
            d.path === undefined ? '(the object itself)' : `\`${d.path}\``,
            ...report.environments.map((_e, i) => showValue(d, i)),
          ]),
        }),
      );
    }
  }
  out.push(
    report.unexpected > 0
      ? `**FAILED: ${report.unexpected} unexpected difference(s).**`
      : 'Every difference belongs to an area.',
  );
  return out.join('\n') + '\n';
}

/**
 * What `npm run diff:envs` prints: the whole report when a difference is unexpected (the reader
 * needs it to fix the code) or when asked for (`verbose`, or Markdown, which is always for a
 * reader); otherwise one line, so that the report does not bury the output around it (`npm run
 * test:unit` ends with it, after jest's summary).
 */
export function envDiffOutput(
  report: EnvDiffReport,
  options: { readonly verbose: boolean; readonly markdown: boolean },
): string {
  if (options.markdown) {
    return formatEnvDiffMarkdown(report);
  }
  if (options.verbose || report.unexpected > 0) {
    return formatEnvDiffText(report);
  }
  const areas = new Set(report.differences.map((d) => d.classification.area)).size;
  return (
    `diff:envs: ${report.environments.length} environments (${report.environments.join(', ')}), ${report.objectCount} objects, ` +
    `${report.differences.length} differences in ${areas} area${areas === 1 ? '' : 's'}, none unexpected; --verbose for the report\n`
  );
}
