import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../graphql/errors.js';
import { FailureClass } from './job-state.js';
import type { RetryPolicy } from './job-definition.entity.js';
import { checkInteger } from './validation.js';

export enum BackoffKind {
  FIXED = 'FIXED',
  EXPONENTIAL = 'EXPONENTIAL',
}
registerEnumType(BackoffKind, {
  name: 'BackoffKind',
  description:
    'FIXED waits baseSeconds between attempts; EXPONENTIAL doubles from baseSeconds up to capSeconds.',
});

const ATTEMPTS = { min: 1, max: 10 };
const DELAY_SECONDS = { min: 0, max: 24 * 3600 };
const EXIT_CODE = { min: 1, max: 255 };

@ObjectType('RetryPolicy', { description: 'How a failed attempt is retried: a new run of the same job.' })
export class RetryPolicyType implements RetryPolicy {
  @Field(() => Int, { description: 'Attempts in all, counting the first: 1 never retries.' })
  attempts!: number;

  @Field(() => BackoffKind)
  backoff!: BackoffKind;

  @Field(() => Int, { description: 'FIXED: the delay. EXPONENTIAL: the first delay, doubled per attempt.' })
  baseSeconds!: number;

  @Field(() => Int, { description: 'No delay is longer than this.' })
  capSeconds!: number;

  @Field({ description: 'Each delay is spread uniformly over half to all of itself.' })
  jitter!: boolean;

  @Field(() => [FailureClass], { description: 'Which failures are retried.' })
  retryOn!: FailureClass[];

  @Field(() => [Int], {
    description: 'With APP_FAILURE: only these exit codes are retried; empty means any.',
  })
  exitCodes!: number[];
}

@InputType({ description: 'How a failed attempt is retried. Omitted fields take the defaults shown.' })
export class RetryPolicyInput {
  @Field(() => Int, {
    defaultValue: 1,
    description: `${ATTEMPTS.min} to ${ATTEMPTS.max}, counting the first.`,
  })
  attempts: number = 1;

  @Field(() => BackoffKind, { defaultValue: BackoffKind.EXPONENTIAL })
  backoff: BackoffKind = BackoffKind.EXPONENTIAL;

  @Field(() => Int, { defaultValue: 10 })
  baseSeconds: number = 10;

  @Field(() => Int, { defaultValue: 600, description: 'At least baseSeconds.' })
  capSeconds: number = 600;

  @Field({ defaultValue: true })
  jitter: boolean = true;

  @Field(() => [FailureClass])
  retryOn: FailureClass[] = [FailureClass.INFRA_FAILURE, FailureClass.TIMEOUT];

  @Field(() => [Int], { description: 'Needs APP_FAILURE in retryOn; each 1 to 255.' })
  exitCodes: number[] = [];
}

/** The stored policy; an omitted input means `new RetryPolicyInput()` (the defaults). */
export function checkRetryPolicy(input: RetryPolicyInput): RetryPolicy {
  const field = (name: string) => `retryPolicy.${name}`;
  checkInteger(input.attempts, ATTEMPTS, field('attempts'));
  checkInteger(input.baseSeconds, DELAY_SECONDS, field('baseSeconds'), 'seconds');
  checkInteger(input.capSeconds, DELAY_SECONDS, field('capSeconds'), 'seconds');
  if (input.capSeconds < input.baseSeconds) {
    throw UserError.badUserInput(
      `retryPolicy.capSeconds (${input.capSeconds}) must be at least baseSeconds (${input.baseSeconds}).`,
      { field: field('capSeconds') },
    );
  }
  const retryOn = [...new Set(input.retryOn)];
  const exitCodes = [...new Set(input.exitCodes)].sort((left, right) => left - right);
  for (const code of exitCodes) checkInteger(code, EXIT_CODE, field('exitCodes'));
  if (exitCodes.length > 0 && !retryOn.includes(FailureClass.APP_FAILURE)) {
    throw UserError.badUserInput(
      'retryPolicy.exitCodes only applies to APP_FAILURE: add APP_FAILURE to retryOn, or remove the exit codes.',
      { field: field('exitCodes') },
    );
  }
  return {
    attempts: input.attempts,
    backoff: input.backoff,
    baseSeconds: input.baseSeconds,
    capSeconds: input.capSeconds,
    jitter: input.jitter,
    retryOn,
    exitCodes,
  };
}
