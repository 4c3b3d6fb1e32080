import { randomBytes } from 'node:crypto';
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { filter, pipe } from '@graphql-yoga/subscription';
import { v7 as uuidv7 } from 'uuid';
import { ApiToken } from '../accounts/api-token.entity.js';
import { MembershipRole, roleAtLeast } from '../accounts/membership.entity.js';
import type { OrganizationService } from '../accounts/organization.service.js';
import { User } from '../accounts/user.entity.js';
import { isAllowed, type Viewer } from '../accounts/viewer.js';
import { isValidId } from '../db/ids.js';
import { executePrepared } from '../db/prepared.js';
import { decodeCursor, toConnection, type Connection } from '../graphql/connection.js';
import { UserError } from '../graphql/errors.js';
import type { DaestroPubSub } from '../graphql/pubsub.js';
import type { LimitsService } from '../billing/limits.service.js';
import { ringAgentsToCancel } from '../agents/agent-wakeup.js';
import { NOTIFY_SCHEDULER_SQL, notifyScheduler, notifySchedulerParams } from '../scheduler/notify.js';
import { explainWaiting, type WaitingReason } from '../scheduler/waiting-reason.js';
import { mergedEnvView, type EnvVar, type EnvVarInput, type EnvVars, type SealedEnv } from './env-vars.js';
import type { JobDefinitionService } from './job-definition.service.js';
import type { JobDefinition } from './job-definition.entity.js';
import type { JobQueue } from './job-queue.entity.js';
import { JobRun } from './job-run.entity.js';
import { isTerminal, JobState } from './job-state.js';
import { JobTransitions, type JobEvent } from './job-transitions.js';
import type { JobEventFilter, JobFilter, JobStateCount, SubmitJobInput } from './job.types.js';
import { Job } from './job.entity.js';
import { loaded } from './load.js';
import { missingParameters, substituteParameters } from './parameters.js';
import type { Project } from './project.entity.js';
import { formatReference, parseReference, type Resolved, type WorkloadReferences } from './reference.js';
import { likePattern } from './validation.js';
import { checkCommand, checkParameters } from './workloads.types.js';

/** Job names: unique per queue; generated ones are `<definition>-<8 hex>`. */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** States a job leaves for CANCELLED at once: no run exists to stop. */
const CANCEL_AT_ONCE: readonly JobState[] = [JobState.SUBMITTED, JobState.PENDING, JobState.RUNNABLE];
/** States whose run must be stopped first: the job waits in CANCELLING for the agent. */
const CANCEL_THROUGH_AGENT: readonly JobState[] = [JobState.STARTING, JobState.RUNNING];
/** A cancel racing a transition (a retry sends RUNNING back to PENDING) tries again this often. */
const CANCEL_TRIES = 3;

export interface JobServiceDeps {
  organizations: OrganizationService;
  references: WorkloadReferences;
  envVars: EnvVars;
  definitions: JobDefinitionService;
  limits: LimitsService;
  pubSub: DaestroPubSub;
}

/** What a new job is made of, however it is submitted. */
interface NewJob {
  project: Project;
  definition: JobDefinition;
  queue: JobQueue;
  name?: string | null;
  command?: string[] | null;
  parameters: Record<string, string>;
  env: { inputs: EnvVarInput[] } | { copyFrom: SealedEnv };
  scheduleAt?: Date | null;
  viewer: Viewer;
  resubmittedFrom?: Job;
}

/**
 * Jobs through the API: submit, cancel, resubmit and reads. Every state change
 * goes through JobTransitions; the scheduler is woken after each change is
 * committed and does the rest (admission, placement, runs, retries).
 */
export class JobService {
  /** The caller's role per project, asked once per operation (canCancel on a page of jobs). */
  private readonly roles = new Map<string, Promise<MembershipRole | null>>();

  constructor(
    private readonly em: EntityManager,
    private readonly deps: JobServiceDeps,
  ) {}

