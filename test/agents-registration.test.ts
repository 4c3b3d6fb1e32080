import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../server/test/support/wait-for.js';
import {
  GOING_OFFLINE,
  HEARTBEAT,
  WAKEUPS,
  agentSocket,
  collect,
  overSocket,
  registerAgent,
  registeredAgent,
  selfHostedQueue,
} from './support/agent-protocol.js';
import { CookieClient } from './support/http-session.js';
import { apiTokenClient, signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import { firstError, gql, ok, socketFor, sql } from './support/workloads.js';

// Agents through the full server: registration, the AGENT rule both ways, and revocation.

let server: TestServer;
let owner: Person;
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Ada');
  // Room for the many machines these tests register (FREE allows 2; its limit has a test of its own).
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
});
afterAll(() => server?.stop());

const ROTATE = `mutation R($environment: ID!) {
  rotateRegistrationToken(input: { computeEnvironment: $environment }) { registrationToken } }`;
const RETIRE = `mutation R($spawnId: ID!) { retireComputeSpawn(input: { spawnId: $spawnId }) { computeSpawn { id state } } }`;
const SPAWNS = `query S($id: ID!) { computeEnvironment(id: $id) {
  spawns(includeTerminated: true) { id state hostname slots cpuCount memoryMiB lastHeartbeatAt leaseExpiresAt } } }`;

async function spawnRow(spawnId: string) {
  const [row] = await sql<{ state: string; agent_token_hash: string | null }>(
    server,
    'select state, agent_token_hash from compute_spawn where id = ?',
    [spawnId],
  );
  return row!;
}

