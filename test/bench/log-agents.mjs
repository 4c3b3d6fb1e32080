// The agents of the sustained-ingest benchmark (logs.bench.ts), in their own process as agents are:
// one graphql-ws socket per run, each appending `batches` batches of `batchLines` lines back to back,
// every line stamped when it is made, as `daestro agent` does. Reports JSON lines on stdout:
// connected, then done once every batch is acknowledged.
import { createClient } from 'graphql-ws';
import readline from 'node:readline';
import WebSocket from 'ws';

const { url, runs, batches, batchLines, appendLogs } = JSON.parse(process.argv[2]);
const report = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);

/** What a job prints: ~60 bytes, the kind of line build and batch jobs write. */
const jobLine = (seq) => `line ${seq}: processed item ${seq * 7919} in 12.5 ms (ok)`;

function request(client, query, variables) {
  return new Promise((resolve, reject) => {
    let result;
    client.subscribe(
      { query, variables },
      { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
    );
  });
}

const agents = runs.map(({ agentToken, lease }) => ({
  lease,
  client: createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { agentToken },
  }),
}));
// A round trip on each socket: all are connected and authenticated.
await Promise.all(agents.map(({ client }) => request(client, '{ __typename }')));
report('connected');

readline.createInterface({ input: process.stdin }).once('line', async () => {
  await Promise.all(
    agents.map(async ({ client, lease }) => {
      for (let batch = 0; batch < batches; batch += 1) {
        const lines = [];
        for (let i = 1; i <= batchLines; i += 1) {
          const seq = batch * batchLines + i;
          lines.push({ seq, stream: 'STDOUT', timestamp: new Date().toISOString(), text: jobLine(seq) });
        }
        const result = await request(client, appendLogs, { input: { ...lease, lines } });
        if (result.errors) throw new Error(JSON.stringify(result.errors));
      }
    }),
  );
  report('done');
  for (const { client } of agents) await client.dispose();
  process.exit(0);
});
