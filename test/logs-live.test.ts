import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../server/test/support/wait-for.js';
import { APPEND_LOGS, APPEND_METRICS, collect, overSocket } from './support/agent-protocol.js';
import { CookieClient } from './support/http-session.js';
import { apiTokenClient, signUpPerson, type Person } from './support/people.js';
import {
  STORED_LOG_LINES,
  RUN_LOG_STREAM,
  appendLines,
  finishStartedRun,
  numberedLines,
  startedRun,
  type LogBatchResult,
  type StartedRun,
} from './support/run-logs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { firstError, ok, socketFor, sql } from './support/workloads.js';

// Live logs through the whole server: an agent the test speaks for appends over its socket;
// people read, search, download and subscribe as the dashboard, CLI or any client would.

let server: TestServer;
let owner: Person;
let stranger: Person;
const open: { stop(): unknown }[] = [];
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Lena');
  stranger = await signUpPerson(server, 'Mo');
  // Every test starts its own agent: more machines than the FREE plan allows.
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
});
afterAll(async () => {
  for (const each of open) await each.stop();
  await server?.stop();
});

async function run(): Promise<StartedRun> {
  const started = await startedRun(server, owner);
  open.push(started);
  return started;
}

function subscriber(person: Person = owner): Client {
  const client = socketFor(server, { cookie: person.client.cookieHeader() });
  open.push({ stop: () => client.dispose() });
  return client;
}

const seqsOf = (results: { data?: LogBatchResult | null }[]) =>
  results.flatMap((result) => result.data?.jobRunLogs.lines.map((line) => line.seq) ?? []);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the jobRunLogs subscription', () => {
  it('replays, then tails while lines keep coming, each line once and in order, and completes on finish', async () => {
    const started = await run();
    await appendLines(started, numberedLines(1, 500));
    // Batches keep landing while the subscription starts, so some fall on the switch point.
    let next = 501;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await appendLines(started, numberedLines(next, next + 24));
        next += 25;
      }
    })();
    const stream = collect<LogBatchResult>(subscriber(), RUN_LOG_STREAM, { runId: started.runId });
    await waitFor(() => seqsOf(stream.results).length > 1000, { what: 'lines while writing' });
    writing = false;
    await writer;
    await finishStartedRun(started);
    await stream.done;
    expect(stream.results.every((result) => !result.errors)).toBe(true);
    expect(seqsOf(stream.results)).toEqual(range(1, next - 1));
    expect(stream.results.at(-1)!.data!.jobRunLogs).toMatchObject({ complete: true, cursor: next - 1 });
  });

  it('misses nothing and repeats nothing when a client reconnects with its cursor after its socket was cut', async () => {
    const started = await run();
    let next = 1;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await appendLines(started, numberedLines(next, next + 9));
        next += 10;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const first = subscriber();
    const before = collect<LogBatchResult>(first, RUN_LOG_STREAM, { runId: started.runId });
    await waitFor(() => seqsOf(before.results).length >= 200, { what: 'lines before the cut' });
    first.terminate();
    await before.done;
    const cursor = before.results.findLast((result) => result.data)!.data!.jobRunLogs.cursor;
    // Lines keep coming while nobody listens.
    await waitFor(() => next > cursor + 300, { what: 'lines while disconnected' });
    const after = collect<LogBatchResult>(subscriber(), RUN_LOG_STREAM, {
      runId: started.runId,
      after: cursor,
    });
    await waitFor(() => seqsOf(after.results).length >= 300, { what: 'lines after reconnecting' });
    writing = false;
    await writer;
    await finishStartedRun(started);
    await after.done;
    expect([...seqsOf(before.results), ...seqsOf(after.results)]).toEqual(range(1, next - 1));
  });

  it('streams a held log of 100,000 lines to a new subscriber, in order and completely', async () => {
    const started = await run();
    for (let from = 1; from <= 100_000; from += 2_000) {
      await appendLines(started, numberedLines(from, from + 1_999));
    }
    await finishStartedRun(started);
    const stream = collect<LogBatchResult>(subscriber(), RUN_LOG_STREAM, { runId: started.runId });
    await stream.done;
    const seqs = seqsOf(stream.results);
    expect(seqs).toHaveLength(100_000);
    expect(seqs.every((seq, index) => seq === index + 1)).toBe(true);
    expect(stream.results.at(-1)!.data!.jobRunLogs.complete).toBe(true);
  }, 120_000);

  it('is refused at subscribe time for a run of another organization, or without signing in', async () => {
    const started = await run();
    const foreign = collect<LogBatchResult>(subscriber(stranger), RUN_LOG_STREAM, { runId: started.runId });
    await foreign.done;
    expect(firstError(foreign.results[0]!).extensions?.code).toBe('NOT_FOUND');
    const anonymous = socketFor(server, { cookie: '' });
    open.push({ stop: () => anonymous.dispose() });
    const refused = collect<LogBatchResult>(anonymous, RUN_LOG_STREAM, { runId: started.runId });
    await refused.done;
    expect(firstError(refused.results[0]!).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('works with a READ API token, and streams metrics alike', async () => {
    const started = await run();
    const { createApiToken } = await ok<{ createApiToken: { secret: string } }>(
      owner.client,
      'mutation T($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }',
      { input: { name: 'log reader', organizationId: owner.organizationId, scopes: ['READ'] } },
    );
    const client = socketFor(server, { authToken: createApiToken.secret });
    open.push({ stop: () => client.dispose() });
    await appendLines(started, numberedLines(1, 3));
    const samples = [0, 1, 2].map((second) => ({
      timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, second)).toISOString(),
      cpuPercent: second,
      memoryBytes: 1000,
      memoryLimitBytes: 0,
    }));
    const appended = await overSocket(started.agent, APPEND_METRICS, {
      input: { ...started.lease, samples },
    });
    expect(appended.errors).toBeUndefined();
    const logs = collect<LogBatchResult>(client, RUN_LOG_STREAM, { runId: started.runId });
    const metrics = collect<{ jobRunMetrics: { samples: { cpuPercent: number }[]; complete: boolean } }>(
      client,
      'subscription M($runId: ID!) { jobRunMetrics(runId: $runId) { samples { cpuPercent } cursor complete } }',
      { runId: started.runId },
    );
    await waitFor(() => seqsOf(logs.results).length === 3, { what: 'the lines' });
    await finishStartedRun(started);
    await Promise.all([logs.done, metrics.done]);
    expect(
      metrics.results.flatMap((result) => result.data!.jobRunMetrics.samples.map((s) => s.cpuPercent)),
    ).toEqual([0, 1, 2]);
    expect(metrics.results.at(-1)!.data!.jobRunMetrics.complete).toBe(true);
  });
});

