import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MembershipRole } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import type { Viewer } from '../accounts/viewer.js';
import { UserError } from '../graphql/errors.js';
import { notifyScheduler } from '../scheduler/notify.js';
import type { ComputeEnvironment } from './compute-environment.entity.js';
import { CronSchedule } from './cron-schedule.entity.js';
import { JobQueue, JobQueueLink } from './job-queue.entity.js';
import type {
  CreateJobQueueInput,
  SetJobQueueComputeEnvironmentsInput,
  SetJobQueueEnabledInput,
  UpdateJobQueueInput,
} from './job-queue.types.js';
import { TERMINAL_JOB_STATES } from './job-state.js';
import { Job } from './job.entity.js';
import { inTransaction, loaded } from './load.js';
import { formatReference, type WorkloadReferences } from './reference.js';
import { parseResourceName } from './resource-name.js';
import { checkInteger } from './validation.js';

const PRIORITY = { min: 1, max: 1000 };
const MAX_CONCURRENCY = { min: 0, max: 100_000 };
const MAX_IDLE_SECONDS = { min: 0, max: 7 * 24 * 3600 };

export interface JobQueueServiceDeps {
  organizations: OrganizationService;
  references: WorkloadReferences;
}

/**
 * Job queues and their ordered links to compute environments. The rule "enabled
 * only with a linked environment" is checked and kept under a lock on the queue
 * row, so a concurrent unlink and enable cannot leave an enabled queue with none.
 */