  async submit(viewer: Viewer, input: SubmitJobInput): Promise<Job> {
    const { definition, queue } = await this.resolveDefinitionAndQueue(viewer, input.definition, input.queue);
    return this.create({
      project: definition.project,
      definition: definition.entity,
      queue: queue.entity,
      name: input.name,
      command:
        input.command === undefined || input.command === null ? null : checkCommand(input.command, 'command'),
      parameters: checkParameters(input.parameters, 'parameters'),
      env: { inputs: input.env },
      scheduleAt: input.scheduleAt,
      viewer,
    });
  }

  /**
   * A definition and a queue of the same project, each given by id or reference.
   * An id goes first, so its organization settles an ambiguous project code in the other.
   */
  async resolveDefinitionAndQueue(
    viewer: Viewer,
    definitionText: string,
    queueText: string,
  ): Promise<{ definition: Resolved<JobDefinition>; queue: Resolved<JobQueue> }> {
    const lookup = { minimum: MembershipRole.MEMBER };
    const queueFirst = 'id' in parseReference(queueText, 'queue', { versioned: false });
    let definition: Resolved<JobDefinition>;
    let queue: Resolved<JobQueue>;
    if (queueFirst) {
      queue = await this.deps.references.queue(viewer, queueText, { ...lookup, field: 'queue' });
      definition = await this.deps.references.definition(viewer, definitionText, {
        ...lookup,
        field: 'definition',
        organizationId: queue.project.organization.id,
        granted: queue,
      });
    } else {
      definition = await this.deps.references.definition(viewer, definitionText, {
        ...lookup,
        field: 'definition',
      });
      queue = await this.deps.references.queue(viewer, queueText, {
        ...lookup,
        field: 'queue',
        organizationId: definition.project.organization.id,
        granted: definition,
      });
    }
    if (queue.project.id !== definition.project.id) {
      throw UserError.badUserInput(
        `Queue ${queue.entity.name} is in project ${queue.project.code} and definition ${definition.entity.name} ` +
          `in project ${definition.project.code}: use a queue of the definition's project.`,
        { field: 'queue' },
      );
    }
    return { definition, queue };
  }

  /**
   * Cancels from any unfinished state: a job with no run yet becomes CANCELLED,
   * one that is starting or running becomes CANCELLING until its agent stops it.
   */
  async cancel(viewer: Viewer, jobId: string): Promise<Job> {
    const job = await this.requireJob(viewer, jobId, MembershipRole.MEMBER);
    const systemNote = `Cancelled by ${await this.nameOf(viewer)}.`;
    const transitions = new JobTransitions(this.em, this.deps.pubSub);
    for (let attempt = 0; attempt < CANCEL_TRIES; attempt += 1) {
      const moved =
        (await transitions.move(job.id, CANCEL_AT_ONCE, JobState.CANCELLED, {
          systemNote,
          finishedAt: new Date(),
        })) ?? (await transitions.move(job.id, CANCEL_THROUGH_AGENT, JobState.CANCELLING, { systemNote }));
      await this.em.refresh(job);
      if (moved) {
        transitions.publishCommitted();
        await notifyScheduler(this.em, 'job.cancelled');
        if (moved.to === JobState.CANCELLING) await ringAgentsToCancel(this.em, this.deps.pubSub, [job.id]);
        return job;
      }
      if (job.state === JobState.CANCELLING) return job;
      if (isTerminal(job.state)) {
        throw UserError.conflict(
          `Job ${job.name} already finished as ${job.state}; there is nothing to cancel.`,
        );
      }
    }
    throw UserError.conflict(`Job ${job.name} kept changing state while being cancelled; try again.`);
  }

  /** A new job from a finished one: same definition version and overrides. */
  async resubmit(viewer: Viewer, jobId: string): Promise<Job> {
    const previous = await this.requireJob(viewer, jobId, MembershipRole.MEMBER);
    if (!isTerminal(previous.state)) {
      throw UserError.conflict(
        `Job ${previous.name} is still ${previous.state}: only finished jobs can be resubmitted (cancel it first).`,
      );
    }
    const [definition, queue] = await Promise.all([loaded(previous.definition), loaded(previous.queue)]);
    return this.create({
      project: await loaded(previous.project),
      definition,
      queue,
      command: previous.overrides.command,
      parameters: previous.overrides.parameters,
      env: { copyFrom: this.sealedEnv(previous) },
      viewer,
      resubmittedFrom: previous,
    });
  }

