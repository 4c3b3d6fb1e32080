import { createClient, type Client } from 'graphql-ws';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { CookieClient } from './http-session.js';
import type { TestServer } from './server.js';

/** Workload fixtures made through the API, as a person would. */

type GraphQLErrorShape = { message: string; extensions?: Record<string, unknown> };
export type Result<T> = { data?: T | null; errors?: readonly GraphQLErrorShape[]; status: number };

export async function gql<T = Record<string, unknown>>(
  client: CookieClient,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Result<T>> {
  return (await client.graphql<T>(query, variables)) as Result<T>;
}

/** The data of an operation that must succeed. */
export async function ok<T = Record<string, unknown>>(
  client: CookieClient,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const result = await gql<T>(client, query, variables);
  expect(result.errors, `${query.slice(0, 80)}…`).toBeUndefined();
  return result.data!;
}

export function firstError(result: { errors?: readonly GraphQLErrorShape[] }): GraphQLErrorShape {
  expect(result.errors, 'expected the operation to fail').toBeDefined();
  return result.errors![0]!;
}

export function sql<T = Record<string, unknown>>(
  server: TestServer,
  query: string,
  params: unknown[] = [],
): Promise<T[]> {
  return server.database.orm.em.getConnection().execute(query, params) as Promise<T[]>;
}

export const CREATE_DEFINITION = `mutation C($input: CreateJobDefinitionInput!) {
  createJobDefinition(input: $input) { jobDefinition { id name version reference } warnings } }`;
export const CREATE_QUEUE = `mutation Q($input: CreateJobQueueInput!) {
  createJobQueue(input: $input) { jobQueue { id name enabled } } }`;
export const CREATE_ENVIRONMENT = `mutation E($input: CreateComputeEnvironmentInput!) {
  createComputeEnvironment(input: $input) { computeEnvironment { id name registrationTokenPrefix } registrationToken } }`;
export const LINK = `mutation L($queue: ID!, $environments: [ID!]!) {
  setJobQueueComputeEnvironments(input: { queue: $queue, computeEnvironments: $environments }) {
    jobQueue { id enabled computeEnvironments { id name } } } }`;
export const SET_ENABLED = `mutation S($queue: ID!, $enabled: Boolean!) {
  setJobQueueEnabled(input: { queue: $queue, enabled: $enabled }) { jobQueue { id enabled } } }`;
export const SUBMIT = `mutation S($input: SubmitJobInput!) { submitJob(input: $input) { job { id name state } } }`;
export const CANCEL = `mutation C($job: ID!) { cancelJob(input: { job: $job }) { job { id state systemNote canCancel } } }`;

export interface Created {
  id: string;
  name: string;
}

let sequence = 0;
/** A name unique in this test run. */
export function uniqueName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

export async function createBashDefinition(
  client: CookieClient,
  projectId: string,
  input: Record<string, unknown> = {},
): Promise<Created & { version: number; reference: string }> {
  const data = await ok<{
    createJobDefinition: { jobDefinition: Created & { version: number; reference: string } };
  }>(client, CREATE_DEFINITION, {
    input: { projectId, name: uniqueName('def'), type: 'BASH', script: 'echo "$@"', ...input },
  });
  return data.createJobDefinition.jobDefinition;
}

/** A queue; left disabled, its jobs wait in PENDING (unless `enabled`, which links a new environment first). */
export async function createQueue(
  client: CookieClient,
  projectId: string,
  options: { enabled?: boolean; input?: Record<string, unknown> } = {},
): Promise<Created> {
  const data = await ok<{ createJobQueue: { jobQueue: Created } }>(client, CREATE_QUEUE, {
    input: { projectId, name: uniqueName('queue'), ...options.input },
  });
  const queue = data.createJobQueue.jobQueue;
  if (options.enabled) {
    const environment = await createSelfHostedEnvironment(client, projectId);
    await ok(client, LINK, { queue: queue.id, environments: [environment.id] });
    await ok(client, SET_ENABLED, { queue: queue.id, enabled: true });
  }
  return queue;
}

export async function createSelfHostedEnvironment(
  client: CookieClient,
  projectId: string,
  input: Record<string, unknown> = {},
): Promise<Created & { registrationToken: string; registrationTokenPrefix: string }> {
  const data = await ok<{
    createComputeEnvironment: {
      computeEnvironment: Created & { registrationTokenPrefix: string };
      registrationToken: string;
    };
  }>(client, CREATE_ENVIRONMENT, {
    input: { projectId, name: uniqueName('env'), kind: 'SELF_HOSTED', ...input },
  });
  return {
    ...data.createComputeEnvironment.computeEnvironment,
    registrationToken: data.createComputeEnvironment.registrationToken,
  };
}

export async function submitJob(
  client: CookieClient,
  input: Record<string, unknown>,
): Promise<{ id: string; name: string; state: string }> {
  const data = await ok<{ submitJob: { job: { id: string; name: string; state: string } } }>(client, SUBMIT, {
    input,
  });
  return data.submitJob.job;
}

/** A graphql-ws connection signed in as a person (their cookie, from the dashboard's origin) or with an API token. */
export function socketFor(
  server: TestServer,
  credentials: { cookie: string } | { authToken: string },
): Client {
  const cookie = 'cookie' in credentials ? credentials.cookie : undefined;
  return createClient({
    url: server.wsUrl,
    retryAttempts: 0,
    connectionParams: 'authToken' in credentials ? { authToken: credentials.authToken } : undefined,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: cookie ? { cookie, origin: server.publicUrl } : {} });
      }
    },
  });
}
