import { checkSchedule, cronScheduleProblem, isCronSchedule, isTimeZone } from './cron';
import { Problems } from './validation';

describe('CronJob schedules, as the CronJob controller reads them', () => {
  test.each([
    '30 2 * * *',
    '*/15 * * * *',
    '0 0 1 1 *',
    '0 9-17 * * MON-FRI',
    '0 0 * JAN,JUL SUN',
    '5 4 ? * *',
    '0 0 29 2 *',
    '0 0 31 1-2 *',
    '0 0 30 2 MON',
    '0 0 */10 FEB *',
    '@yearly',
    '@annually',
    '@monthly',
    '@weekly',
    '@daily',
    '@midnight',
    '@hourly',
  ])('accepts %s', (schedule) => {
    expect(isCronSchedule(schedule)).toBe(true);
  });

  test.each([
    ['', 'empty'],
    ['every night', 'words'],
    ['* * * *', 'four fields'],
    ['0 30 2 * * *', 'a seconds field'],
    ['60 * * * *', 'minute out of range'],
    ['0 24 * * *', 'hour out of range'],
    ['0 0 32 * *', 'day out of range'],
    ['0 0 * * 7', "day-of-week 7: the API server's parser (robfig/cron) allows 0-6 only"],
    ['0 0 L * *', 'Quartz last-day'],
    ['0 0 15W * *', 'Quartz weekday'],
    ['0 0 * * 1#2', 'Quartz nth weekday'],
    ['@every 1h', 'a descriptor the API server does not document'],
    ['@reboot', 'no reboot in a cluster'],
    ['TZ=UTC 0 0 * * *', 'a time zone inside the schedule (spec.timeZone is the field for it)'],
  ])('refuses %p (%s)', (schedule) => {
    expect(isCronSchedule(schedule)).toBe(false);
  });
});

describe('time zones', () => {
  test.each(['Etc/UTC', 'UTC', 'Europe/Berlin', 'America/New_York'])('accepts %s', (zone) => {
    expect(isTimeZone(zone)).toBe(true);
  });

  test.each(['', 'Local', 'Mars/Olympus', 'CET+1'])('refuses %p', (zone) => {
    expect(isTimeZone(zone)).toBe(false);
  });
});

describe('a refused schedule says which field is wrong', () => {
  test.each([
    ['60 * * * *', 'the minute field: 60 is out of range 0-59'],
    ['0 24 * * *', 'the hour field: 24 is out of range 0-23'],
    ['0 0 32 * *', 'the day-of-month field: 32 is out of range 1-31'],
    ['0 0 0 * *', 'the day-of-month field: 0 is out of range 1-31'],
    ['0 0 * 13 *', 'the month field: 13 is out of range 1-12'],
    ['0 0 * * 7', 'the day-of-week field: 7 is out of range 0-6'],
    ['0 0 * * MOO', 'the day-of-week field: "MOO" is not a number or a name (0-6 or SUN-SAT)'],
    ['0 0 L * *', 'the day-of-month field: "L" is not a number or a name (1-31)'],
    ['*/0 * * * *', 'the minute field: "*/0" has a step that is not a whole number above zero'],
    ['0 17-9 * * *', 'the hour field: the range "17-9" runs backwards'],
    ['* * * *', '4 fields, not five'],
    ['@reboot', '"@reboot" is not one of the macros'],
    // Accepted by the API server, but no such day ever comes.
    ['0 0 30 2 *', 'the day-of-month field: no month in "2" has day 30, so the CronJob would never run'],
    [
      '0 0 31 APR,JUN,SEP,NOV ?',
      'the day-of-month field: no month in "APR,JUN,SEP,NOV" has day 31, so the CronJob would never run',
    ],
    ['0 0 30-31/1,31 2 *', 'the day-of-month field: no month in "2" has day 30, so the CronJob would never run'],
    ['0 0 30/5 FEB-FEB *', 'the day-of-month field: no month in "FEB-FEB" has day 30, so the CronJob would never run'],
  ])('%p: %s', (schedule, problem) => {
    expect(cronScheduleProblem(schedule)).toBe(problem);
  });

  test.each([
    ['CRON_TZ=Europe/Berlin 30 2 * * *', 'CRON_TZ=Europe/Berlin'],
    ['TZ=UTC 0 0 * * *', 'TZ=UTC'],
    ['CRON_TZ=America/New_York @daily', 'CRON_TZ=America/New_York'],
  ])('%p: a time zone prefix is its own field', (schedule, prefix) => {
    expect(cronScheduleProblem(schedule)).toBe(
      `"${prefix}" is a time zone, which is its own field (a CronJob's spec.timeZone), not part of the schedule`,
    );
  });

  test("a time zone prefix names the construct's time zone field and the two values to write", () => {
    const p = new Problems('lab/batch');
    checkSchedule(p, 'backupSchedule', 'CRON_TZ=Europe/Berlin 30 2 * * *', 'backupTimeZone', 'Etc/UTC');
    expect(() => p.throwIfAny()).toThrow(
      'lab/batch: backupSchedule: Invalid value: "CRON_TZ=Europe/Berlin 30 2 * * *": a schedule without ' +
        'a time zone: the time zone is its own field, backupTimeZone (here backupTimeZone: "Europe/Berlin" and backupSchedule: "30 2 * * *")',
    );
    const q = new Problems('lab/etcd-backup');
    checkSchedule(q, 'schedule', 'TZ=UTC 0 */6 * * *', 'timeZone', 'Etc/UTC');
    expect(q.problems.map((x) => x.allowed)).toEqual([
      'a schedule without a time zone: the time zone is its own field, timeZone ' +
        '(here timeZone: "UTC" and schedule: "0 */6 * * *")',
    ]);
  });

  test("the construct's error carries it", () => {
    const p = new Problems('lab/batch');
    checkSchedule(p, 'backupSchedule', '0 24 * * *', 'backupTimeZone', 'Etc/UTC');
    expect(() => p.throwIfAny()).toThrow(
      'lab/batch: backupSchedule: Invalid value: "0 24 * * *": five cron fields ' +
        '"minute hour day-of-month month day-of-week" (e.g. "30 2 * * *") or one of @yearly, @annually, @monthly, @weekly, @daily, ' +
        '@midnight, @hourly; here the hour field: 24 is out of range 0-23',
    );
  });
});
