// The subscribers of the fan-out benchmark (logs.bench.ts), in their own process: `count` sockets,
// each with one `jobRunLogs` subscription (or, in raw mode, a bare WebSocket to a plain ws server).
// Line texts are the send time (ms since the epoch); each arrival is timed against it.
// Reports JSON lines on stdout: connected, subscribed, done (with latency percentiles).
import { createClient } from 'graphql-ws';
import readline from 'node:readline';
import WebSocket from 'ws';

const { url, token, runId, count, raw } = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const report = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const latencies = [];
let lines = 0;

function summary() {
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { p50: at(50), p99: at(99), max: latencies.at(-1), lines };
}

function timeLines(received) {
  const arrived = now();
  for (const line of received) {
    lines += 1;
    const sent = Number(line.text);
    if (sent > 0) latencies.push(arrived - sent);
  }
}

if (raw) {
  let open = 0;
  let finished = 0;
  for (let i = 0; i < count; i += 1) {
    const socket = new WebSocket(url);
    socket.on('open', () => {
      open += 1;
      if (open === count) report('connected');
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      timeLines(message.payload.data.jobRunLogs.lines);
      if (message.payload.data.jobRunLogs.complete) {
        finished += 1;
        socket.close();
        if (finished === count) report('done', summary());
      }
    });
  }
} else {
  const clients = [];
  let connected = 0;
  for (let i = 0; i < count; i += 1) {
    clients.push(
      createClient({
        url,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authToken: token },
        on: {
          connected: () => {
            connected += 1;
            if (connected === count) report('connected');
          },
        },
        onNonLazyError: (error) => console.error(error),
      }),
    );
  }
  let subscribed = 0;
  let complete = 0;
  let ended = 0;
  const query = `subscription S($runId: ID!) { jobRunLogs(runId: $runId) { lines { seq text } cursor complete } }`;
  readline.createInterface({ input: process.stdin }).on('line', (command) => {
    if (command !== 'subscribe') return;
    for (const client of clients) {
      let first = true;
      client.subscribe(
        { query, variables: { runId } },
        {
          next: (result) => {
            if (result.errors) console.error(JSON.stringify(result.errors));
            const batch = result.data.jobRunLogs;
            timeLines(batch.lines);
            if (batch.complete) complete += 1;
            if (first) {
              first = false;
              subscribed += 1;
              if (subscribed === count) report('subscribed');
            }
          },
          error: (error) => console.error(error),
          complete: () => {
            ended += 1;
            if (ended === count) {
              report('done', { ...summary(), complete });
              for (const each of clients) void each.dispose();
            }
          },
        },
      );
    }
  });
}
