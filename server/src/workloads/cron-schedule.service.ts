import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { MembershipRole } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import type { Viewer } from '../accounts/viewer.js';
import type { LimitsService } from '../billing/limits.service.js';
import { isValidId } from '../db/ids.js';
import { UserError } from '../graphql/errors.js';
import { checkCronExpression, checkTimezone, cronOf, nextFireTimes } from './cron-expression.js';
import { CronSchedule } from './cron-schedule.entity.js';
import type { CreateCronScheduleInput, UpdateCronScheduleInput } from './cron-schedule.types.js';
import { EnvVarSource, type EnvVar, type EnvVars, type SealedEnv } from './env-vars.js';
import { checkSubmittable, type JobService } from './job.service.js';
import type { JobOverrides } from './job.entity.js';
import { loaded } from './load.js';
import type { WorkloadReferences } from './reference.js';
import { parseResourceName } from './resource-name.js';
import { checkInteger } from './validation.js';
import { checkCommand, checkParameters } from './workloads.types.js';

const PREVIEW_COUNT = { min: 1, max: 50 };

export interface CronScheduleServiceDeps {
  organizations: OrganizationService;
  references: WorkloadReferences;
  envVars: EnvVars;
  jobs: JobService;
  limits: LimitsService;
}

/**
 * Cron schedules: saved here, fired by the scheduler (scheduler/cron.ts) at each
 * `nextFireAt`, which is set whenever the timing or the enabled flag changes.
 */
