import { Cron } from 'croner';
import { UserError } from '../graphql/errors.js';

/**
 * Cron schedules read their expression with croner, the same way for previews
 * (here) and for firing (the scheduler): five fields, in an IANA timezone.
 */
export function cronOf(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, mode: '5-part', paused: true });
}

/** The expression, trimmed, or BAD_USER_INPUT saying what is wrong with it. */
export function checkCronExpression(expression: string, timezone: string, field = 'expression'): string {
  const text = expression.trim().replace(/\s+/g, ' ');
  let cron: Cron;
  try {
    cron = cronOf(text, timezone);
  } catch (error) {
    throw UserError.badUserInput(
      `"${expression}" is not a cron expression: ${(error as Error).message}. ` +
        'Use five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *" for 03:00 every day.',
      { field },
    );
  }
  if (!cron.nextRun()) {
    throw UserError.badUserInput(`"${expression}" never fires: no date matches it.`, { field });
  }
  return text;
}

/** The timezone, or BAD_USER_INPUT when it is not an IANA name this server knows. */
export function checkTimezone(timezone: string, field = 'timezone'): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw UserError.badUserInput(
      `"${timezone}" is not a timezone: use an IANA name such as Europe/Berlin, America/New_York or UTC.`,
      { field },
    );
  }
}

/** The next `count` slots strictly after `after`. */
export function nextFireTimes(
  expression: string,
  timezone: string,
  count: number,
  after = new Date(),
): Date[] {
  return cronOf(expression, timezone).nextRuns(count, after);
}
