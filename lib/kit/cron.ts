import { CronExpressionParser } from 'cron-parser';
import { Problems } from './validation';

/**
 * CronJob schedules and time zones, checked the way the Kubernetes API server checks them
 * (it parses schedules with robfig/cron's standard parser): five fields, or one of its macros.
 */

/** The macros the CronJob controller accepts in place of five fields. */
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export const CRON_SCHEDULE_RULE =
  `five cron fields "minute hour day-of-month month day-of-week" (e.g. "30 2 * * *") or one of ${MACROS.join(', ')}`;

/** Whether a CronJob would accept the schedule. */
export function isCronSchedule(schedule: string): boolean {
  const text = schedule.trim();
  if (MACROS.includes(text)) {
    return true;
  }
  // cron-parser also reads a sixth (seconds) field and the Quartz L, W and # forms, which the
  // CronJob controller does not: rule those out before asking it for the rest (ranges, steps, names).
  if (text.split(/\s+/).length !== 5 || /[LW#]/.test(text.replace(/[A-Za-z]{3}/g, ''))) {
    return false;
  }
  try {
    CronExpressionParser.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether the IANA time zone database knows the zone (the API server validates spec.timeZone against it). */
export function isTimeZone(zone: string): boolean {
  if (zone === '' || zone.toLowerCase() === 'local') {
    return false;
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
export function checkSchedule(p: Problems, field: string, schedule: string, timeZoneField: string, timeZone: string): void {
  p.check(isCronSchedule(schedule), field, schedule, CRON_SCHEDULE_RULE);
  p.check(isTimeZone(timeZone), timeZoneField, timeZone, 'an IANA time zone name such as "Etc/UTC" or "Europe/Berlin"');
}
