// Sign-in latency: the full logIn mutation over HTTP (throttle check, user lookup,
// argon2id verify, session row, audit row, cookie) against a raw argon2.verify of
// the same password hash in the same run. Run with `pnpm bench`.
import argon2 from 'argon2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CookieClient } from '../support/http-session.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SAMPLES = 30;
const PASSWORD = 'correct horse battery staple';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

it('measures logIn p50 against a raw argon2id verify', async () => {
  const policy = await new CookieClient(server.url).graphql<{ privacyPolicy: { version: string } }>(
    '{ privacyPolicy { version } }',
  );
  // One account per sample: the per-account throttle would otherwise stop the run.
  const emails: string[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const email = `bench${i}.${Date.now()}@example.test`;
    await new CookieClient(server.url).graphql(
      'mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }',
      {
        input: {
          name: 'Bench',
          email,
          password: PASSWORD,
          ageConfirmed: true,
          acceptedPolicyVersion: policy.data!.privacyPolicy.version,
        },
      },
    );
    emails.push(email);
  }
  const [row] = (await server.database.orm.em
    .getConnection()
    .execute('select password_hash from user_account where email = ?', [emails[0]])) as {
    password_hash: string;
  }[];

  const raw: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const started = performance.now();
    await argon2.verify(row!.password_hash, PASSWORD);
    raw.push(performance.now() - started);
  }
  const full: number[] = [];
  for (const email of emails) {
    const client = new CookieClient(server.url);
    const started = performance.now();
    const result = await client.graphql(
      'mutation L($input: LogInInput!) { logIn(input: $input) { user { id } } }',
      {
        input: { email, password: PASSWORD },
      },
    );
    full.push(performance.now() - started);
    expect(result.errors).toBeUndefined();
  }

  const rawP50 = percentile(raw, 50);
  const fullP50 = percentile(full, 50);
  console.info(
    [
      `argon2id m=19456 t=2 p=1, ${SAMPLES} samples each`,
      `raw argon2.verify   p50 ${rawP50.toFixed(1)} ms  p95 ${percentile(raw, 95).toFixed(1)} ms`,
      `logIn over HTTP     p50 ${fullP50.toFixed(1)} ms  p95 ${percentile(full, 95).toFixed(1)} ms`,
      `ratio logIn/raw p50 ${(fullP50 / rawP50).toFixed(2)}x`,
    ].join('\n'),
  );
});