export class JobQueueService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: JobQueueServiceDeps,
  ) {}

  async create(viewer: Viewer, input: CreateJobQueueInput): Promise<JobQueue> {
    const { project } = await this.deps.organizations.requireProject(
      viewer,
      input.projectId,
      MembershipRole.MEMBER,
    );
    const name = parseResourceName(input.name);
    const queue = this.em.create(JobQueue, {
      project,
      name,
      description: input.description.trim(),
      ...checkSettings(input),
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw UserError.conflict(`A job queue named ${name} already exists in this project.`, {
          field: 'name',
        });
      }
      throw error;
    }
    return queue;
  }

  async update(viewer: Viewer, input: UpdateJobQueueInput): Promise<JobQueue> {
    const queue = await this.requireQueue(viewer, input.queue, MembershipRole.MEMBER);
    Object.assign(
      queue,
      checkSettings({
        priority: input.priority ?? queue.priority,
        maxConcurrency: input.maxConcurrency ?? queue.maxConcurrency,
        maxIdleSeconds: input.maxIdleSeconds ?? queue.maxIdleSeconds,
      }),
    );
    if (input.description != null) queue.description = input.description.trim();
    await this.em.flush();
    await notifyScheduler(this.em, 'queue.changed');
    return queue;
  }

  async setEnabled(viewer: Viewer, input: SetJobQueueEnabledInput): Promise<JobQueue> {
    const queue = await this.requireQueue(viewer, input.queue, MembershipRole.MEMBER);
    await inTransaction(this.em, async () => {
      const locked = await this.lock(queue);
      if (input.enabled && (await this.em.count(JobQueueLink, { queue: locked })) === 0) {
        throw UserError.conflict(
          `Queue ${locked.name} has no compute environment to run on: link one ` +
            '(setJobQueueComputeEnvironments), then enable it.',
          { field: 'enabled' },
        );
      }
      locked.enabled = input.enabled;
      await notifyScheduler(this.em, 'queue.changed');
    });
    return queue;
  }

  /** Replaces the links, in order; with none left the queue is disabled. */
  async setComputeEnvironments(
    viewer: Viewer,
    input: SetJobQueueComputeEnvironmentsInput,
  ): Promise<JobQueue> {
    const { entity: queue, project } = await this.deps.references.queue(viewer, input.queue, {
      field: 'queue',
      minimum: MembershipRole.MEMBER,
    });
    const environments: ComputeEnvironment[] = [];
    for (const text of input.computeEnvironments) {
      const { entity } = await this.deps.references.computeEnvironment(viewer, text, {
        field: 'computeEnvironments',
        minimum: MembershipRole.MEMBER,
        organizationId: project.organization.id,
      });
      if (entity.project.id !== project.id) {
        throw UserError.badUserInput(
          `Compute environment ${entity.name} belongs to another project; a queue runs on environments of its own project.`,
          { field: 'computeEnvironments' },
        );
      }
      if (environments.some((linked) => linked.id === entity.id)) {
        throw UserError.badUserInput(`Compute environment ${entity.name} is listed twice.`, {
          field: 'computeEnvironments',
        });
      }
      environments.push(entity);
    }
    await inTransaction(this.em, async () => {
      const locked = await this.lock(queue);
      await this.em.nativeDelete(JobQueueLink, { queue: locked });
      if (environments.length > 0) {
        await this.em.insertMany(
          JobQueueLink,
          environments.map((environment, position) => ({
            queue: locked,
            computeEnvironment: environment,
            position,
          })),
        );
      }
      if (environments.length === 0) locked.enabled = false;
      await notifyScheduler(this.em, 'queue.changed');
    });
    return queue;
  }

  /** Refused while the queue has unfinished jobs or schedules submit to it; its finished jobs go with it. */
  async delete(viewer: Viewer, queueText: string): Promise<string> {
    const queue = await this.requireQueue(viewer, queueText, MembershipRole.MEMBER);
    await inTransaction(this.em, async () => {
      const locked = await this.lock(queue);
      const unfinished = await this.em.count(Job, {
        queue: locked,
        state: { $nin: [...TERMINAL_JOB_STATES] },
      });
      if (unfinished > 0) {
        throw UserError.conflict(
          `Queue ${locked.name} still has ${unfinished} unfinished job${unfinished === 1 ? '' : 's'}: ` +
            'cancel them or let them finish, then delete the queue.',
        );
      }
      const schedules = await this.em.find(CronSchedule, { queue: locked }, { orderBy: { name: 'asc' } });
      if (schedules.length > 0) {
        throw UserError.conflict(
          `Queue ${locked.name} is used by the cron schedule${schedules.length === 1 ? '' : 's'} ` +
            `${schedules.map((schedule) => schedule.name).join(', ')}: delete them or point them at another queue first.`,
        );
      }
      this.em.remove(locked);
    });
    return queue.id;
  }

  async list(viewer: Viewer, projectId: string): Promise<JobQueue[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    return this.em.find(JobQueue, { project }, { orderBy: { priority: 'asc', name: 'asc' } });
  }

  async get(viewer: Viewer, queueText: string): Promise<JobQueue> {
    return this.requireQueue(viewer, queueText, MembershipRole.VIEWER, 'id');
  }

  /** The linked compute environments, in placement order. */
  async computeEnvironments(queue: JobQueue): Promise<ComputeEnvironment[]> {
    const links = await this.em.find(
      JobQueueLink,
      { queue },
      { orderBy: { position: 'asc' }, populate: ['computeEnvironment'], refresh: true },
    );
    return links.map((link) => link.computeEnvironment);
  }

  async reference(queue: JobQueue): Promise<string> {
    return formatReference(await loaded(queue.project), queue.name);
  }

  /** The queue's row, read afresh and locked until the transaction ends. */
  private lock(queue: JobQueue): Promise<JobQueue> {
    return this.em.findOneOrFail(JobQueue, queue.id, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  }

  private async requireQueue(
    viewer: Viewer,
    text: string,
    minimum: MembershipRole,
    field = 'queue',
  ): Promise<JobQueue> {
    return (await this.deps.references.queue(viewer, text, { field, minimum })).entity;
  }
}

function checkSettings(input: { priority: number; maxConcurrency: number; maxIdleSeconds: number }) {
  return {
    priority: checkInteger(input.priority, PRIORITY, 'priority'),
    maxConcurrency: checkInteger(input.maxConcurrency, MAX_CONCURRENCY, 'maxConcurrency'),
    maxIdleSeconds: checkInteger(input.maxIdleSeconds, MAX_IDLE_SECONDS, 'maxIdleSeconds', 'seconds'),
  };
}
