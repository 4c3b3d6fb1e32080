import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { MAX_METRIC_BATCH } from './metric.service.js';

@InputType()
export class MetricSampleInput {
  @Field()
  timestamp!: Date;

  @Field(() => Float, { description: '100 means one full CPU.' })
  cpuPercent!: number;

  @Field(() => Float)
  memoryBytes!: number;

  @Field(() => Float, { description: '0 when the run has no memory limit.' })
  memoryLimitBytes!: number;
}

@InputType()
export class AppendRunMetricsInput {
  @Field(() => ID)
  runId!: string;

  @Field({ description: 'The lease token claimRuns issued with the run.' })
  leaseToken!: string;

  @Field(() => [MetricSampleInput], { description: `At most ${MAX_METRIC_BATCH} samples.` })
  samples!: MetricSampleInput[];
}

@ObjectType({ description: 'A run’s CPU and memory use at one moment.' })
export class RunMetricSample {
  @Field()
  timestamp!: Date;

  @Field(() => Float, { description: '100 means one full CPU.' })
  cpuPercent!: number;

  @Field(() => Float)
  memoryBytes!: number;

  @Field(() => Float, { description: '0 when the run has no memory limit.' })
  memoryLimitBytes!: number;
}

@ObjectType({ description: 'Samples a `jobRunMetrics` subscription delivers at once, oldest first.' })
export class JobRunMetricBatch {
  @Field(() => [RunMetricSample], {
    description: 'Samples after the previous batch’s cursor; empty only in the last batch.',
  })
  samples!: RunMetricSample[];

  @Field(() => Date, {
    nullable: true,
    description: 'The last sample’s time: subscribe again with it as `after` to resume (null: none yet).',
  })
  cursor!: Date | null;

  @Field({ description: 'The run has finished and every sample has been delivered; nothing follows.' })
  complete!: boolean;
}