export class CronScheduleService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: CronScheduleServiceDeps,
  ) {}

  async create(viewer: Viewer, input: CreateCronScheduleInput): Promise<CronSchedule> {
    const { definition, queue } = await this.deps.jobs.resolveDefinitionAndQueue(
      viewer,
      input.definition,
      input.queue,
    );
    const project = definition.project;
    const name = parseResourceName(input.name);
    const timezone = checkTimezone(input.timezone);
    const expression = checkCronExpression(input.expression, timezone);
    const overrides = {
      ...(input.command ? { command: checkCommand(input.command, 'command') } : {}),
      parameters: checkParameters(input.parameters, 'parameters'),
    };
    checkSubmittable(project, definition.entity, overrides);
    const existing = await this.em.count(CronSchedule, { project: { organization: project.organization } });
    this.deps.limits.assertRoomForOneMore(project.organization.plan, 'cronSchedules', existing);
    if ((await this.em.count(CronSchedule, { project, name })) > 0) throw nameTaken(name);

    const id = uuidv7();
    const env = await this.deps.envVars.seal('cron_schedule', id, input.env, 'env');
    const schedule = this.em.create(CronSchedule, {
      id,
      project,
      name,
      expression,
      timezone,
      overlapPolicy: input.overlapPolicy,
      enabled: input.enabled,
      definition: definition.entity,
      queue: queue.entity,
      overrides: { ...overrides, env },
      nextFireAt: input.enabled ? nextSlot(expression, timezone) : undefined,
      createdBy: viewer.userId,
    });
    await this.save(schedule, env);
    return schedule;
  }

  async update(viewer: Viewer, input: UpdateCronScheduleInput): Promise<CronSchedule> {
    const schedule = await this.requireSchedule(viewer, input.schedule, MembershipRole.MEMBER);
    const project = await loaded(schedule.project);
    if (input.definition != null || input.queue != null) {
      const { definition, queue } = await this.deps.jobs.resolveDefinitionAndQueue(
        viewer,
        input.definition ?? schedule.definition.id,
        input.queue ?? schedule.queue.id,
      );
      if (definition.project.id !== project.id) {
        throw UserError.badUserInput(
          'A schedule stays in its project: pick a definition and queue of the same project.',
          { field: input.definition != null ? 'definition' : 'queue' },
        );
      }
      schedule.definition = definition.entity;
      schedule.queue = queue.entity;
    }
    if (input.name != null) schedule.name = parseResourceName(input.name);
    if (input.overlapPolicy != null) schedule.overlapPolicy = input.overlapPolicy;

    const timing = {
      expression: schedule.expression,
      timezone: schedule.timezone,
      enabled: schedule.enabled,
    };
    if (input.timezone != null) schedule.timezone = checkTimezone(input.timezone);
    if (input.expression != null)
      schedule.expression = checkCronExpression(input.expression, schedule.timezone);
    if (input.enabled != null) schedule.enabled = input.enabled;
    const timingChanged =
      timing.expression !== schedule.expression ||
      timing.timezone !== schedule.timezone ||
      timing.enabled !== schedule.enabled;
    // A slot already due and not yet fired keeps firing when only other fields change.
    if (timingChanged) {
      schedule.nextFireAt = schedule.enabled ? nextSlot(schedule.expression, schedule.timezone) : undefined;
    }

    const overrides: JobOverrides = { ...schedule.overrides, env: schedule.overrides.env ?? [] };
    if (input.resetCommand) delete overrides.command;
    else if (input.command) overrides.command = checkCommand(input.command, 'command');
    if (input.parameters) overrides.parameters = checkParameters(input.parameters, 'parameters');
    checkSubmittable(project, await loaded(schedule.definition), overrides);

    const replacedEnv = input.env ? overrides.env : [];
    if (input.env) {
      overrides.env = await this.deps.envVars.seal(
        'cron_schedule',
        schedule.id,
        input.env,
        'env',
        this.sealedEnv(schedule),
      );
    }
    schedule.overrides = overrides;
    await this.save(schedule, input.env ? overrides.env : []);
    await this.deps.envVars.destroy(replacedEnv);
    return schedule;
  }

  async delete(viewer: Viewer, scheduleId: string): Promise<string> {
    const schedule = await this.requireSchedule(viewer, scheduleId, MembershipRole.MEMBER);
    this.em.remove(schedule);
    await this.em.flush();
    await this.deps.envVars.destroy(schedule.overrides.env ?? []);
    return schedule.id;
  }

  async list(viewer: Viewer, projectId: string): Promise<CronSchedule[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    return this.em.find(CronSchedule, { project }, { orderBy: { name: 'asc' } });
  }

  get(viewer: Viewer, scheduleId: string): Promise<CronSchedule> {
    return this.requireSchedule(viewer, scheduleId, MembershipRole.VIEWER);
  }

  /** The next `count` slots from now, whether or not the schedule is enabled. */
  nextFireTimes(schedule: CronSchedule, count: number): Date[] {
    checkInteger(count, PREVIEW_COUNT, 'count');
    return nextFireTimes(schedule.expression, schedule.timezone, count);
  }

  environment(schedule: CronSchedule): Promise<EnvVar[]> {
    return this.deps.envVars.view(this.sealedEnv(schedule), EnvVarSource.JOB);
  }

  private sealedEnv(schedule: CronSchedule): SealedEnv {
    return { owner: 'cron_schedule', ownerId: schedule.id, vars: schedule.overrides.env ?? [] };
  }

  /** Flushes; on failure the values sealed for it are shredded, as nothing refers to them. */
  private async save(schedule: CronSchedule, sealed: CronSchedule['overrides']['env']): Promise<void> {
    try {
      await this.em.flush();
    } catch (error) {
      await this.deps.envVars.destroy(sealed);
      if (error instanceof UniqueConstraintViolationException) throw nameTaken(schedule.name);
      throw error;
    }
  }

  private async requireSchedule(
    viewer: Viewer,
    scheduleId: string,
    minimum: MembershipRole,
  ): Promise<CronSchedule> {
    const schedule = isValidId(scheduleId) ? await this.em.findOne(CronSchedule, { id: scheduleId }) : null;
    if (!schedule) throw UserError.notFound('Cron schedule', scheduleId);
    await this.deps.references.access(viewer, schedule.project.id, minimum, {
      what: 'Cron schedule',
      id: scheduleId,
    });
    return schedule;
  }
}

function nextSlot(expression: string, timezone: string): Date | undefined {
  return cronOf(expression, timezone).nextRun() ?? undefined;
}

function nameTaken(name: string): UserError {
  return UserError.conflict(`A cron schedule named ${name} already exists in this project.`, {
    field: 'name',
  });
}
