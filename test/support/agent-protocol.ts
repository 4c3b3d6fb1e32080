import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CookieClient } from './http-session.js';
import type { Person } from './people.js';
import type { TestServer } from './server.js';
import {
  LINK,
  SET_ENABLED,
  createQueue,
  createSelfHostedEnvironment,
  ok,
  type Created,
} from './workloads.js';

/** The agent side of the protocol (server/src/agents/), spoken by tests in place of `daestro agent`. */

export const REGISTER_AGENT = `mutation R($input: RegisterAgentInput!) {
  registerAgent(input: $input) { agentToken spawnId computeEnvironmentName slots leaseSeconds } }`;
export const CLAIM_RUNS = `mutation C($max: Int!) { claimRuns(max: $max) {
  runId leaseToken attempt jobId jobName queueName computeEnvironmentName definitionName definitionVersion
  type image script command env { name value sensitive } cpu memoryMiB timeoutSeconds privileged
  registryCredential { serverAddress username token } } }`;
export const MARK_STARTED = `mutation M($input: RunLeaseInput!) { markRunStarted(input: $input) }`;
export const FINISH_RUN = `mutation F($input: FinishRunInput!) { finishRun(input: $input) { jobState } }`;
export const HEARTBEAT = `mutation H($input: AgentHeartbeatInput!) {
  agentHeartbeat(input: $input) { leaseExpiresAt cancelRunIds } }`;
export const APPEND_LOGS = `mutation A($input: AppendRunLogsInput!) { appendRunLogs(input: $input) { storedThrough } }`;
export const APPEND_METRICS = `mutation A($input: AppendRunMetricsInput!) { appendRunMetrics(input: $input) }`;
export const GOING_OFFLINE = 'mutation { agentGoingOffline }';
export const WAKEUPS = 'subscription { agentWakeups { reason runId } }';

export interface Registration {
  agentToken: string;
  spawnId: string;
  computeEnvironmentName: string;
  slots: number;
  leaseSeconds: number;
}

export interface ClaimedRunView {
  runId: string;
  leaseToken: string;
  jobId: string;
  env: { name: string; value: string; sensitive: boolean }[];
  registryCredential: { serverAddress: string; username: string; token: string } | null;
  [field: string]: unknown;
}

/** An enabled queue linked to a new SELF_HOSTED environment, and that environment's registration token. */
export async function selfHostedQueue(
  person: Person,
  environmentInput: Record<string, unknown> = {},
): Promise<{ queue: Created; environment: Created & { registrationToken: string } }> {
  const environment = await createSelfHostedEnvironment(person.client, person.projectId, environmentInput);
  const queue = await createQueue(person.client, person.projectId);
  await ok(person.client, LINK, { queue: queue.id, environments: [environment.id] });
  await ok(person.client, SET_ENABLED, { queue: queue.id, enabled: true });
  return { queue, environment };
}

/** registerAgent over HTTP, as a machine with nothing but the registration token. */
export function registerAgent(
  server: TestServer,
  registrationToken: string,
  input: Record<string, unknown> = {},
): Promise<FormattedExecutionResult<{ registerAgent: Registration }> & { status: number }> {
  return new CookieClient(server.url).graphql<{ registerAgent: Registration }>(REGISTER_AGENT, {
    input: { registrationToken, hostname: 'test-machine', cpuCount: 4, memoryMiB: 8192, ...input },
  });
}

/** A registered agent: its token, spawn, and an HTTP client that sends `Authorization: Bearer <agent token>`. */
export async function registeredAgent(
  server: TestServer,
  registrationToken: string,
  input: Record<string, unknown> = {},
): Promise<Registration & { http: CookieClient }> {
  const result = await registerAgent(server, registrationToken, input);
  if (result.errors) throw new Error(`registerAgent failed: ${JSON.stringify(result.errors)}`);
  const registration = result.data!.registerAgent;
  return {
    ...registration,
    http: new CookieClient(server.url, { authorization: `Bearer ${registration.agentToken}` }),
  };
}

/** A graphql-ws client authenticated with an agent token; `closeCodes` records how its sockets closed. */
export function agentSocket(
  server: TestServer,
  agentToken: string,
): { client: Client; closeCodes: number[] } {
  const closeCodes: number[] = [];
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { agentToken },
    on: { closed: (event) => closeCodes.push((event as { code: number }).code) },
    onNonLazyError: () => undefined,
  });
  return { client, closeCodes };
}

/** Runs one operation over a socket and returns its single result. */
export async function overSocket<T>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<FormattedExecutionResult<T>> {
  const iterator = client.iterate<T>({ query, variables });
  try {
    const { value } = await iterator.next();
    return value as FormattedExecutionResult<T>;
  } finally {
    await iterator.return?.();
  }
}

/** Everything a subscription delivers from now on; `done` settles when it ends (or fails). */
export function collect<T>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): { results: FormattedExecutionResult<T, unknown>[]; done: Promise<void>; stop(): void } {
  const results: FormattedExecutionResult<T, unknown>[] = [];
  let unsubscribe = () => undefined as void;
  const done = new Promise<void>((resolve) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => results.push(result),
        error: (error) => {
          if (Array.isArray(error)) results.push({ errors: error });
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { results, done, stop: () => unsubscribe() };
}