  async get(viewer: Viewer, jobId: string): Promise<Job> {
    return this.requireJob(viewer, jobId, MembershipRole.VIEWER);
  }

  async getRun(viewer: Viewer, runId: string): Promise<JobRun> {
    const run = isValidId(runId) ? await this.em.findOne(JobRun, { id: runId }, { populate: ['job'] }) : null;
    if (!run) throw UserError.notFound('Job run', runId);
    await this.deps.references.access(viewer, run.job.project.id, MembershipRole.VIEWER, {
      what: 'Job run',
      id: runId,
    });
    return run;
  }

  /** Newest first (createdAt, then id): a stable order, so pages neither repeat nor skip jobs. */
  async list(
    viewer: Viewer,
    projectId: string,
    jobFilter: JobFilter,
    page: { first: number; after?: string | null },
  ): Promise<Connection<Job>> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    const conditions: FilterQuery<Job>[] = [{ project }];
    if (jobFilter.states?.length) conditions.push({ state: { $in: jobFilter.states } });
    if (jobFilter.queueId) {
      const queue = await this.deps.references.queue(viewer, jobFilter.queueId, {
        field: 'filter.queueId',
        minimum: MembershipRole.VIEWER,
        organizationId: project.organization.id,
      });
      conditions.push({ queue: queue.entity });
    }
    if (jobFilter.definitionId) {
      const definition = await this.deps.references.definition(viewer, jobFilter.definitionId, {
        field: 'filter.definitionId',
        minimum: MembershipRole.VIEWER,
        organizationId: project.organization.id,
      });
      conditions.push({ definition: definition.entity });
    }
    if (jobFilter.definitionName) conditions.push({ definition: { name: jobFilter.definitionName } });
    if (jobFilter.text) conditions.push({ name: { $ilike: likePattern(jobFilter.text) } });
    if (jobFilter.createdAfter) conditions.push({ createdAt: { $gte: jobFilter.createdAfter } });
    if (jobFilter.createdBefore) conditions.push({ createdAt: { $lt: jobFilter.createdBefore } });
    if (page.after) {
      const [createdAt, id] = decodeCursor(page.after, 2) as [string, string];
      const at = new Date(createdAt);
      if (Number.isNaN(at.getTime()) || !isValidId(id)) {
        throw UserError.badUserInput('`after` is not a cursor of this list; pass an endCursor it returned.', {
          field: 'after',
        });
      }
      conditions.push({ $or: [{ createdAt: { $lt: at } }, { createdAt: at, id: { $lt: id } }] });
    }
    const rows = await this.em.find(
      Job,
      { $and: conditions },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: page.first + 1 },
    );
    return toConnection(rows, page, (job) => [job.createdAt.toISOString(), job.id]);
  }

  /** How many of a project's jobs are in each state; states with none are left out. */
  async stateCounts(viewer: Viewer, projectId: string): Promise<JobStateCount[]> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    const rows = await this.em.execute<{ state: JobState; count: string }[]>(
      'select state, count(*) as count from job where project_id = ? group by state',
      [project.id],
    );
    return rows.map((row) => ({ state: row.state, count: Number(row.count) }));
  }

  /**
   * Events of a project's jobs, for the `jobEvents` subscription. Access is
   * checked here, when the subscription starts (READ scope and VIEWER role).
   */
  async events(
    viewer: Viewer,
    projectId: string,
    eventFilter: JobEventFilter,
  ): Promise<AsyncIterable<JobEvent>> {
    const { project } = await this.deps.organizations.requireProject(viewer, projectId);
    let queueId: string | undefined;
    if (eventFilter.queueId) {
      const queue = await this.deps.references.queue(viewer, eventFilter.queueId, {
        field: 'filter.queueId',
        minimum: MembershipRole.VIEWER,
        organizationId: project.organization.id,
      });
      queueId = queue.entity.id;
    }
    const states = eventFilter.states?.length ? eventFilter.states : undefined;
    return pipe(
      this.deps.pubSub.subscribe('job.event', project.id),
      filter(
        (event: JobEvent) =>
          (!states || states.includes(event.to)) && (!queueId || event.queueId === queueId),
      ),
    );
  }

  /** The job an event is about, read fresh (a subscription's context lives long; events do not). */
  eventJob(jobId: string): Promise<Job | null> {
    return this.em.fork().findOne(Job, { id: jobId });
  }

  runs(job: Job): Promise<JobRun[]> {
    return this.em.find(JobRun, { job }, { orderBy: { attempt: 'asc' } });
  }

  /** The caller may cancel it: unfinished, not already cancelling, and the caller may write. */
  async canCancel(viewer: Viewer, job: Job): Promise<boolean> {
    return (
      !isTerminal(job.state) && job.state !== JobState.CANCELLING && (await this.mayWrite(viewer, job, []))
    );
  }

  /** The caller may resubmit it: finished, its version still active, and the caller may submit. */
  async canResubmit(viewer: Viewer, job: Job): Promise<boolean> {
    return (
      isTerminal(job.state) &&
      (await loaded(job.definition)).active &&
      (await this.mayWrite(viewer, job, ['VERIFIED']))
    );
  }

  /** Why an unstarted job waits, by the scheduler's own rules; null when it is not waiting. */
  waitingReason(job: Job): Promise<WaitingReason | null> {
    return explainWaiting(this.em, job, this.deps.limits);
  }

  /** The definition's variables with the job's overrides on top; sensitive values masked. */
  async environment(job: Job): Promise<EnvVar[]> {
    const definition = await loaded(job.definition);
    return mergedEnvView(this.deps.envVars, this.deps.definitions.sealedEnv(definition), this.sealedEnv(job));
  }

  /** The definition's parameter defaults with the job's values on top. */
  async parameters(job: Job): Promise<Record<string, string>> {
    return { ...(await loaded(job.definition)).parameters, ...job.overrides.parameters };
  }

  /** The command the run gets, placeholders filled in. */
  async command(job: Job): Promise<string[]> {
    const command = job.overrides.command ?? (await loaded(job.definition)).command;
    return substituteParameters(command, await this.parameters(job));
  }

  sealedEnv(job: Job): SealedEnv {
    return { owner: 'job', ownerId: job.id, vars: job.overrides.env };
  }

  private async create(newJob: NewJob): Promise<Job> {
    const { definition, queue } = newJob;
    checkSubmittable(newJob.project, definition, newJob);
    const id = uuidv7();
    const env =
      'copyFrom' in newJob.env
        ? await this.deps.envVars.copy(newJob.env.copyFrom, 'job', id)
        : await this.deps.envVars.seal('job', id, newJob.env.inputs, 'env');
    const fields: NewJobRow = {
      id,
      project: newJob.project,
      queue,
      definition,
      name: newJob.name ? checkJobName(newJob.name) : generatedName(definition),
      overrides: {
        ...(newJob.command ? { command: newJob.command } : {}),
        parameters: newJob.parameters,
        env,
      },
      scheduleAt: newJob.scheduleAt ?? undefined,
      createdBy: this.em.getReference(User, newJob.viewer.userId),
      createdByToken: newJob.viewer.token
        ? this.em.getReference(ApiToken, newJob.viewer.token.id)
        : undefined,
      resubmittedFrom: newJob.resubmittedFrom,
    };
    const job = await insertJob(this.em, fields);
    if (!job) {
      await this.deps.envVars.destroy(env);
      throw nameTaken(fields.name, queue);
    }
    return job;
  }

  /** A job the caller may see (or change); NOT_FOUND for any other. */
  private async requireJob(viewer: Viewer, jobId: string, minimum: MembershipRole): Promise<Job> {
    const job = isValidId(jobId) ? await this.em.findOne(Job, { id: jobId }) : null;
    if (!job) throw UserError.notFound('Job', jobId);
    await this.deps.references.access(viewer, job.project.id, minimum, { what: 'Job', id: jobId });
    return job;
  }

  private async mayWrite(viewer: Viewer, job: Job, rules: ('VERIFIED' | 'WRITE')[]): Promise<boolean> {
    if (isAllowed(viewer, [...rules, 'WRITE'])) return false;
    const role = await this.roleIn(viewer, job.project.id);
    return role !== null && roleAtLeast(role, MembershipRole.MEMBER);
  }

  private roleIn(viewer: Viewer, projectId: string): Promise<MembershipRole | null> {
    let role = this.roles.get(projectId);
    if (!role) {
      role = this.deps.organizations.requireProject(viewer, projectId).then(
        ({ membership }) => membership.role,
        () => null,
      );
      this.roles.set(projectId, role);
    }
    return role;
  }

  private async nameOf(viewer: Viewer): Promise<string> {
    const user = await this.em.findOne(User, { id: viewer.userId });
    return user?.name ?? viewer.email;
  }
}

