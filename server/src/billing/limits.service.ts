import { UserError } from '../graphql/errors.js';
import { PLAN_LIMITS, type PlanCode, type PlanLimits } from './plans.js';

const LIMIT_NAMES: Record<keyof PlanLimits, string> = {
  concurrentRuns: 'concurrent runs',
  computeSpawns: 'compute spawns',
  cloudAuths: 'cloud auths',
  registryAuths: 'registry auths',
  cronSchedules: 'cron schedules',
  logStorageMiB: 'MiB of log storage',
  logRetentionDays: 'days of log retention',
  members: 'members',
};

/** The one place plan limits are read and enforced; later domains call it before creating things. */
export class LimitsService {
  limitsOf(plan: PlanCode): PlanLimits {
    return PLAN_LIMITS[plan];
  }

  /** Throws LIMIT_EXCEEDED, naming the limit and the plan, when one more would pass the limit. */
  assertRoomForOneMore(plan: PlanCode, limit: keyof PlanLimits, current: number): void {
    const allowed = PLAN_LIMITS[plan][limit];
    if (current + 1 > allowed) {
      throw UserError.limitExceeded(
        `The ${plan} plan allows ${allowed} ${LIMIT_NAMES[limit]}; this organization has ${current}. ` +
          'Remove one or change plans.',
        { limit: allowed, name: limit, plan },
      );
    }
  }
}
