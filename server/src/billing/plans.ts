/** The plans an organization can be on. */
export enum PlanCode {
  FREE = 'FREE',
  PRO = 'PRO',
  TEAM = 'TEAM',
}

/** What a plan allows; 0 never means unlimited here, every limit is a number. */
export interface PlanLimits {
  concurrentRuns: number;
  computeSpawns: number;
  cloudAuths: number;
  registryAuths: number;
  cronSchedules: number;
  logStorageMiB: number;
  logRetentionDays: number;
  members: number;
}

export const PLAN_LIMITS: Record<PlanCode, PlanLimits> = {
  // Daestro's published free tier.
  [PlanCode.FREE]: {
    concurrentRuns: 10,
    computeSpawns: 2,
    cloudAuths: 1,
    registryAuths: 1,
    cronSchedules: 1,
    logStorageMiB: 500,
    logRetentionDays: 1,
    members: 3,
  },
  [PlanCode.PRO]: {
    concurrentRuns: 100,
    computeSpawns: 20,
    cloudAuths: 10,
    registryAuths: 10,
    cronSchedules: 50,
    logStorageMiB: 20 * 1024,
    logRetentionDays: 30,
    members: 5,
  },
  [PlanCode.TEAM]: {
    concurrentRuns: 500,
    computeSpawns: 100,
    cloudAuths: 50,
    registryAuths: 50,
    cronSchedules: 500,
    logStorageMiB: 200 * 1024,
    logRetentionDays: 90,
    members: 50,
  },
};
