import {
  Arg,
  Args,
  ArgsType,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { Auth } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import { JobRun } from '../workloads/job-run.entity.js';
import { MAX_LOG_PAGE, MAX_LOG_SEARCH, type LogLine } from './log.service.js';
import { runLogPath } from './log.routes.js';
import {
  AppendRunLogsInput,
  AppendRunLogsPayload,
  JobRunLogBatch,
  JobRunLogPage,
  LogStorage,
} from './log.types.js';
import { LogStream } from './run-log-chunk.entity.js';
import type { TailBatch } from './run-tail.js';

@ArgsType()
class JobRunLogStreamArgs {
  @Field(() => ID)
  runId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'The cursor of the last batch received (0 or omitted: from the first line).',
  })
  after?: number;
}

@Resolver()
export class LogResolver {
  @Auth('AGENT')
  @Mutation(() => AppendRunLogsPayload, {
    description:
      'Agents only: stores a batch of a run’s output, idempotently on (run, seq). Refused whole (nothing ' +
      'stored) when the lease is stale (CONFLICT, reason STALE_LEASE) or the batch breaks a limit (BAD_USER_INPUT).',
  })
  appendRunLogs(
    // LogService checks the lines; the other fields are IDs and strings GraphQL has checked.
    @Arg('input', { validate: false }) input: AppendRunLogsInput,
    @Ctx() { agent, services }: GraphQLContext,
  ): Promise<AppendRunLogsPayload> {
    return services.logs.append(agent!, input, input.lines);
  }

  @Auth('READ')
  @Query(() => JobRunLogPage, {
    description:
      'A run’s output after `after` (a line seq; 0 or omitted: from the start), in order. While the run is ' +
      'unfinished only lines with no gap before them are shown, so following `cursor` never skips one. ' +
      'The whole log downloads as plain text from `JobRun.logUrl`.',
  })
  jobRunLogs(
    @Arg('runId', () => ID) runId: string,
    @Arg('after', () => Int, { nullable: true }) after: number | undefined,
    @Arg('first', () => Int, { defaultValue: 1000, description: `1 to ${MAX_LOG_PAGE} lines.` })
    first: number,
    @Arg('stream', () => LogStream, { nullable: true }) stream: LogStream | undefined,
    @Arg('search', () => String, {
      nullable: true,
      description: `Only lines containing this text, ignoring case (at most ${MAX_LOG_SEARCH} characters).`,
    })
    search: string | undefined,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<JobRunLogPage> {
    return services.logs.read(viewer!, runId, { after, first, stream, search });
  }

  @Auth('READ')
  @Subscription(() => JobRunLogBatch, {
    name: 'jobRunLogs',
    description:
      'A run’s output as it is written: the lines stored after `after`, then new ones as they are stored, ' +
      'in batches about every 100 ms, strictly in seq order with none missing or repeated. Completes once the ' +
      'run has finished and every line is delivered. After a dropped connection, subscribe again with the ' +
      'last cursor.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, JobRunLogStreamArgs, GraphQLContext>) =>
      context.services.logs.stream(context.viewer!, args.runId, args.after),
  })
  jobRunLogStream(
    @Root() batch: TailBatch<LogLine>,
    // Already checked when the subscription started (GraphQL types, then the service); class-validator
    // on every batch would cost ten times the batch itself.
    @Args({ validate: false }) _args: JobRunLogStreamArgs,
  ): JobRunLogBatch {
    return { lines: batch.items, cursor: batch.cursor, complete: batch.complete };
  }

  @Auth('READ')
  @Query(() => LogStorage, {
    description: 'How much log text an organization stores against its plan, and how long it is kept.',
  })
  async logStorage(
    @Arg('organizationId', () => ID) organizationId: string,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<LogStorage> {
    const { organization } = await services.organizations.requireMembership(viewer!, organizationId);
    return services.logRetention.usage(organization);
  }
}

@Resolver(() => JobRun)
export class JobRunLogFieldsResolver {
  @FieldResolver(() => String, {
    description:
      'Path (on the API’s origin) of the whole log as plain text, for GET with the same credentials as the API.',
  })
  logUrl(@Root() run: JobRun): string {
    return runLogPath(run.id);
  }
}