/** What insertJob writes; the rest of a new job (state, attempts, times) starts at its defaults. */
export type NewJobRow = Pick<Job, 'id' | 'project' | 'queue' | 'definition' | 'name' | 'overrides'> &
  Partial<Pick<Job, 'scheduleAt' | 'createdBy' | 'createdByToken' | 'resubmittedFrom'>>;

/**
 * Submits a job in one statement: the row, and the scheduler's wake-up (delivered
 * at commit, so the leader never looks before the job is visible). Null when
 * its queue already has a job of that name (the unique key decides, so two
 * submits racing for a name cannot both win). The job returned is managed by `em`.
 */
export async function insertJob(em: EntityManager, fields: NewJobRow): Promise<Job | null> {
  const [row] = await executePrepared<{ created_at: Date }>(
    em,
    `insert into job (id, project_id, queue_id, definition_id, name, overrides, schedule_at, created_by_id,
       created_by_token_id, resubmitted_from_id, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, now(), now())
     on conflict (queue_id, name) do nothing
     returning created_at, ${NOTIFY_SCHEDULER_SQL}`,
    [
      fields.id,
      fields.project.id,
      fields.queue.id,
      fields.definition.id,
      fields.name,
      JSON.stringify(fields.overrides),
      fields.scheduleAt ?? null,
      fields.createdBy?.id ?? null,
      fields.createdByToken?.id ?? null,
      fields.resubmittedFrom?.id ?? null,
      ...notifySchedulerParams('job.submitted'),
    ],
  );
  if (!row) return null;
  const createdAt = new Date(row.created_at);
  return em.create(
    Job,
    { ...fields, state: JobState.SUBMITTED, attempts: 0, createdAt, updatedAt: createdAt },
    { managed: true },
  );
}