describe('searching and downloading a run’s log', () => {
  const SEARCH = `query L($runId: ID!, $search: String, $first: Int, $after: Int) {
    jobRunLogs(runId: $runId, search: $search, first: $first, after: $after) { lines { seq text } cursor hasMore } }`;

  it('searches within the run, ignoring case', async () => {
    const started = await run();
    await appendLines(started, [
      ...numberedLines(1, 3),
      { seq: 4, stream: 'STDERR', timestamp: new Date().toISOString(), text: 'FATAL: out of memory' },
      { seq: 5, stream: 'STDOUT', timestamp: new Date().toISOString(), text: 'retrying after a fatal error' },
    ]);
    const page = await ok<{ jobRunLogs: { lines: { seq: number }[]; cursor: number; hasMore: boolean } }>(
      owner.client,
      SEARCH,
      { runId: started.runId, search: 'fatal', first: 1 },
    );
    expect(page.jobRunLogs).toEqual({
      lines: [{ seq: 4, text: 'FATAL: out of memory' }],
      cursor: 4,
      hasMore: true,
    });
    const rest = await ok<{ jobRunLogs: { lines: { seq: number }[] } }>(owner.client, SEARCH, {
      runId: started.runId,
      search: 'fatal',
      after: 4,
    });
    expect(rest.jobRunLogs.lines.map((line) => line.seq)).toEqual([5]);
    const foreign = await stranger.client.graphql(SEARCH, { runId: started.runId, search: 'fatal' });
    expect(firstError(foreign).extensions?.code).toBe('NOT_FOUND');
  });

  it('downloads the whole log as plain text, authorised like the query', async () => {
    const started = await run();
    for (let from = 1; from <= 12_000; from += 2_000)
      await appendLines(started, numberedLines(from, from + 1_999));
    const { job } = await ok<{ job: { runs: { logUrl: string }[] } }>(
      owner.client,
      'query J($id: ID!) { job(id: $id) { runs { logUrl } } }',
      { id: started.jobId },
    );
    const path = job.runs[0]!.logUrl;
    expect(path).toBe(`/runs/${started.runId}/log.txt`);
    const expected = range(1, 12_000)
      .map((seq) => `line ${seq}\n`)
      .join('');

    const withCookie = await fetch(new URL(path, server.url), {
      headers: { cookie: owner.client.cookieHeader() },
    });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await withCookie.text()).toBe(expected);
    const token = await apiTokenClient(server, owner, ['READ']);
    expect((await token.get(path)).body).toBe(expected);

    expect((await stranger.client.get(path)).status).toBe(404);
    expect((await new CookieClient(server.url).get(path)).status).toBe(401);
    expect((await owner.client.get('/runs/not-a-run/log.txt')).status).toBe(404);
    const writeOnly = await apiTokenClient(server, owner, ['WRITE']);
    expect((await writeOnly.get(path)).status).toBe(403);
    const agentToken = new CookieClient(server.url, { authorization: `Bearer dagt_${'x'.repeat(40)}` });
    expect((await agentToken.get(path)).status).toBe(401);
  });
});

