// The schedule form's preview: the expression in words (cronstrue) and its next slots (croner, read
// the way the server reads it: five fields, in the schedule's IANA timezone).
import { Cron } from 'croner';
import cronstrue from 'cronstrue';

export type CronPreview =
  { ok: true; description: string; nextRuns: Date[] } | { ok: false; problem: string };

export function previewCron(
  expression: string,
  timezone: string,
  count = 5,
  after = new Date(),
): CronPreview {
  const text = expression.trim().replace(/\s+/g, ' ');
  if (!text) return { ok: false, problem: 'Enter five fields: minute hour day-of-month month day-of-week.' };
  if (text.split(' ').length !== 5) {
    return { ok: false, problem: 'Use exactly five fields: minute hour day-of-month month day-of-week.' };
  }
  let nextRuns: Date[];
  try {
    nextRuns = new Cron(text, { timezone, mode: '5-part', paused: true }).nextRuns(count, after);
  } catch (error) {
    return { ok: false, problem: `Not a cron expression: ${(error as Error).message}.` };
  }
  if (nextRuns.length === 0)
    return { ok: false, problem: 'This expression never fires: no date matches it.' };
  return { ok: true, description: describeCron(text), nextRuns };
}

/** "At 03:00 AM", "Every 5 minutes"…; the expression itself if cronstrue cannot read it. */
export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return expression;
  }
}

/** A slot in the schedule's own timezone, with the zone's abbreviation: "Mon 1 Dec 2026, 03:00 CET". */
export function formatInTimeZone(at: Date | string, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(typeof at === 'string' ? new Date(at) : at);
}

/** The IANA timezones this browser knows, UTC first. */
export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return ['UTC', ...zones.filter((zone) => zone !== 'UTC')];
}
