import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../server/src/logger.js';
import { startTestServer, type TestServer } from './support/server.js';

// Every log line the server writes, parsed, so tests can check what is (not) logged.
const logLines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ log: createLogger('debug', capture) });
});
afterAll(() => server.stop());

describe('pages', () => {
  it('serves the dashboard for any page path, whatever the Accept header', async () => {
    for (const [path, accept] of [
      ['/', '*/*'],
      ['/jobs/42', 'text/html'],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { headers: { accept } });
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('<div id="app">');
    }
  });

  it('gives a browser GraphiQL at /graphql and an API client the GraphQL endpoint', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html,*/*' } });
    expect(await page.text()).toContain('graphiql');
    const api = await fetch(`${server.url}/graphql`, { headers: { accept: 'application/json' } });
    expect(api.headers.get('content-type')).toContain('application/json');
  });

  it('serves hashed assets with long caching and 404s missing ones', async () => {
    const index = await (await fetch(`${server.url}/`)).text();
    const asset = /\/assets\/[^"]+\.js/.exec(index)?.[0];
    expect(asset).toBeDefined();
    const response = await fetch(`${server.url}${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/nope-123.js`)).status).toBe(404);
  });
});

describe('request log', () => {
  it('writes one line per request with method, path, status, duration, IP and user agent, and nothing secret', async () => {
    const response = await fetch(`${server.url}/healthz?token=dae_supersecret`, {
      headers: {
        'user-agent': 'log-test/1.0',
        cookie: 'session=cookie-secret',
        authorization: 'Bearer hdr-secret',
      },
    });
    const requestId = response.headers.get('x-request-id');
    const line = logLines.find((l) => (l.req as { id?: string } | undefined)?.id === requestId);
    expect(line).toMatchObject({
      req: {
        method: 'GET',
        path: '/healthz',
        ip: expect.stringMatching(/127\.0\.0\.1/),
        userAgent: 'log-test/1.0',
      },
      res: { status: 200 },
      durationMs: expect.any(Number),
    });
    expect(JSON.stringify(logLines)).not.toMatch(/supersecret|cookie-secret|hdr-secret/);
  });
});

describe('errors outside GraphQL execution', () => {
  it('answers a malformed JSON body with a GraphQL-shaped 400 and no stack trace', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": bad',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('answers unknown routes and missing assets with a plain 404', async () => {
    for (const [method, path] of [
      ['POST', '/nowhere'],
      ['GET', '/assets/nope-456.css'],
    ]) {
      const response = await fetch(`${server.url}${path}`, { method });
      expect(response.status, path).toBe(404);
      expect(await response.text()).toBe('Not found');
    }
  });
});