describe('log storage and refused batches', () => {
  it('shows usage against the plan to members only', async () => {
    const started = await run();
    await appendLines(started, numberedLines(1, 10));
    const query = `query S($org: ID!) { logStorage(organizationId: $org) { organizationId plan usedBytes quotaBytes retentionDays } }`;
    const storage = await ok<{ logStorage: Record<string, unknown> }>(owner.client, query, {
      org: owner.organizationId,
    });
    const [usage] = await sql<{ bytes: string }>(
      server,
      `select sum(octet_length(text)) as bytes from (${STORED_LOG_LINES}) l join job_run r on r.id = l.run_id
       join job j on j.id = r.job_id join project p on p.id = j.project_id where p.organization_id = ?`,
      [owner.organizationId],
    );
    expect(storage.logStorage).toEqual({
      organizationId: owner.organizationId,
      plan: 'TEAM',
      usedBytes: Number(usage!.bytes),
      quotaBytes: 200 * 1024 * 1024 * 1024,
      retentionDays: 90,
    });
    const foreign = await stranger.client.graphql(query, { org: owner.organizationId });
    expect(firstError(foreign).extensions?.code).toBe('NOT_FOUND');
  });

  it('takes a batch written inline in the document, and refuses malformed ones naming the line', async () => {
    const started = await run();
    const inline = await overSocket<{ appendRunLogs: { storedThrough: number } }>(
      started.agent,
      `mutation {
        appendRunLogs(input: { runId: "${started.runId}", leaseToken: "${started.lease.leaseToken}",
          lines: [{ seq: 1, stream: "STDOUT", timestamp: "2026-11-27T12:00:00.000Z", text: "inline" }] }) {
          storedThrough
        }
      }`,
    );
    expect(inline.errors).toBeUndefined();
    expect(inline.data!.appendRunLogs.storedThrough).toBe(1);
    const malformed: [unknown, string][] = [
      ['not a list', 'lines'],
      [[{ ...numberedLines(2, 2)[0]!, seq: 'two' }], 'lines.0.seq'],
      [[...numberedLines(2, 2), { ...numberedLines(3, 3)[0]!, timestamp: 'yesterday' }], 'lines.1.timestamp'],
    ];
    for (const [lines, field] of malformed) {
      const refused = await overSocket(started.agent, APPEND_LOGS, { input: { ...started.lease, lines } });
      expect(firstError(refused).extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const [stored] = await sql<{ count: number }>(
      server,
      `select count(*)::int as count from (${STORED_LOG_LINES}) line where run_id = ?`,
      [started.runId],
    );
    expect(stored!.count).toBe(1);
  });

  it('refuses an oversized batch and a batch for a run the agent does not hold, storing nothing', async () => {
    const mine = await run();
    const theirs = await run();
    const oversized = await overSocket(mine.agent, APPEND_LOGS, {
      input: { ...mine.lease, lines: numberedLines(1, 2_001) },
    });
    expect(firstError(oversized).extensions?.code).toBe('BAD_USER_INPUT');
    const longLine = await overSocket(mine.agent, APPEND_LOGS, {
      input: { ...mine.lease, lines: [{ ...numberedLines(1, 1)[0]!, text: 'x'.repeat(16 * 1024 + 1) }] },
    });
    expect(firstError(longLine).extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = await overSocket(mine.agent, APPEND_LOGS, {
      input: { ...theirs.lease, lines: numberedLines(1, 2) },
    });
    expect(firstError(foreign).extensions).toMatchObject({ code: 'CONFLICT', reason: 'STALE_LEASE' });
    const [stored] = await sql<{ count: number }>(
      server,
      `select count(*)::int as count from (${STORED_LOG_LINES}) line where run_id = any(?::uuid[])`,
      [`{${mine.runId},${theirs.runId}}`],
    );
    expect(stored!.count).toBe(0);
  });
});
