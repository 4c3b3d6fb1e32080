import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL, takeResults, wsClient } from './support/graphql-client.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const SERVER_INFO = `{ serverInfo { version uptimeSeconds installationId installedAt database { mode serverVersion } } }`;
const TICKS = `subscription Ticks($intervalMs: Int!) { serverTicks(intervalMs: $intervalMs) { sequence at uptimeSeconds } }`;

interface ServerInfoData {
  serverInfo: {
    version: string;
    uptimeSeconds: number;
    installationId: string;
    installedAt: string;
    database: { mode: string; serverVersion: string };
  };
}

describe('GraphQL over HTTP', () => {
  it('answers a query from the database', async () => {
    const { status, body } = await postGraphQL<ServerInfoData>(server.url, SERVER_INFO);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const info = body.data!.serverInfo;
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.installationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/); // UUIDv7
    expect(Date.parse(info.installedAt)).toBeLessThanOrEqual(Date.now());
    expect(info.database).toEqual({
      mode: 'EXTERNAL',
      serverVersion: expect.stringMatching(/^\d+(\.\d+)?$/),
    });
  });

  it('refuses a simple-request POST (text/plain) as potential CSRF', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: SERVER_INFO }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Cross-Site Request Forgery');
  });

  it('refuses a GET query without a preflight header, so a link or <img> cannot run one', async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent(SERVER_INFO)}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
  });

  it('reports a malformed query with its code and no stack trace', async () => {
    const { status, body } = await postGraphQL(server.url, '{ serverInfo { nope } }');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toContain('Cannot query field "nope"');
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|node_modules|\.ts:\d+/);
  });

  it('refuses operations past the depth and alias limits before running them, over HTTP and WebSocket', async () => {
    const messages = (result: { body: { errors?: readonly { message: string }[] } }) =>
      (result.body.errors ?? []).map((error) => error.message).join('\n');
    const aliases = (count: number, field: string) =>
      Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

    expect(
      (await postGraphQL(server.url, `{ ${aliases(15, 'serverInfo { version }')} }`)).body.errors,
    ).toBeUndefined();
    const tooMany = await postGraphQL(server.url, `{ ${aliases(16, 'serverInfo { version }')} }`);
    expect(tooMany.status).toBe(400);
    expect(messages(tooMany)).toMatch(/aliases limit of 15/i);

    let nested = 'id';
    for (let level = 0; level < 13; level += 1) nested = `actor { ${nested} }`;
    const tooDeep = await postGraphQL(server.url, `{ mySecurityEvents { ${nested} } }`);
    expect(tooDeep.status).toBe(400);
    expect(messages(tooDeep)).toMatch(/depth limit of 12/i);

    const client = wsClient(server.wsUrl);
    try {
      await expect(
        takeResults(client, `subscription { ${aliases(16, 'serverTicks { sequence }')} }`, 1),
      ).rejects.toSatisfy((errors: unknown) =>
        (errors as { message: string }[]).some((error) => /aliases limit of 15/i.test(error.message)),
      );
    } finally {
      await client.dispose();
    }
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', database: true });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toMatch(/daestro_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(metrics).toContain('daestro_websocket_connections_total');
  });
});

describe('GraphQL over WebSocket (graphql-ws)', () => {
  it('streams a subscription and counts the connection in /metrics', async () => {
    const client = wsClient(server.wsUrl);
    try {
      const results = await takeResults<{ serverTicks: { sequence: number; at: string } }>(client, TICKS, 3, {
        intervalMs: 100,
      });
      expect(results.map((r) => r.data?.serverTicks.sequence)).toEqual([1, 2, 3]);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/daestro_websocket_connections 1\b/);
    } finally {
      await client.dispose();
    }
  });

  it('answers queries over the socket too, with a fresh context per operation', async () => {
    const client = wsClient(server.wsUrl);
    try {
      const [first] = await takeResults<ServerInfoData>(client, SERVER_INFO, 1);
      expect(first?.data?.serverInfo.database.mode).toBe('EXTERNAL');
    } finally {
      await client.dispose();
    }
  });

  it('rejects an out-of-range interval with BAD_USER_INPUT', async () => {
    const client = wsClient(server.wsUrl);
    try {
      const [result] = await takeResults(client, TICKS, 1, { intervalMs: 5 });
      expect(result?.errors?.[0]).toMatchObject({
        message: 'intervalMs must be a whole number from 100 to 60000.',
        extensions: { code: 'BAD_USER_INPUT', field: 'intervalMs' },
      });
    } finally {
      await client.dispose();
    }
  });

  it('reports an invalid subscription document without internals', async () => {
    const client = wsClient(server.wsUrl);
    try {
      await expect(takeResults(client, 'subscription { nope }', 1)).rejects.toSatisfy((errors: unknown) => {
        const [error] = errors as { message: string; extensions?: { code?: string } }[];
        return (
          error?.message.includes('Cannot query field "nope"') === true &&
          !JSON.stringify(errors).includes('at ')
        );
      });
    } finally {
      await client.dispose();
    }
  });
});
