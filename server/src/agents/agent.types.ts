import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobDefinitionType } from '../workloads/job-definition.entity.js';
import { ComputeSpawn } from '../workloads/compute-spawn.entity.js';
import type { RunOutcome } from '../scheduler/run-settlement.js';
import { FailureClass, JobRunState, JobState } from '../workloads/job-state.js';

@InputType()
export class RegisterAgentInput {
  @Field({ description: "The compute environment's registration token (dreg_…)." })
  registrationToken!: string;

  @Field({ description: "The machine's name, shown on the compute environment's page." })
  hostname!: string;

  @Field(() => Float, { nullable: true, description: 'CPUs the machine has.' })
  cpuCount?: number | null;

  @Field(() => Int, { nullable: true, description: 'Memory the machine has, in MiB.' })
  memoryMiB?: number | null;

  @Field(() => String, { nullable: true, description: 'The daestro version the agent runs.' })
  agentVersion?: string | null;
}

@ObjectType()
export class RegisterAgentPayload {
  @Field({
    description:
      'The agent’s own credential (dagt_…), shown this once: keep it in the agent’s state directory and ' +
      'connect with it from now on.',
  })
  agentToken!: string;

  @Field(() => ID, { description: 'The compute spawn this machine now is.' })
  spawnId!: string;

  @Field()
  computeEnvironmentName!: string;

  @Field(() => Int, { description: 'Runs the agent takes at once.' })
  slots!: number;

  @Field(() => Int, { description: 'Heartbeat well within this; a spawn silent this long is LOST.' })
  leaseSeconds!: number;
}

export enum AgentWakeupReason {
  /** Runs were placed on the spawn: claim them. */
  RUNS_PLACED = 'RUNS_PLACED',
  /** A job the agent runs is being cancelled: stop it (see runId, and the heartbeat's cancelRunIds). */
  CANCEL_REQUESTED = 'CANCEL_REQUESTED',
}
registerEnumType(AgentWakeupReason, {
  name: 'AgentWakeupReason',
  description:
    'RUNS_PLACED: call claimRuns. CANCEL_REQUESTED: stop the run `runId`, then finish it as CANCELLED.',
});

@ObjectType({
  description: 'A ring of the agent’s doorbell. A lost ring only delays work: agents also poll.',
})
export class AgentWakeup {
  @Field(() => AgentWakeupReason)
  reason!: AgentWakeupReason;

  @Field(() => ID, { nullable: true, description: 'CANCEL_REQUESTED: the run to stop.' })
  runId?: string | null;
}

// Agent-only output types: they carry secrets opened for the agent that claimed the run, and are
// reachable from AGENT operations only (server/test/graphql/auth-rules.test.ts checks it).
@ObjectType({ description: 'Agents only. An environment variable of a claimed run, its value opened.' })
export class RunEnvVar {
  @Field()
  name!: string;

  @Field({ description: 'In clear text: mask it in the run’s logs when `sensitive`.' })
  value!: string;

  @Field()
  sensitive!: boolean;
}

@ObjectType({
  description: 'Agents only. The registry login to pull a claimed run’s image with; for the pull only.',
})
export class RunRegistryCredential {
  @Field({ description: 'The registry host (and port); empty for Docker Hub.' })
  serverAddress!: string;

  @Field()
  username!: string;

  @Field({ description: 'The password or access token: mask it in the run’s logs.' })
  token!: string;
}

@ObjectType({ description: 'Agents only. A run this agent now holds, with everything needed to execute it.' })
export class ClaimedRun {
  @Field(() => ID)
  runId!: string;

  @Field({ description: 'Carried by every later write for this run (state, logs, metrics).' })
  leaseToken!: string;

  @Field(() => Int, { description: '1 for the first attempt.' })
  attempt!: number;

  @Field(() => ID)
  jobId!: string;

  @Field()
  jobName!: string;

  @Field()
  queueName!: string;

  @Field()
  computeEnvironmentName!: string;

  @Field()
  definitionName!: string;

  @Field(() => Int)
  definitionVersion!: number;

  @Field(() => JobDefinitionType)
  type!: JobDefinitionType;

  @Field(() => String, { nullable: true, description: 'DOCKER: the image to run.' })
  image!: string | null;

