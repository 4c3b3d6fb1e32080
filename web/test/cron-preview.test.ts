import { describe, expect, it } from 'vitest';
import { describeCron, formatInTimeZone, previewCron, timeZones } from '../src/workloads/cron-preview';

describe('the cron preview', () => {
  it('describes the expression and lists the next slots in the schedule’s timezone', () => {
    const after = new Date('2026-03-28T12:00:00Z');
    const preview = previewCron('0 3 * * *', 'Europe/Berlin', 3, after);
    if (!preview.ok) throw new Error(preview.problem);
    expect(preview.description).toBe('At 03:00');
    // 03:00 in Berlin is 02:00 UTC in winter and 01:00 UTC once summer time starts (29 March 2026).
    expect(preview.nextRuns.map((at) => at.toISOString())).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T01:00:00.000Z',
      '2026-03-31T01:00:00.000Z',
    ]);
    expect(formatInTimeZone(preview.nextRuns[0]!, 'Europe/Berlin')).toMatch(/03:00/);
  });

  it('says what is wrong instead of previewing', () => {
    expect(previewCron('', 'UTC')).toEqual({ ok: false, problem: expect.stringMatching(/five fields/) });
    expect(previewCron('* * * *', 'UTC')).toEqual({
      ok: false,
      problem: expect.stringMatching(/exactly five/),
    });
    expect(previewCron('61 * * * *', 'UTC')).toEqual({
      ok: false,
      problem: expect.stringMatching(/^Not a cron expression/),
    });
    expect(previewCron('0 0 31 2 *', 'UTC')).toEqual({
      ok: false,
      problem: expect.stringMatching(/never fires/),
    });
  });

  it('falls back to the expression when it cannot be put in words', () => {
    expect(describeCron('*/15 * * * *')).toBe('Every 15 minutes');
    expect(describeCron('not cron')).toBe('not cron');
  });

  it('offers UTC first among the timezones', () => {
    const zones = timeZones();
    expect(zones[0]).toBe('UTC');
    expect(zones).toContain('Europe/Berlin');
  });
});
