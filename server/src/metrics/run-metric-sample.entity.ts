import { BigIntType, Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { JobRun } from '../workloads/job-run.entity.js';

/** A run's CPU and memory at one moment, as its agent sampled them. Only MetricService touches this table. */
@Entity({ tableName: 'run_metric_sample' })
export class RunMetricSample {
  [PrimaryKeyProp]?: ['run', 'sampledAt'];

  @ManyToOne(() => JobRun, { primary: true, deleteRule: 'cascade' })
  run!: JobRun;

  @PrimaryKey({ type: 'timestamptz' })
  sampledAt!: Date;

  /** 100 means one full CPU. */
  @Property({ type: 'double' })
  cpuPercent!: number;

  @Property({ type: new BigIntType('number') })
  memoryBytes!: number;

  /** 0 when the run has no memory limit. */
  @Property({ type: new BigIntType('number') })
  memoryLimitBytes!: number;
}
