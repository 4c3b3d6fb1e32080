import { GraphQLScalarType, valueFromASTUntyped } from 'graphql';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PlanCode } from '../billing/plans.js';
import { LOG_BATCH_LIMITS } from './log-batch.js';
import { LogStream } from './run-log-chunk.entity.js';

/**
 * appendRunLogs' lines as one scalar: GraphQL coerces a list of input objects
 * field by field, which cost more than storing the lines; LogService checks
 * the JSON itself, line by line, with errors that name the line.
 */
export const LogLineBatch = new GraphQLScalarType({
  name: 'LogLineBatch',
  description:
    'Lines of a run’s output, in a JSON list of objects {seq, stream, timestamp, text}: seq from 1, per run ' +
    '(a line resent with the same seq is ignored); stream one of LogStream; timestamp when the agent read the ' +
    `line, ISO 8601 with a zone; text the line without its line break, at most ${LOG_BATCH_LIMITS.lineBytes} ` +
    'bytes (UTF-8). Input only.',
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
  serialize: () => {
    throw new TypeError('LogLineBatch is an input type');
  },
});

@InputType()
export class AppendRunLogsInput {
  @Field(() => ID)
  runId!: string;

  @Field({ description: 'The lease token claimRuns issued with the run.' })
  leaseToken!: string;

  @Field(() => LogLineBatch, {
    description: `At most ${LOG_BATCH_LIMITS.lines} lines and ${LOG_BATCH_LIMITS.bytes} bytes of text.`,
  })
  lines!: unknown;
}

@ObjectType()
export class AppendRunLogsPayload {
  @Field(() => Int, {
    description: 'Every line 1..storedThrough is stored: resend anything after it that was not acknowledged.',
  })
  storedThrough!: number;
}

@ObjectType({ description: 'One line of a run’s output.' })
export class JobRunLogLine {
  @Field(() => Int, { description: 'Its place in the run’s output, from 1.' })
  seq!: number;

  @Field(() => LogStream)
  stream!: LogStream;

  @Field({ description: 'When the agent read the line.' })
  timestamp!: Date;

  @Field()
  text!: string;
}

@ObjectType({ description: 'A page of a run’s output, in order.' })
export class JobRunLogPage {
  @Field(() => [JobRunLogLine])
  lines!: JobRunLogLine[];

  @Field(() => Int, { description: 'Pass as `after` for the next page.' })
  cursor!: number;

  @Field({
    description:
      'More lines are stored after this page. An unfinished run may add more later: ask again with `cursor`.',
  })
  hasMore!: boolean;
}

@ObjectType({ description: 'Lines a `jobRunLogs` subscription delivers at once, in order.' })
export class JobRunLogBatch {
  @Field(() => [JobRunLogLine], {
    description: 'Lines after the previous batch’s cursor; empty only in the last batch.',
  })
  lines!: JobRunLogLine[];

  @Field(() => Int, { description: 'The last line’s seq: subscribe again with it as `after` to resume.' })
  cursor!: number;

  @Field({ description: 'The run has finished and every line has been delivered; nothing follows.' })
  complete!: boolean;
}

@ObjectType({ description: 'An organization’s stored log text against what its plan includes.' })
export class LogStorage {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => PlanCode)
  plan!: PlanCode;

  @Field(() => Float, { description: 'UTF-8 bytes of log text stored for the organization’s runs.' })
  usedBytes!: number;

  @Field(() => Float, {
    description:
      'What the plan includes. Past it, the logs of the oldest finished runs are deleted (checked hourly), ' +
      'each leaving a SYSTEM line that says so.',
  })
  quotaBytes!: number;

  @Field(() => Int, {
    description: 'Logs and metrics of a run are deleted this many days after it finished (checked daily).',
  })
  retentionDays!: number;
}