describe('registerAgent', () => {
  it('exchanges the registration token for a new ONLINE spawn and an agent token whose hash alone is kept', async () => {
    const { environment } = await selfHostedQueue(owner, { slotsPerSpawn: 3 });
    const before = new Date();
    const agent = await registeredAgent(server, environment.registrationToken, {
      hostname: 'build-box-1',
      cpuCount: 6,
      memoryMiB: 16_384,
      agentVersion: '0.1.0',
    });
    expect(agent).toMatchObject({ computeEnvironmentName: environment.name, slots: 3, leaseSeconds: 30 });
    expect(agent.agentToken).toMatch(/^dagt_[A-Za-z0-9_-]{43}$/);

    const [row] = await sql<Record<string, unknown>>(server, 'select * from compute_spawn where id = ?', [
      agent.spawnId,
    ]);
    expect(row).toMatchObject({
      state: 'ONLINE',
      hostname: 'build-box-1',
      slots: 3,
      cpu_count: 6,
      memory_mib: 16_384,
      agent_token_hash: createHash('sha256').update(agent.agentToken).digest('hex'),
    });
    expect(new Date(row!.lease_expires_at as string).getTime()).toBeGreaterThan(before.getTime() + 25_000);
    const stored = await sql(
      server,
      "select count(*)::int as n from compute_spawn where agent_token_hash like 'dagt_%'",
    );
    expect(stored).toEqual([{ n: 0 }]);

    const { computeEnvironment } = await ok<{ computeEnvironment: { spawns: Record<string, unknown>[] } }>(
      owner.client,
      SPAWNS,
      { id: environment.id },
    );
    expect(computeEnvironment.spawns).toEqual([
      expect.objectContaining({ id: agent.spawnId, state: 'ONLINE', hostname: 'build-box-1', slots: 3 }),
    ]);
    const [audit] = await sql<{ details: Record<string, unknown> }>(
      server,
      "select details from audit_event where action = 'agent.registered' and details->>'spawnId' = ?",
      [agent.spawnId],
    );
    expect(audit!.details).toMatchObject({ hostname: 'build-box-1', agentVersion: '0.1.0' });
    expect(JSON.stringify(audit)).not.toContain(agent.agentToken);

    // The agent token works: a heartbeat renews the lease.
    const beat = await agent.http.graphql<{
      agentHeartbeat: { leaseExpiresAt: string; cancelRunIds: string[] };
    }>(HEARTBEAT, { input: { slotsUsed: 0 } });
    expect(beat.errors).toBeUndefined();
    expect(beat.data!.agentHeartbeat.cancelRunIds).toEqual([]);
  });

  it('refuses a wrong or rotated token, and bad machine facts, creating nothing', async () => {
    const { environment } = await selfHostedQueue(owner);
    const spawnsBefore = await sql(server, 'select count(*)::int as n from compute_spawn');

    const wrong = firstError(await registerAgent(server, `${environment.registrationToken}x`));
    expect(wrong.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(wrong.message).toMatch(/registration token is not valid/);

    const rotated = await ok<{ rotateRegistrationToken: { registrationToken: string } }>(
      owner.client,
      ROTATE,
      {
        environment: environment.id,
      },
    );
    expect(firstError(await registerAgent(server, environment.registrationToken)).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    for (const input of [
      { hostname: '   ' },
      { hostname: 'two\nlines' },
      { cpuCount: 0 },
      { memoryMiB: -1 },
    ]) {
      const refused = firstError(
        await registerAgent(server, rotated.rotateRegistrationToken.registrationToken, input),
      );
      expect(refused.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(await sql(server, 'select count(*)::int as n from compute_spawn')).toEqual(spawnsBefore);

    // The current token works, and agents registered before the rotation keep their own tokens.
    const agent = await registeredAgent(server, rotated.rotateRegistrationToken.registrationToken);
    await ok(agent.http, HEARTBEAT, { input: { slotsUsed: 0 } });
  });

  it("stops at the plan's compute spawns (FREE: 2), counting every machine not retired", async () => {
    const person = await signUpPerson(server, 'Fay');
    const { environment } = await selfHostedQueue(person);
    const first = await registeredAgent(server, environment.registrationToken);
    await registeredAgent(server, environment.registrationToken);
    const third = firstError(await registerAgent(server, environment.registrationToken));
    expect(third.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', name: 'computeSpawns', limit: 2 });

    // An OFFLINE machine still counts; a retired one frees its place.
    await ok(first.http, GOING_OFFLINE);
    expect(firstError(await registerAgent(server, environment.registrationToken)).extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
    });
    await ok(person.client, RETIRE, { spawnId: first.spawnId });
    await registeredAgent(server, environment.registrationToken);
  });
});

describe('the AGENT rule', () => {
  it('agents may call only agent operations', async () => {
    const { environment } = await selfHostedQueue(owner);
    const agent = await registeredAgent(server, environment.registrationToken);
    for (const query of [
      '{ organizations { id } }',
      `{ computeEnvironments(projectId: "${owner.projectId}") { id } }`,
      `mutation { rotateRegistrationToken(input: { computeEnvironment: "${environment.id}" }) { registrationToken } }`,
    ]) {
      const refused = firstError(await gql(agent.http, query));
      expect(refused.extensions, query).toMatchObject({ code: 'FORBIDDEN' });
      expect(refused.message).toBe('An agent token only works for the agent operations.');
    }
    // A public field answers as it would to anyone: the agent is nobody's session.
    expect(await ok(agent.http, '{ me { id } }')).toEqual({ me: null });

    const { client } = agentSocket(server, agent.agentToken);
    try {
      const jobEvents = await overSocket(
        client,
        `subscription { jobEvents(projectId: "${owner.projectId}") { jobId } }`,
      );
      expect(jobEvents.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      const beat = await overSocket(client, HEARTBEAT, { input: { slotsUsed: 0 } });
      expect(beat.errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it('people and API tokens may not call agent operations', async () => {
    const token = await apiTokenClient(server, owner, ['READ', 'WRITE', 'ADMIN']);
    const anonymous = new CookieClient(server.url);
    const operations = [
      'mutation { claimRuns(max: 1) { runId } }',
      'mutation { agentGoingOffline }',
      `mutation { markRunStarted(input: { runId: "${crypto.randomUUID()}", leaseToken: "x" }) }`,
      `mutation { appendRunLogs(input: { runId: "${crypto.randomUUID()}", leaseToken: "x", lines: [] }) { storedThrough } }`,
    ];
    for (const query of operations) {
      for (const [who, client, code] of [
        ['session', owner.client, 'FORBIDDEN'],
        ['API token', token, 'FORBIDDEN'],
        ['anonymous', anonymous, 'UNAUTHENTICATED'],
      ] as const) {
        const refused = firstError(await gql(client, query));
        expect(refused.extensions, `${who}: ${query}`).toMatchObject({ code });
      }
    }
    const cookie = [...owner.client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const socket = socketFor(server, { cookie });
    try {
      const wakeups = await overSocket(socket, WAKEUPS);
      expect(wakeups.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(wakeups.errors?.[0]?.message).toMatch(/Only a Daestro agent/);
    } finally {
      await socket.dispose();
    }
  });

  it('refuses an unknown agent token: 401 over HTTP, socket closed with 4401', async () => {
    const forged = `dagt_${'A'.repeat(43)}`;
    const http = new CookieClient(server.url, { authorization: `Bearer ${forged}` });
    const refused = await http.graphql(HEARTBEAT, { input: { slotsUsed: 0 } });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(refused.errors?.[0]?.message).toMatch(/register the agent again/);

    const { client, closeCodes } = agentSocket(server, forged);
    await waitFor(() => closeCodes.length > 0, { what: 'the socket to close' });
    expect(closeCodes[0]).toBe(4401);
    await client.dispose();
  });
});

describe('retiring a machine', () => {
  it('revokes its agent token at once, closing its open sockets with 4401', async () => {
    const { environment } = await selfHostedQueue(owner);
    const agent = await registeredAgent(server, environment.registrationToken);
    const { client, closeCodes } = agentSocket(server, agent.agentToken);
    const wakeups = collect(client, WAKEUPS);
    await overSocket(client, HEARTBEAT, { input: { slotsUsed: 0 } });

    const stranger = await signUpPerson(server, 'Sly');
    expect(
      firstError(await gql(stranger.client, RETIRE, { spawnId: agent.spawnId })).extensions,
    ).toMatchObject({
      code: 'NOT_FOUND',
    });

    const retired = await ok<{ retireComputeSpawn: { computeSpawn: { state: string } } }>(
      owner.client,
      RETIRE,
      {
        spawnId: agent.spawnId,
      },
    );
    expect(retired.retireComputeSpawn.computeSpawn.state).toBe('TERMINATED');
    await waitFor(() => closeCodes.includes(4401), { what: 'the agent socket to close with 4401' });
    await wakeups.done;
    expect(await spawnRow(agent.spawnId)).toEqual({ state: 'TERMINATED', agent_token_hash: null });
    expect((await agent.http.graphql(HEARTBEAT, { input: { slotsUsed: 0 } })).status).toBe(401);
    // Retiring again changes nothing.
    await ok(owner.client, RETIRE, { spawnId: agent.spawnId });
    await client.dispose();
  });

  it('a clean shutdown takes the machine OFFLINE until its next heartbeat; closing the socket changes nothing', async () => {
    const { environment } = await selfHostedQueue(owner);
    const agent = await registeredAgent(server, environment.registrationToken);
    const { client } = agentSocket(server, agent.agentToken);
    await overSocket(client, HEARTBEAT, { input: { slotsUsed: 0 } });
    await client.dispose();
    expect((await spawnRow(agent.spawnId)).state).toBe('ONLINE');

    expect(await ok(agent.http, GOING_OFFLINE)).toEqual({ agentGoingOffline: true });
    expect((await spawnRow(agent.spawnId)).state).toBe('OFFLINE');
    await ok(agent.http, HEARTBEAT, { input: { slotsUsed: 0 } });
    expect((await spawnRow(agent.spawnId)).state).toBe('ONLINE');
  });
});
