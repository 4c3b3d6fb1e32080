// Live logs (issue 7), through the full server in this process and agents the bench speaks for.
// 1. Sustained ingest: RUNS agents (in another process, as agents are) each append 2,000-line
//    batches back to back over their graphql-ws socket (appendRunLogs: lease check, one chunk
//    row per batch, storedThrough, publish).
//    Baseline: COPY FROM STDIN of the same rows into a bare table, same batches, same concurrency.
// 2. End-to-end latency at 5,000 lines/s: a simulated job writes 50 lines every 10 ms into the
//    agent's own LogShipper (batches every 100 ms, as `daestro agent` ships them); a subscriber
//    stamps each line on arrival. Baseline: a graphql-ws round trip on the same server.
// 3. Fan-out: 1,000 subscribers (one socket each, in a child process) on one run while it logs;
//    delivery latency per subscriber and the server's heap per idle subscription.
//    Baseline: the same message pushed by a bare `ws` server to 1,000 sockets.
// Run with `pnpm bench`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { LogShipper } from '../../server/src/agent/log-shipper.js';
import type { LogLine as AgentLogLine } from '../../server/src/agent/protocol.js';
import { createLogger } from '../../server/src/logger.js';
import { waitFor } from '../../server/test/support/wait-for.js';
import { APPEND_LOGS, collect, overSocket } from '../support/agent-protocol.js';
import { signUpPerson, type Person } from '../support/people.js';
import {
  STORED_LOG_LINES,
  RUN_LOG_STREAM,
  appendLines,
  finishStartedRun,
  startedRun,
  type LogBatchResult,
  type StartedRun,
} from '../support/run-logs.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ok, socketFor, sql } from '../support/workloads.js';

const INGEST_RUNS = 4;
const INGEST_BATCHES_PER_RUN = 50;
const BATCH = 2_000;
const LATENCY_LINES_PER_TICK = 50;
const LATENCY_TICK_MS = 10;
const LATENCY_SECONDS = 10;
const FAN_OUT = 1_000;
const FAN_OUT_BATCHES = 50;
const FAN_OUT_BATCH_LINES = 10;

let server: TestServer;
let owner: Person;
let token: string;
const runs: StartedRun[] = [];
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Bench');
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
  const { createApiToken } = await ok<{ createApiToken: { secret: string } }>(
    owner.client,
    'mutation T($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }',
    { input: { name: 'bench', organizationId: owner.organizationId, scopes: ['READ'] } },
  );
  token = createApiToken.secret;
});
afterAll(async () => {
  for (const run of runs) await run.stop();
  await server?.stop();
});

