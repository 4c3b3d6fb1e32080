import {
  Arg,
  Args,
  ArgsType,
  Ctx,
  Field,
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
import type { TailBatch } from '../logs/run-tail.js';
import { MAX_METRIC_PAGE, type MetricSample } from './metric.service.js';
import { AppendRunMetricsInput, JobRunMetricBatch, RunMetricSample } from './metric.types.js';

@ArgsType()
class JobRunMetricStreamArgs {
  @Field(() => ID)
  runId!: string;

  @Field(() => Date, {
    nullable: true,
    description: 'The cursor of the last batch received (omitted: from the first sample).',
  })
  after?: Date;
}

@Resolver()
export class MetricResolver {
  @Auth('AGENT')
  @Mutation(() => Boolean, {
    description: 'Agents only: stores a batch of a run’s samples, idempotently on (run, timestamp).',
  })
  async appendRunMetrics(
    @Arg('input') input: AppendRunMetricsInput,
    @Ctx() { agent, services }: GraphQLContext,
  ): Promise<boolean> {
    await services.metrics.append(agent!, input, input.samples);
    return true;
  }

  @Auth('READ')
  @Query(() => [RunMetricSample], { description: 'A run’s samples in [from, to), oldest first.' })
  jobRunMetrics(
    @Arg('runId', () => ID) runId: string,
    @Arg('from', () => Date, { nullable: true }) from: Date | undefined,
    @Arg('to', () => Date, { nullable: true }) to: Date | undefined,
    @Arg('first', () => Int, { defaultValue: 1000, description: `1 to ${MAX_METRIC_PAGE} samples.` })
    first: number,
    @Ctx() { viewer, services }: GraphQLContext,
  ): Promise<RunMetricSample[]> {
    return services.metrics.read(viewer!, runId, { from, to, first });
  }

  @Auth('READ')
  @Subscription(() => JobRunMetricBatch, {
    name: 'jobRunMetrics',
    description:
      'A run’s samples as they are taken: those stored after `after`, then new ones, oldest first, in batches ' +
      'about every 100 ms. Completes once the run has finished and every sample is delivered.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, JobRunMetricStreamArgs, GraphQLContext>) =>
      context.services.metrics.stream(context.viewer!, args.runId, args.after),
  })
  jobRunMetricStream(
    @Root() batch: TailBatch<MetricSample>,
    // Already checked when the subscription started (GraphQL types, then the service); class-validator
    // on every batch would cost ten times the batch itself.
    @Args({ validate: false }) _args: JobRunMetricStreamArgs,
  ): JobRunMetricBatch {
    const last = batch.items.at(-1);
    return {
      samples: batch.items,
      cursor: last ? last.timestamp : batch.cursor ? new Date(batch.cursor) : null,
      complete: batch.complete,
    };
  }
}