  @Field(() => String, { nullable: true, description: 'BASH: the script to run with bash.' })
  script!: string | null;

  @Field(() => [String], { description: 'Arguments, every Param:: placeholder filled in.' })
  command!: string[];

  @Field(() => [RunEnvVar], {
    description: 'The definition’s, then the job’s, then the DAESTRO_* variables.',
  })
  env!: RunEnvVar[];

  @Field(() => Float, { description: 'vCPUs.' })
  cpu!: number;

  @Field(() => Int)
  memoryMiB!: number;

  @Field(() => Int, { description: '0 means no timeout.' })
  timeoutSeconds!: number;

  @Field()
  privileged!: boolean;

  @Field(() => RunRegistryCredential, { nullable: true, description: 'DOCKER with a registry auth.' })
  registryCredential!: RunRegistryCredential | null;
}

@InputType()
export class RunLeaseInput {
  @Field(() => ID)
  runId!: string;

  @Field({ description: 'The lease token claimRuns issued with the run.' })
  leaseToken!: string;
}

/** How a run ended, as the agent reports it: the run states that finish a run. */
export const RunOutcomeEnum = {
  COMPLETED: JobRunState.COMPLETED,
  FAILED: JobRunState.FAILED,
  TIMEOUT: JobRunState.TIMEOUT,
  CANCELLED: JobRunState.CANCELLED,
  ERROR: JobRunState.ERROR,
} as const satisfies Record<RunOutcome, RunOutcome>;
registerEnumType(RunOutcomeEnum, {
  name: 'RunOutcome',
  description:
    'COMPLETED: exit 0. FAILED: non-zero exit (or OOM; say so in systemNote). TIMEOUT. CANCELLED: stopped on a ' +
    'cancel. ERROR: the platform failed it (image pull, agent shut down…): retried by the job’s policy.',
});

@InputType()
export class FinishRunInput extends RunLeaseInput {
  @Field(() => RunOutcomeEnum)
  outcome!: RunOutcome;

  @Field(() => Int, { nullable: true })
  exitCode?: number | null;

  @Field(() => FailureClass, { nullable: true, description: 'Defaults from the outcome.' })
  failureClass?: FailureClass | null;

  @Field(() => String, { nullable: true, description: 'Shown to people, e.g. "image pull failed: …".' })
  systemNote?: string | null;
}

@ObjectType()
export class FinishRunPayload {
  @Field(() => JobState, {
    nullable: true,
    description: 'The job’s state now (PENDING when it will be retried); null when it did not change.',
  })
  jobState!: JobState | null;
}

@InputType()
export class AgentHeartbeatInput {
  @Field(() => Int, { description: 'Runs the agent is executing right now.' })
  slotsUsed!: number;

  @Field(() => Float, { nullable: true })
  cpuCount?: number | null;

  @Field(() => Int, { nullable: true })
  memoryMiB?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Host CPU use; 100 means one full CPU. Not stored yet.',
  })
  cpuPercent?: number | null;

  @Field(() => Int, { nullable: true, description: 'Host memory in use, in MiB. Not stored yet.' })
  memoryUsedMiB?: number | null;

  @Field(() => [ID], {
    nullable: true,
    description:
      'Every run this agent holds: claimed, and its finishRun not yet answered. A run of this machine claimed ' +
      'more than AGENT_CLAIM_GRACE_SECONDS ago and not listed ends in ERROR (INFRA_FAILURE) and is retried by ' +
      'its policy: the claim’s answer never reached the agent. Omitted: no such check.',
  })
  heldRunIds?: string[] | null;
}

@ObjectType()
export class AgentHeartbeatPayload {
  @Field({ description: 'Heartbeat again before this, or the spawn is LOST and its runs fail over.' })
  leaseExpiresAt!: Date;

  @Field(() => [ID], {
    description: 'Runs whose job is being cancelled: stop them, then finish them as CANCELLED.',
  })
  cancelRunIds!: string[];
}

@InputType()
export class RetireComputeSpawnInput {
  @Field(() => ID)
  spawnId!: string;
}

@ObjectType()
export class RetireComputeSpawnPayload {
  @Field(() => ComputeSpawn)
  computeSpawn!: ComputeSpawn;
}