async function newRun(): Promise<StartedRun> {
  const run = await startedRun(server, owner);
  runs.push(run);
  return run;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const wallClock = () => performance.timeOrigin + performance.now();
const ms = (value: number) => `${value.toFixed(1)} ms`;
const perSecond = (lines: number, millis: number) => Math.round((lines / millis) * 1000).toLocaleString('en');

/** What a job prints: ~60 bytes, the kind of line build and batch jobs write. */
const jobLine = (seq: number) => `line ${seq}: processed item ${seq * 7919} in 12.5 ms (ok)`;

it('measures sustained ingest (agent → stored) against a raw COPY of the same rows', async () => {
  const ingestRuns = await Promise.all(Array.from({ length: INGEST_RUNS }, () => newRun()));
  const agents = startChild('log-agents.mjs', {
    url: server.wsUrl,
    runs: ingestRuns.map((run) => ({ agentToken: run.agentToken, lease: run.lease })),
    batches: INGEST_BATCHES_PER_RUN,
    batchLines: BATCH,
    appendLogs: APPEND_LOGS,
  });
  await agents.next('connected');
  const started = performance.now();
  agents.send('go');
  await agents.next('done');
  const ingestMs = performance.now() - started;
  const total = INGEST_RUNS * INGEST_BATCHES_PER_RUN * BATCH;
  const [stored] = await sql<{ count: number }>(
    server,
    `select count(*)::int as count from (${STORED_LOG_LINES}) line where run_id = any(?::uuid[])`,
    [`{${ingestRuns.map((run) => run.runId).join(',')}}`],
  );
  expect(stored!.count).toBe(total);

  // Baseline: the same rows (as COPY text) into a table with no index, key or constraint.
  const pool = new pg.Pool({ connectionString: server.database.url, max: INGEST_RUNS });
  await pool.query(
    'create table bench_bare_log (run_id uuid, seq int, stream log_stream, logged_at timestamptz, text text)',
  );
  const copyStarted = performance.now();
  await Promise.all(
    ingestRuns.map(async (run) => {
      const client = await pool.connect();
      try {
        for (let batch = 0; batch < INGEST_BATCHES_PER_RUN; batch += 1) {
          let rows = '';
          for (let seq = batch * BATCH + 1; seq <= (batch + 1) * BATCH; seq += 1) {
            rows += `${run.runId}\t${seq}\tSTDOUT\t${new Date().toISOString()}\t${jobLine(seq)}\n`;
          }
          await pipeline(
            Readable.from([rows]),
            client.query(copyFrom('copy bench_bare_log (run_id, seq, stream, logged_at, text) from stdin')),
          );
        }
      } finally {
        client.release();
      }
    }),
  );
  const copyMs = performance.now() - copyStarted;
  await pool.query('drop table bench_bare_log');
  await pool.end();

  console.info(
    [
      `sustained ingest: ${INGEST_RUNS} runs × ${INGEST_BATCHES_PER_RUN} batches × ${BATCH} lines (~60 B), load ${loadavg()[0]!.toFixed(2)}`,
      `appendRunLogs over graphql-ws   ${perSecond(total, ingestMs)} lines/s  (${ms(ingestMs / (total / BATCH / INGEST_RUNS))} per batch per run; agents in another process)`,
      `raw COPY into a bare table      ${perSecond(total, copyMs)} lines/s`,
      `ratio ${(copyMs / ingestMs).toFixed(2)}x of the raw COPY`,
    ].join('\n'),
  );
});

it('measures end-to-end latency (job writes a line → subscriber has it) at 5,000 lines/s', async () => {
  const run = await newRun();
  const spillDir = await mkdtemp(path.join(tmpdir(), 'daestro-bench-'));
  const shipper = new LogShipper({
    log: createLogger('silent'),
    memoryLimitBytes: 64 * 1024 * 1024,
    spillFile: path.join(spillDir, 'spill'),
    send: async (lines: AgentLogLine[]) => {
      const result = await overSocket<{ appendRunLogs: { storedThrough: number } }>(run.agent, APPEND_LOGS, {
        input: { ...run.lease, lines },
      });
      return result.data!.appendRunLogs.storedThrough;
    },
  });
  const subscriber = socketFor(server, { authToken: token });
  const latencies: number[] = [];
  const stream = collect<LogBatchResult>(subscriber, RUN_LOG_STREAM, { runId: run.runId });
  const unsubscribe = setInterval(() => {
    for (const result of stream.results.splice(0)) {
      const now = wallClock();
      for (const line of result.data?.jobRunLogs.lines ?? []) latencies.push(now - Number(line.text));
    }
  }, 1);
  const ticks = (LATENCY_SECONDS * 1000) / LATENCY_TICK_MS;
  const begin = performance.now();
  for (let tick = 0; tick < ticks; tick += 1) {
    for (let i = 0; i < LATENCY_LINES_PER_TICK; i += 1) shipper.add('STDOUT', String(wallClock()));
    // Steady 5,000 lines/s whatever each tick costs.
    const wait = begin + (tick + 1) * LATENCY_TICK_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await shipper.drain();
  const written = ticks * LATENCY_LINES_PER_TICK;
  await waitFor(() => latencies.length >= written, {
    what: 'every line at the subscriber',
    timeoutMs: 60_000,
  });
  clearInterval(unsubscribe);
  stream.stop();
  await rm(spillDir, { recursive: true, force: true });

  const roundTrips: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const sent = performance.now();
    await overSocket(subscriber, '{ serverInfo { version } }');
    roundTrips.push(performance.now() - sent);
  }
  await subscriber.dispose();
  console.info(
    [
      `end-to-end latency, ${written.toLocaleString('en')} lines at 5,000 lines/s (50 every 10 ms), shipped by the agent's LogShipper`,
      `job writes → subscriber receives  p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  max ${ms(Math.max(...latencies))}`,
      `raw: graphql-ws round trip        p50 ${ms(percentile(roundTrips, 50))}  p99 ${ms(percentile(roundTrips, 99))}` +
        ' (plus the shipper’s 100 ms batching, 50 ms on average)',
    ].join('\n'),
  );
  expect(latencies).toHaveLength(written);
}, 120_000);

it('measures fan-out to 1,000 subscribers of one run, and the server’s memory per idle subscription', async () => {
  const run = await newRun();
  await appendLines(run, [{ seq: 1, stream: 'STDOUT', timestamp: new Date().toISOString(), text: '0' }]);
  const gc = exposeGc();
  const heap = () => {
    gc();
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.external + usage.arrayBuffers;
  };

  const before = heap();
  const subscribers = startChild('log-subscribers.mjs', {
    url: server.wsUrl,
    token,
    runId: run.runId,
    count: FAN_OUT,
  });
  await subscribers.next('connected');
  const connected = heap();
  subscribers.send('subscribe');
  // Each has the first line: all are subscribed and idle.
  await subscribers.next('subscribed');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const subscribed = heap();

  for (let batch = 0; batch < FAN_OUT_BATCHES; batch += 1) {
    const from = 2 + batch * FAN_OUT_BATCH_LINES;
    await appendLines(
      run,
      Array.from({ length: FAN_OUT_BATCH_LINES }, (_, i) => ({
        seq: from + i,
        stream: 'STDOUT',
        timestamp: new Date().toISOString(),
        text: String(wallClock()),
      })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await finishStartedRun(run);
  const served = (await subscribers.next('done')) as FanOutSummary & { complete: number };
  expect(served.complete).toBe(FAN_OUT);
  expect(served.lines).toBe(FAN_OUT * (1 + FAN_OUT_BATCHES * FAN_OUT_BATCH_LINES));

  // Baseline: the same payloads, as graphql-ws `next` messages, from a bare ws server in this process.
  const bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(bare, 'listening');
  const rawSubscribers = startChild('log-subscribers.mjs', {
    url: `ws://127.0.0.1:${(bare.address() as AddressInfo).port}`,
    token,
    runId: run.runId,
    count: FAN_OUT,
    raw: true,
  });
  await rawSubscribers.next('connected');
  for (let batch = 0; batch <= FAN_OUT_BATCHES; batch += 1) {
    const lines = Array.from({ length: FAN_OUT_BATCH_LINES }, (_, i) => ({
      seq: i,
      text: String(wallClock()),
    }));
    const message = JSON.stringify({
      id: '1',
      type: 'next',
      payload: { data: { jobRunLogs: { lines, cursor: 0, complete: batch === FAN_OUT_BATCHES } } },
    });
    for (const socket of bare.clients) socket.send(message);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const rawServed = (await rawSubscribers.next('done')) as FanOutSummary;
  bare.close();

  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.info(
    [
      `fan-out: ${FAN_OUT} subscribers (one socket each, another process) on one run, ${FAN_OUT_BATCHES} batches of ${FAN_OUT_BATCH_LINES} lines every 100 ms`,
      `append → each subscriber               p50 ${ms(served.p50)}  p99 ${ms(served.p99)}  max ${ms(served.max)}`,
      `raw: bare ws send to ${FAN_OUT} sockets       p50 ${ms(rawServed.p50)}  p99 ${ms(rawServed.p99)}  max ${ms(rawServed.max)}`,
      `server heap per idle subscription      ${kb((subscribed - connected) / FAN_OUT)}` +
        `  (per connected socket before subscribing: ${kb((connected - before) / FAN_OUT)})`,
    ].join('\n'),
  );
}, 180_000);

interface FanOutSummary {
  p50: number;
  p99: number;
  max: number;
  lines: number;
}

/** `gc()` in this process (vitest does not start workers with --expose-gc). */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * The subscribers' or agents' side in a child process (log-subscribers.mjs, log-agents.mjs), so
 * their sockets and work do not count in this process's memory or compete with the server's
 * event loop. It reports JSON lines ({event, …}) on stdout and takes commands on stdin.
 */
function startChild(name: string, options: Record<string, unknown>) {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const messages: { event: string; [key: string]: unknown }[] = [];
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    messages.push(JSON.parse(line) as { event: string });
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    send(command: string) {
      child.stdin.write(`${command}\n`);
    },
    async next(event: string): Promise<unknown> {
      for (;;) {
        const found = messages.find((message) => message.event === event);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}
