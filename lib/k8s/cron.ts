import { Problems } from './validation';

/**
 * CronJob schedules and time zones, checked the way the Kubernetes API server checks them
 * (it parses schedules with robfig/cron's standard parser): five fields, or one of its macros.
 */

/** The macros the CronJob controller accepts in place of five fields. */
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export const CRON_SCHEDULE_RULE = `five cron fields "minute hour day-of-month month day-of-week" (e.g. "30 2 * * *") or one of ${MACROS.join(', ')}`;

/**
 * The five fields, with the bounds and names robfig/cron's standard parser gives them (the API
 * server's: day-of-week is 0-6, Sunday 0; a 7 is refused there, though many crons read it as Sunday).
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

type Field = (typeof FIELDS)[number];

const namesOf = (field: Field): readonly string[] => ('names' in field ? field.names : []);

/** A number or a name (`3`, `MAR`) as the field's value, or undefined. */
function fieldValue(field: Field, text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const i = namesOf(field).indexOf(text.toLowerCase());
  return i < 0 ? undefined : i + field.min;
}

/** What is wrong with one field's text, or undefined: lists of `*`, `?`, `n`, `a-b`, each with an optional `/step`. */
function fieldProblem(field: Field, text: string): string | undefined {
  const names = namesOf(field);
  const valueOf = (v: string) => fieldValue(field, v);
  const range = `${field.min}-${field.max}${names.length > 0 ? ` or ${names[0].toUpperCase()}-${names[names.length - 1].toUpperCase()}` : ''}`;
  for (const part of text.split(',')) {
    const [span, step, extra] = part.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) {
      return `the ${field.name} field: "${part}" has a step that is not a whole number above zero`;
    }
    if (span === '*' || span === '?') continue;
    const ends = span.split('-');
    if (ends.length > 2) return `the ${field.name} field: "${part}" is not a value, a range or "*"`;
    const values = ends.map(valueOf);
    const bad = ends.find((_, i) => values[i] === undefined);
    if (bad !== undefined) return `the ${field.name} field: "${bad}" is not a number or a name (${range})`;
    const outside = values.find((v) => v! < field.min || v! > field.max);
    if (outside !== undefined) return `the ${field.name} field: ${outside} is out of range ${field.min}-${field.max}`;
    if (values.length === 2 && values[0]! > values[1]!) {
      return `the ${field.name} field: the range "${span}" runs backwards`;
    }
  }
  return undefined;
}

/**
 * What is wrong with a schedule, naming the field (`the hour field: 24 is out of range 0-23`), or
 * undefined if a CronJob would accept it.
 */
export function cronScheduleProblem(schedule: string): string | undefined {
  const text = schedule.trim();
  const zone = timeZonePrefix(text);
  if (zone !== undefined) {
    return `"${zone.prefix}" is a time zone, which is its own field (a CronJob's spec.timeZone), not part of the schedule`;
  }
  if (text.startsWith('@')) {
    return MACROS.includes(text) ? undefined : `"${text}" is not one of the macros`;
  }
  const fields = text === '' ? [] : text.split(/\s+/);
  if (fields.length !== 5) {
    return `${fields.length} field${fields.length === 1 ? '' : 's'}, not five`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(field, fields[i]);
    if (problem !== undefined) return problem;
  }
  return neverRunsProblem(fields[2], fields[3], fields[4]);
}

/**
 * A `CRON_TZ=<zone>` or `TZ=<zone>` prefix: robfig/cron reads it, but the API server refuses it in a
 * CronJob's schedule since spec.timeZone exists (Kubernetes 1.27: "cannot use TZ or CRON_TZ in
 * schedule, use timeZone field instead"). The zone and the schedule that follows, or undefined.
 */
function timeZonePrefix(text: string): { prefix: string; zone: string; rest: string } | undefined {
  const match = /^((?:CRON_)?TZ=(\S*))\s*(.*)$/.exec(text);
  return match === null ? undefined : { prefix: match[1], zone: match[2], rest: match[3] };
}

/** The most days each month can have (February's 29th comes in leap years). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The values a field's text (already checked by fieldProblem) selects: `*` and `?` are the whole
 * range, `n/step` runs from n to the end, as robfig/cron reads them.
 */
function fieldValues(field: Field, text: string): number[] {
  const valueOf = (v: string) => fieldValue(field, v)!;
  const values: number[] = [];
  for (const part of text.split(',')) {
    const [span, step] = part.split('/');
    const ends = span === '*' || span === '?' ? [field.min, field.max] : span.split('-').map(valueOf);
    const last = ends.length === 2 ? ends[1] : step === undefined ? ends[0] : field.max;
    for (let v = ends[0]; v <= last; v += step === undefined ? 1 : Number(step)) {
      values.push(v);
    }
  }
  return values;
}

/**
 * A schedule the API server accepts but that never runs: only days no listed month has (`0 0 30 2
 * *`, the 30th of February), with day-of-week `*`. robfig/cron then needs both day fields to match;
 * with a day-of-week listed, either one matching runs the Job, so such a schedule does run.
 */
function neverRunsProblem(dayOfMonth: string, month: string, dayOfWeek: string): string | undefined {
  if (dayOfWeek !== '*' && dayOfWeek !== '?') {
    return undefined;
  }
  const days = fieldValues(FIELDS[2], dayOfMonth);
  const months = fieldValues(FIELDS[3], month);
  if (days.some((day) => months.some((m) => day <= DAYS_IN_MONTH[m - 1]))) {
    return undefined;
  }
  return `the day-of-month field: no month in "${month}" has day ${Math.min(...days)}, so the CronJob would never run`;
}

/** Whether a CronJob would accept the schedule. */
export function isCronSchedule(schedule: string): boolean {
  return cronScheduleProblem(schedule) === undefined;
}

/** Whether the IANA time zone database knows the zone (the API server validates spec.timeZone against it). */
export function isTimeZone(zone: string): boolean {
  if (zone === '' || zone.toLowerCase() === 'local') {
    return false;
  }
  // The default of every schedule here, and a name every time zone database has: known without
  // asking ICU, whose first formatter costs about 15 ms, a twentieth of a one-environment synth.
  if (zone === 'Etc/UTC' || zone === 'UTC') {
    return true;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A CronJob's name becomes part of its Jobs' names plus an 11-character suffix, within 63. */
export const CRONJOB_NAME_MAX = 52;

/** Records problems with a schedule and its time zone. */
export function checkSchedule(
  p: Problems,
  field: string,
  schedule: string,
  timeZoneField: string,
  timeZone: string,
): void {
  const zone = timeZonePrefix(schedule.trim());
  if (zone !== undefined) {
    // Say where the zone goes, by the field's own name, and what the two values would be.
    p.check(
      false,
      field,
      schedule,
      `a schedule without a time zone: the time zone is its own field, ${timeZoneField} ` +
        `(here ${timeZoneField}: ${JSON.stringify(zone.zone)} and ${field}: ${JSON.stringify(zone.rest)})`,
    );
  } else {
    const problem = cronScheduleProblem(schedule);
    p.check(problem === undefined, field, schedule, `${CRON_SCHEDULE_RULE}; here ${problem}`);
  }
  p.check(isTimeZone(timeZone), timeZoneField, timeZone, 'an IANA time zone name such as "Etc/UTC" or "Europe/Berlin"');
}
