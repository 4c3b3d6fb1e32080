import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from './support/http-session.js';
import { startTestServer, type TestServer } from './support/server.js';

const ME = '{ me { id } }';

async function signUp(server: TestServer): Promise<CookieClient> {
  const client = new CookieClient(server.url);
  const { data } = await client.graphql<{ privacyPolicy: { version: string } }>(
    '{ privacyPolicy { version } }',
  );
  await client.graphql('mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }', {
    input: {
      name: 'Timed',
      email: `timed.${Date.now()}.${Math.random()}@example.test`,
      password: 'correct horse battery staple',
      ageConfirmed: true,
      acceptedPolicyVersion: data!.privacyPolicy.version,
    },
  });
  return client;
}

const signedIn = async (client: CookieClient) =>
  (await client.graphql<{ me: unknown }>(ME)).data!.me !== null;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('session lifetime', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { SESSION_IDLE_TIMEOUT_SECONDS: '2', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '5' },
    });
  });
  afterAll(() => server.stop());

  it('ends a session left idle past the idle timeout, and keeps a used one alive until the absolute end', async () => {
    const idle = await signUp(server);
    const busy = await signUp(server);
    // Used every half second, past the 2 s idle timeout.
    for (let elapsed = 0; elapsed < 3_000; elapsed += 500) {
      expect(await signedIn(busy)).toBe(true);
      await sleep(500);
    }
    expect(await signedIn(idle)).toBe(false);
    expect(await signedIn(busy)).toBe(true);
    // However active, it ends 5 s after sign-in.
    const deadline = Date.now() + 8_000;
    while ((await signedIn(busy)) && Date.now() < deadline) await sleep(400);
    expect(await signedIn(busy)).toBe(false);
  }, 20_000);
});

describe('the session cookie behind HTTPS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PUBLIC_URL: 'https://daestro.example.com' } });
  });
  afterAll(() => server.stop());

  it('is Secure and __Host- prefixed when PUBLIC_URL is https', async () => {
    const client = await signUp(server);
    expect(client.setCookies).toEqual([
      {
        name: '__Host-daestro_session',
        value: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        attributes: expect.objectContaining({ secure: true, httponly: true, samesite: 'Lax', path: '/' }),
      },
    ]);
    expect(client.setCookies[0]!.attributes.domain).toBeUndefined();
  });
});