/**
 * A job of this definition version with these overrides can run: the version is
 * active and every `Param::<key>` of the command has a value. Schedules check it
 * when saved, so their slots do not fail one after another.
 */
export function checkSubmittable(
  project: Project,
  definition: JobDefinition,
  overrides: { command?: string[] | null; parameters: Record<string, string> },
): void {
  if (!definition.active) {
    throw UserError.badUserInput(
      `Version ${definition.version} of job definition ${definition.name} is deactivated and takes no new jobs: ` +
        `use an active version (${formatReference(project, definition.name)} names the newest one).`,
      { field: 'definition' },
    );
  }
  const command = overrides.command ?? definition.command;
  const missing = missingParameters(command, { ...definition.parameters, ...overrides.parameters });
  if (missing.length > 0) {
    throw UserError.badUserInput(
      `The command needs ${missing.map((key) => `Param::${key}`).join(', ')}: give ` +
        `${missing.length === 1 ? 'a value' : 'values'} in parameters, or defaults in the definition.`,
      { field: 'parameters', missing },
    );
  }
}

function checkJobName(name: string): string {
  const trimmed = name.trim();
  if (!JOB_NAME.test(trimmed)) {
    throw UserError.badUserInput(
      `"${name}" is not a valid job name: use up to 128 letters, digits, dots, hyphens and underscores, ` +
        'starting with a letter or digit.',
      { field: 'name' },
    );
  }
  return trimmed;
}

function generatedName(definition: JobDefinition): string {
  return `${definition.name}-${randomBytes(4).toString('hex')}`;
}

function nameTaken(name: string, queue: JobQueue): UserError {
  return UserError.conflict(`Queue ${queue.name} already has a job named ${name}: choose another name.`, {
    field: 'name',
  });
}
