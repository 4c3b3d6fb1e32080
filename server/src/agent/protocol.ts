/**
 * The agent's side of the agent protocol (the AGENT operations of the server's
 * schema): the documents it sends and the shapes it gets back. Every operation
 * but registration goes over the agent's one graphql-ws socket.
 */

export type JobDefinitionType = 'BASH' | 'DOCKER';
export type LogStream = 'STDOUT' | 'STDERR' | 'SYSTEM';
export type FinishOutcome = 'COMPLETED' | 'FAILED' | 'TIMEOUT' | 'CANCELLED' | 'ERROR';
export type FailureClass = 'APP_FAILURE' | 'INFRA_FAILURE' | 'TIMEOUT';

export { AGENT_TOKEN_PREFIX, REGISTRATION_TOKEN_PREFIX } from '../agents/token-prefixes.js';

/** Server limits on appendRunLogs (see the contract): per line, per batch. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;
export const MAX_LOG_BATCH_LINES = 2_000;
export const MAX_LOG_BATCH_BYTES = 4 * 1024 * 1024;

export interface Registration {
  agentToken: string;
  spawnId: string;
  computeEnvironmentName: string;
  slots: number;
  leaseSeconds: number;
}

export interface RunEnvVar {
  name: string;
  value: string;
  /** Masked in the run's logs. */
  sensitive: boolean;
}

export interface RunRegistryCredential {
  serverAddress: string;
  username: string;
  /** For the pull only; masked in the run's logs. */
  token: string;
}

export interface ClaimedRun {
  runId: string;
  leaseToken: string;
  attempt: number;
  jobId: string;
  jobName: string;
  type: JobDefinitionType;
  image: string | null;
  script: string | null;
  command: string[];
  env: RunEnvVar[];
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  privileged: boolean;
  registryCredential: RunRegistryCredential | null;
}

export interface LogLine {
  seq: number;
  stream: LogStream;
  /** ISO 8601 */
  timestamp: string;
  text: string;
}

export interface MetricSample {
  /** ISO 8601 */
  timestamp: string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

export interface FinishRunInput {
  outcome: FinishOutcome;
  exitCode: number | null;
  failureClass: FailureClass | null;
  systemNote: string | null;
}

export interface HeartbeatInput {
  slotsUsed: number;
  cpuCount: number;
  memoryMiB: number;
  cpuPercent: number | null;
  memoryUsedMiB: number;
}

export interface HeartbeatAck {
  leaseExpiresAt: string;
  cancelRunIds: string[];
}

export const REGISTER_AGENT = `mutation RegisterAgent($input: RegisterAgentInput!) {
  registerAgent(input: $input) { agentToken spawnId computeEnvironmentName slots leaseSeconds }
}`;

export const CLAIM_RUNS = `mutation ClaimRuns($max: Int!) {
  claimRuns(max: $max) {
    runId leaseToken attempt jobId jobName type image script command
    env { name value sensitive }
    cpu memoryMiB timeoutSeconds privileged
    registryCredential { serverAddress username token }
  }
}`;

export const MARK_RUN_STARTED = `mutation MarkRunStarted($input: RunLeaseInput!) { markRunStarted(input: $input) }`;

export const FINISH_RUN = `mutation FinishRun($input: FinishRunInput!) { finishRun(input: $input) { jobState } }`;

export const AGENT_HEARTBEAT = `mutation AgentHeartbeat($input: AgentHeartbeatInput!) {
  agentHeartbeat(input: $input) { leaseExpiresAt cancelRunIds }
}`;

export const APPEND_RUN_LOGS = `mutation AppendRunLogs($input: AppendRunLogsInput!) {
  appendRunLogs(input: $input) { storedThrough }
}`;

export const APPEND_RUN_METRICS = `mutation AppendRunMetrics($input: AppendRunMetricsInput!) {
  appendRunMetrics(input: $input)
}`;

export const AGENT_GOING_OFFLINE = `mutation AgentGoingOffline { agentGoingOffline }`;

/** Rings with reason RUNS_PLACED (claim now) or CANCEL_REQUESTED (heartbeat now: it carries the runs to stop). */
export const AGENT_WAKEUPS = `subscription AgentWakeups { agentWakeups { reason } }`;
