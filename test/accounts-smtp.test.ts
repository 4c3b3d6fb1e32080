// The whole account journey with mail delivered over real SMTP (the production path
// for operators without Resend): sign up, read the verification mail as it arrives
// at an SMTP server, verify, sign in twice, revoke one session while its socket is
// open, reset the password from the emailed link.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CookieClient } from './support/http-session.js';
import { tokenOf } from './support/mail.js';
import { startTestServer, type TestServer } from './support/server.js';
import { startSmtpServer } from './support/smtp-server.js';

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let server: TestServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Daestro <no-reply@daestro.test>' },
  });
});
afterAll(async () => {
  await server?.stop();
  await smtp?.close();
});

async function nextMailTo(address: string, subject: RegExp) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = smtp.received.find(
      (message) => message.envelopeTo.includes(address) && subject.test(message.mail.subject ?? ''),
    );
    if (found) {
      smtp.received.splice(smtp.received.indexOf(found), 1);
      const link = /https?:\/\/\S+token=[\w%-]+/.exec(found.mail.text ?? '')?.[0];
      if (!link) throw new Error(`no link in "${found.mail.subject}"`);
      return { mail: found.mail, link };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${address} matching ${subject}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('signs up, verifies, manages sessions and resets the password through mail sent over SMTP', async () => {
  const email = `smtp.${Date.now()}@example.test`;
  const browser = new CookieClient(server.url);
  const policy = await browser.graphql<{ privacyPolicy: { version: string } }>(
    '{ privacyPolicy { version } }',
  );
  await browser.graphql('mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }', {
    input: {
      name: 'Grace Hopper',
      email,
      password: 'correct horse battery staple',
      ageConfirmed: true,
      acceptedPolicyVersion: policy.data!.privacyPolicy.version,
    },
  });

  const verification = await nextMailTo(email, /verify/i);
  expect(verification.mail.from?.text).toBe('"Daestro" <no-reply@daestro.test>');
  expect(verification.mail.html).toContain(verification.link.replaceAll('&', '&amp;'));
  const verified = await browser.graphql<{ verifyEmail: { user: { emailVerifiedAt: string | null } } }>(
    'mutation V($token: String!) { verifyEmail(input: { token: $token }) { user { emailVerifiedAt } } }',
    { token: tokenOf(verification.link) },
  );
  expect(verified.data!.verifyEmail.user.emailVerifiedAt).not.toBeNull();

  const laptop = new CookieClient(server.url);
  await laptop.graphql('mutation L($input: LogInInput!) { logIn(input: $input) { user { id } } }', {
    input: { email, password: 'correct horse battery staple' },
  });
  const closed = new Promise<number>((resolve) => {
    const socket = createClient({
      url: server.wsUrl,
      lazy: false,
      retryAttempts: 0,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers: { cookie: laptop.cookieHeader(), origin: server.publicUrl } });
        }
      },
      on: { closed: (event) => resolve((event as { code: number }).code) },
      onNonLazyError: () => {},
    });
    socket.subscribe(
      { query: 'subscription { serverTicks(intervalMs: 100) { sequence } }' },
      {
        next: () => {},
        error: () => {},
        complete: () => {},
      },
    );
  });
  const sessions = await browser.graphql<{ sessions: { id: string; current: boolean }[] }>(
    '{ sessions { id current } }',
  );
  const laptopSession = sessions.data!.sessions.find((session) => !session.current)!;
  await browser.graphql(
    'mutation R($id: ID!) { revokeSession(input: { sessionId: $id }) { session { id } } }',
    {
      id: laptopSession.id,
    },
  );
  expect(await closed).toBe(4401);

  await new CookieClient(server.url).graphql(
    'mutation R($email: String!) { requestPasswordReset(input: { email: $email }) { accepted } }',
    { email },
  );
  const reset = await nextMailTo(email, /reset/i);
  const phone = new CookieClient(server.url);
  const afterReset = await phone.graphql<{ resetPassword: { user: { email: string } } }>(
    'mutation R($token: String!) { resetPassword(input: { token: $token, newPassword: "a fresh passphrase" }) { user { email } } }',
    { token: tokenOf(reset.link) },
  );
  expect(afterReset.data!.resetPassword.user.email).toBe(email);
  expect((await browser.graphql<{ me: unknown }>('{ me { id } }')).data!.me).toBeNull();
  expect((await phone.graphql<{ me: { id: string } }>('{ me { id } }')).data!.me).not.toBeNull();
});
