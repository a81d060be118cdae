import { isCronSchedule, isTimeZone } from './cron';

describe('CronJob schedules, as the CronJob controller reads them', () => {
  test.each([
    '30 2 * * *', '*/15 * * * *', '0 0 1 1 *', '0 9-17 * * MON-FRI', '0 0 * JAN,JUL SUN', '5 4 ? * *',
    '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly',
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
