import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { User } from '../accounts/user.entity.js';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { CronSchedule } from './cron-schedule.entity.js';
import {
  CreateCronScheduleInput,
  CronSchedulePayload,
  CronScheduleRefInput,
  DeleteCronSchedulePayload,
  UpdateCronScheduleInput,
} from './cron-schedule.types.js';
import { EnvVar } from './env-vars.js';
import { JobDefinition } from './job-definition.entity.js';
import { JobQueue } from './job-queue.entity.js';
import { loaded, loadedOrNull } from './load.js';
import { Project } from './project.entity.js';
import { Parameter, toParameters } from './workloads.types.js';

// A schedule submits jobs on its own, so saving one needs what submitting does: VERIFIED and MEMBER.
@Resolver(() => CronSchedule)
export class CronScheduleResolver {
  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => CronSchedulePayload, { description: "Counts against the plan's cronSchedules limit." })
  async createCronSchedule(
    @Arg('input') input: CreateCronScheduleInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<CronSchedulePayload> {
    return { cronSchedule: await services.cronSchedules.create(viewer!, input) };
  }

  @Auth('VERIFIED', 'WRITE')
  @Mutation(() => CronSchedulePayload)
  async updateCronSchedule(
    @Arg('input') input: UpdateCronScheduleInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<CronSchedulePayload> {
    return { cronSchedule: await services.cronSchedules.update(viewer!, input) };
  }

  @Auth('WRITE')
  @Mutation(() => DeleteCronSchedulePayload, { description: 'Jobs it submitted stay.' })
  async deleteCronSchedule(
    @Arg('input') input: CronScheduleRefInput,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<DeleteCronSchedulePayload> {
    return { deletedCronScheduleId: await services.cronSchedules.delete(viewer!, input.schedule) };
  }

  @Auth('READ')
  @Query(() => [CronSchedule], { description: "A project's cron schedules by name." })
  cronSchedules(
    @Arg('projectId', () => ID) projectId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<CronSchedule[]> {
    return services.cronSchedules.list(viewer!, projectId);
  }

  @Auth('READ')
  @Query(() => CronSchedule)
  cronSchedule(
    @Arg('id', () => ID) id: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<CronSchedule> {
    return services.cronSchedules.get(viewer!, id);
  }

  @FieldResolver(() => Project)
  project(@Root() schedule: CronSchedule): Promise<Project> {
    return loaded(schedule.project);
  }

  @FieldResolver(() => JobDefinition, { description: 'The definition version its jobs run.' })
  definition(@Root() schedule: CronSchedule): Promise<JobDefinition> {
    return loaded(schedule.definition);
  }

  @FieldResolver(() => JobQueue)
  queue(@Root() schedule: CronSchedule): Promise<JobQueue> {
    return loaded(schedule.queue);
  }

  @FieldResolver(() => [Date], { description: 'The next slots from now, in order (1 to 50).' })
  nextFireTimes(
    @Root() schedule: CronSchedule,
    @Arg('count', () => Int, { defaultValue: 5 }) count: number,
    @Ctx() { services }: GraphQLContext,
  ): Date[] {
    return services.cronSchedules.nextFireTimes(schedule, count);
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description: "Replaces the definition's command when set.",
  })
  commandOverride(@Root() schedule: CronSchedule): string[] | null {
    return schedule.overrides.command ?? null;
  }

  @FieldResolver(() => [Parameter], { description: "Values over the definition's parameter defaults." })
  parameters(@Root() schedule: CronSchedule): Parameter[] {
    return toParameters(schedule.overrides.parameters);
  }

  @FieldResolver(() => [EnvVar], {
    description: "Variables over the definition's; sensitive values only masked.",
  })
  env(@Root() schedule: CronSchedule, @Ctx() { services }: GraphQLContext): Promise<EnvVar[]> {
    return services.cronSchedules.environment(schedule);
  }

  @FieldResolver(() => User, { nullable: true })
  createdBy(@Root() schedule: CronSchedule): Promise<User | null> {
    return loadedOrNull(schedule.createdBy);
  }
}
