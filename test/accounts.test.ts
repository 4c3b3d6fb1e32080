import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { CookieClient } from './support/http-session.js';
import { tokenOf, waitForMail } from './support/mail.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let policyVersion: string;
beforeAll(async () => {
  server = await startTestServer();
  const anonymous = new CookieClient(server.url);
  policyVersion = (
    await anonymous.graphql<{ privacyPolicy: { version: string } }>('{ privacyPolicy { version } }')
  ).data!.privacyPolicy.version;
});
afterAll(() => server.stop());

const SIGN_UP = `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { id name email emailVerifiedAt } } }`;
const LOG_IN = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { user { id email } } }`;
const ME = `{ me { id email emailVerifiedAt } }`;
const ORGANIZATIONS = `{ organizations { id name personal viewerRole plan { code limits { concurrentRuns logRetentionDays } } projects { code } } }`;
const SESSIONS = `{ sessions { id current browser os device ip } }`;
const CREATE_TOKEN = `mutation CreateToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret apiToken { id name prefix scopes revokedAt } } }`;

let emailCounter = 0;
function uniqueEmail(): string {
  emailCounter += 1;
  return `person${emailCounter}.${Date.now()}@example.test`;
}

const PASSWORD = 'correct horse battery staple';

/** Signs up a new person in a fresh cookie jar. */
async function signUp(overrides: Record<string, unknown> = {}) {
  const client = new CookieClient(server.url);
  const email = uniqueEmail();
  const result = await client.graphql<{ signUp: { user: { id: string; email: string } } }>(SIGN_UP, {
    input: {
      name: 'Ada Lovelace',
      email,
      password: PASSWORD,
      ageConfirmed: true,
      acceptedPolicyVersion: policyVersion,
      ...overrides,
    },
  });
  return { client, email, result, userId: result.data?.signUp.user.id };
}

async function personalOrganizationId(client: CookieClient): Promise<string> {
  const { data } = await client.graphql<{ organizations: { id: string; personal: boolean }[] }>(
    ORGANIZATIONS,
  );
  return data!.organizations.find((organization) => organization.personal)!.id;
}

function codeOf(result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  return result.errors?.[0]?.extensions?.code;
}

/** Opens a graphql-ws connection the way a browser page on `origin` would, with the client's cookie. */
function socketAs(options: { cookie?: string; origin?: string; authToken?: string }) {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: server.wsUrl,
    retryAttempts: 0,
    lazy: false,
    connectionParams: options.authToken ? { authToken: options.authToken } : undefined,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, {
          headers: {
            ...(options.cookie && { cookie: options.cookie }),
            ...(options.origin && { origin: options.origin }),
          },
        });
      }
    },
    on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
    onNonLazyError: () => {},
  });
  const query = <T>(document: string) =>
    new Promise<{ data?: T; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }>(
      (resolve, reject) => {
        let result: { data?: T } | undefined;
        client.subscribe<T>(
          { query: document },
          {
            next: (value) => (result = value as { data?: T }),
            error: reject,
            complete: () => resolve(result ?? {}),
          },
        );
      },
    );
  const closed = () =>
    new Promise<{ code: number; reason: string }>((resolve) => {
      const check = () => (closes[0] ? resolve(closes[0]) : setTimeout(check, 20));
      check();
    });
  return { client, query, closed };
}

describe('sign-up', () => {
  it('says that mail goes to the development outbox when no provider is configured', async () => {
    const { data } = await new CookieClient(server.url).graphql<{ serverInfo: { devOutbox: boolean } }>(
      '{ serverInfo { devOutbox } }',
    );
    expect(data!.serverInfo.devOutbox).toBe(true);
  });

  it('creates the account, a personal organization with a default project, signs in with the only cookie', async () => {
    const { client, email, result } = await signUp();
    expect(result.errors).toBeUndefined();
    expect(result.data!.signUp.user).toMatchObject({ email, emailVerifiedAt: null });

    const [cookie, ...others] = client.setCookies;
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({
      name: 'daestro_session',
      attributes: { httponly: true, samesite: 'Lax', path: '/' },
    });
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(cookie!.attributes.secure).toBeUndefined(); // plain http in tests; Secure + __Host- on https

    expect((await client.graphql<{ me: { email: string } }>(ME)).data!.me.email).toBe(email);
    const { data } = await client.graphql<{ organizations: unknown[] }>(ORGANIZATIONS);
    expect(data!.organizations).toEqual([
      {
        id: expect.any(String),
        name: "Ada Lovelace's organization",
        personal: true,
        viewerRole: 'OWNER',
        plan: { code: 'FREE', limits: { concurrentRuns: 10, logRetentionDays: 1 } },
        projects: [{ code: 'default' }],
      },
    ]);
  });

  it('refuses a missing age confirmation, an old policy version, bad fields and a taken email', async () => {
    expect((await signUp({ ageConfirmed: false })).result.errors?.[0]).toMatchObject({
      message: 'Daestro is for people aged 16 or older; please confirm your age.',
      extensions: { code: 'BAD_USER_INPUT', field: 'ageConfirmed' },
    });
    expect(
      (await signUp({ acceptedPolicyVersion: '2020-01-01' })).result.errors?.[0]?.extensions,
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'acceptedPolicyVersion',
      currentVersion: policyVersion,
    });
    const invalid = await signUp({ email: 'not-an-email', password: 'short' });
    expect(invalid.result.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: {
        email: ['email must be an email address'],
        password: ['password must be 10 to 256 characters long'],
      },
    });

    const first = await signUp();
    const again = await signUp({ email: first.email.toUpperCase() });
    expect(codeOf(again.result)).toBe('CONFLICT');
    expect(again.client.setCookies).toEqual([]);
  });
});

describe('email verification', () => {
  it('verifies with the single-use link from the email, and only once', async () => {
    const { client, email } = await signUp();
    const mail = await waitForMail(server, email, /verify/i);
    expect(mail.link.startsWith(`${server.publicUrl}/verify-email?token=`)).toBe(true);

    const VERIFY = `mutation Verify($token: String!) { verifyEmail(input: { token: $token }) { user { emailVerifiedAt } } }`;
    const verified = await client.graphql<{ verifyEmail: { user: { emailVerifiedAt: string } } }>(VERIFY, {
      token: tokenOf(mail.link),
    });
    expect(verified.data?.verifyEmail.user.emailVerifiedAt).toEqual(expect.any(String));
    const reused = await client.graphql(VERIFY, { token: tokenOf(mail.link) });
    expect(reused.errors?.[0]).toMatchObject({
      message: 'This link is invalid, already used or expired. Ask for a new one.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const resend = await client.graphql('mutation { resendVerificationEmail { accepted } }');
    expect(resend.errors?.[0]?.message).toBe('Your email address is already verified.');
  });
});

describe('sign-in, sessions and revocation', () => {
  it('answers a wrong password and an unknown email identically', async () => {
    const { email } = await signUp();
    const client = new CookieClient(server.url);
    const wrong = await client.graphql(LOG_IN, { input: { email, password: 'not the password' } });
    const unknown = await client.graphql(LOG_IN, { input: { email: uniqueEmail(), password: PASSWORD } });
    expect(wrong.errors?.[0]).toEqual(unknown.errors?.[0]);
    expect(wrong.errors?.[0]).toMatchObject({
      message: 'The email or password is incorrect.',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(client.setCookies).toEqual([]);
  });

  it('upgrades a password hash made with older parameters at the next sign-in', async () => {
    const { email, userId } = await signUp();
    const connection = server.database.orm.em.getConnection();
    const weak = await argon2.hash(PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    await connection.execute('update user_account set password_hash = ? where id = ?', [weak, userId]);
    const signedIn = await new CookieClient(server.url).graphql(LOG_IN, {
      input: { email, password: PASSWORD },
    });
    expect(signedIn.errors).toBeUndefined();
    const [row] = (await connection.execute('select password_hash from user_account where id = ?', [
      userId,
    ])) as {
      password_hash: string;
    }[];
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('lists sessions with their devices and closes a revoked session’s WebSocket at once', async () => {
    const { client: laptop, email } = await signUp();
    const phone = new CookieClient(server.url, {
      'user-agent':
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    });
    await phone.graphql(LOG_IN, { input: { email: email.toUpperCase(), password: PASSWORD } });
    expect(phone.cookies.get('daestro_session')).not.toBe(laptop.cookies.get('daestro_session'));

    const { data } = await laptop.graphql<{
      sessions: { id: string; current: boolean; browser: string; os: string; device: string; ip: string }[];
    }>(SESSIONS);
    expect(data!.sessions).toHaveLength(2);
    const current = data!.sessions.find((session) => session.current)!;
    const other = data!.sessions.find((session) => !session.current)!;
    expect(current).toMatchObject({ browser: 'Firefox 133', os: 'Linux', device: 'Desktop' });
    expect(other).toMatchObject({ browser: 'Mobile Safari 18', os: 'iOS 18.1', device: 'Apple iPhone' });
    expect(other.ip).toContain(phone.address);

    const phoneSocket = socketAs({ cookie: phone.cookieHeader(), origin: server.publicUrl });
    expect((await phoneSocket.query<{ me: { email: string } }>(ME)).data?.me.email).toBe(email);

    const revoked = await laptop.graphql(
      'mutation R($id: ID!) { revokeSession(input: { sessionId: $id }) { session { id } } }',
      {
        id: other.id,
      },
    );
    expect(revoked.errors).toBeUndefined();
    expect(await phoneSocket.closed()).toMatchObject({ code: 4401 });
    expect((await phone.graphql<{ me: unknown }>(ME)).data!.me).toBeNull();
    expect((await laptop.graphql<{ sessions: unknown[] }>(SESSIONS)).data!.sessions).toHaveLength(1);
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const { client } = await signUp();
    const stolenCookie = client.cookieHeader();
    expect((await client.graphql('mutation { logOut { signedOut } }')).errors).toBeUndefined();
    expect(client.cookies.size).toBe(0);
    const replay = new CookieClient(server.url);
    replay.cookies.set('daestro_session', stolenCookie.split('=')[1]!);
    expect((await replay.graphql<{ me: unknown }>(ME)).data!.me).toBeNull();
  });
});

describe('profile, password and email changes', () => {
  const CHANGE_PASSWORD = `mutation P($current: String!, $new: String!) {
    changePassword(input: { currentPassword: $current, newPassword: $new }) { user { id } } }`;
  const CHANGE_EMAIL = `mutation E($email: String!, $current: String!) {
    changeEmail(input: { newEmail: $email, currentPassword: $current }) { user { email emailVerifiedAt } } }`;

  it('changes the password with the current one, ending other sessions and renewing this one', async () => {
    const { client: here, email } = await signUp();
    const elsewhere = new CookieClient(server.url);
    await elsewhere.graphql(LOG_IN, { input: { email, password: PASSWORD } });
    const before = here.cookies.get('daestro_session');

    const wrong = await here.graphql(CHANGE_PASSWORD, {
      current: 'not it at all',
      new: 'a new long passphrase',
    });
    expect(wrong.errors?.[0]).toMatchObject({
      message: 'The current password is incorrect.',
      extensions: { code: 'BAD_USER_INPUT', field: 'currentPassword' },
    });
    expect(
      (await here.graphql(CHANGE_PASSWORD, { current: PASSWORD, new: 'a new long passphrase' })).errors,
    ).toBeUndefined();
    expect(here.cookies.get('daestro_session')).not.toBe(before);
    expect((await here.graphql<{ me: { email: string } }>(ME)).data!.me.email).toBe(email);
    expect((await elsewhere.graphql<{ me: unknown }>(ME)).data!.me).toBeNull();
    // The same session, renewed: the old cookie value is dead, the session list still has this device.
    const replay = new CookieClient(server.url);
    replay.cookies.set('daestro_session', before!);
    expect((await replay.graphql<{ me: unknown }>(ME)).data!.me).toBeNull();
    const { data } = await here.graphql<{ sessions: { current: boolean }[]; me: { hasPassword: boolean } }>(
      '{ sessions { current } me { hasPassword } }',
    );
    expect(data).toEqual({ sessions: [{ current: true }], me: { hasPassword: true } });
  });

  it('changes the email with the password; the new address is unverified until its link is opened', async () => {
    const { client, email } = await signUp();
    const firstLink = await waitForMail(server, email, /verify/i);
    const newEmail = uniqueEmail();
    const changed = await client.graphql<{ changeEmail: { user: { email: string; emailVerifiedAt: null } } }>(
      CHANGE_EMAIL,
      { email: newEmail, current: PASSWORD },
    );
    expect(changed.data!.changeEmail.user).toEqual({ email: newEmail, emailVerifiedAt: null });
    // The old link proves the old address only.
    const VERIFY = `mutation V($token: String!) { verifyEmail(input: { token: $token }) { user { emailVerifiedAt } } }`;
    expect(codeOf(await client.graphql(VERIFY, { token: tokenOf(firstLink.link) }))).toBe('BAD_USER_INPUT');
    const newLink = await waitForMail(server, newEmail, /verify/i);
    expect((await client.graphql(VERIFY, { token: tokenOf(newLink.link) })).errors).toBeUndefined();
    const taken = await client.graphql(CHANGE_EMAIL, { email: (await signUp()).email, current: PASSWORD });
    expect(taken.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'newEmail' });
  });
});

describe('password reset', () => {
  it('answers the same for unknown emails, resets with a single-use link and ends every other session', async () => {
    const { client: oldBrowser, email } = await signUp();
    const REQUEST = `mutation Req($email: String!) { requestPasswordReset(input: { email: $email }) { accepted } }`;
    const stranger = new CookieClient(server.url);
    const known = await stranger.graphql(REQUEST, { email });
    const unknown = await stranger.graphql(REQUEST, { email: uniqueEmail() });
    expect(known).toEqual(unknown);

    const mail = await waitForMail(server, email, /reset/i);
    const RESET = `mutation Reset($token: String!, $password: String!) {
      resetPassword(input: { token: $token, newPassword: $password }) { user { email emailVerifiedAt } } }`;
    const reset = await stranger.graphql<{ resetPassword: { user: { email: string } } }>(RESET, {
      token: tokenOf(mail.link),
      password: 'a brand new passphrase',
    });
    expect(reset.data?.resetPassword.user.email).toBe(email);
    expect(stranger.cookies.has('daestro_session')).toBe(true);
    expect((await oldBrowser.graphql<{ me: unknown }>(ME)).data!.me).toBeNull();
    expect(
      codeOf(
        await stranger.graphql(RESET, { token: tokenOf(mail.link), password: 'yet another passphrase' }),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      codeOf(await new CookieClient(server.url).graphql(LOG_IN, { input: { email, password: PASSWORD } })),
    ).toBe('UNAUTHENTICATED');
  });
});

describe('API tokens', () => {
  it('are shown once, work as Bearer on HTTP and in connectionParams, respect scopes, and die when revoked', async () => {
    const { client } = await signUp();
    const organizationId = await personalOrganizationId(client);
    const created = await client.graphql<{
      createApiToken: { secret: string; apiToken: { id: string; prefix: string; scopes: string[] } };
    }>(CREATE_TOKEN, { input: { name: 'ci', organizationId, scopes: ['READ'] } });
    const { secret, apiToken } = created.data!.createApiToken;
    expect(secret).toMatch(/^dae_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(apiToken.prefix)).toBe(true);
    const listed = await client.graphql<{ apiTokens: Record<string, unknown>[] }>(
      `query T($org: ID!) { apiTokens(organizationId: $org) { id prefix lastUsedAt } }`,
      { org: organizationId },
    );
    expect(JSON.stringify(listed)).not.toContain(secret);

    const program = new CookieClient(server.url, { authorization: `Bearer ${secret}` });
    const orgs = await program.graphql<{ organizations: { id: string }[] }>('{ organizations { id } }');
    expect(orgs.data!.organizations).toEqual([{ id: organizationId }]);
    expect(
      codeOf(
        await program.graphql(`query T($org: ID!) { apiTokens(organizationId: $org) { id } }`, {
          org: organizationId,
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      (
        await program.graphql(`query A($org: ID!) { auditEvents(organizationId: $org) { id } }`, {
          org: organizationId,
        })
      ).errors?.[0]?.message,
    ).toBe('This API token lacks the ADMIN scope.');

    const socket = socketAs({ authToken: secret });
    expect(
      (await socket.query<{ organizations: { id: string }[] }>('{ organizations { id } }')).data
        ?.organizations,
    ).toEqual([{ id: organizationId }]);

    await client.graphql(
      'mutation R($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { apiToken { revokedAt } } }',
      {
        id: apiToken.id,
      },
    );
    expect(await socket.closed()).toMatchObject({ code: 4401 });
    const afterRevoke = await program.graphql('{ organizations { id } }');
    expect(afterRevoke.status).toBe(401);
    expect(codeOf(afterRevoke)).toBe('UNAUTHENTICATED');
    await expect(socketAs({ authToken: secret }).closed()).resolves.toMatchObject({ code: 4403 });
  });
});

describe('tenancy: another organization’s ids are NOT_FOUND', () => {
  it('for every id-taking operation', async () => {
    const alice = await signUp();
    const bob = await signUp();
    const aliceOrg = await personalOrganizationId(alice.client);
    const aliceToken = (
      await alice.client.graphql<{ createApiToken: { apiToken: { id: string } } }>(CREATE_TOKEN, {
        input: { name: 'a', organizationId: aliceOrg, scopes: ['READ'] },
      })
    ).data!.createApiToken.apiToken.id;
    const aliceSession = (await alice.client.graphql<{ sessions: { id: string }[] }>(SESSIONS)).data!
      .sessions[0]!.id;

    const attempts: [string, Record<string, unknown>][] = [
      ['query Q($id: ID!) { organization(id: $id) { name } }', { id: aliceOrg }],
      ['query Q($id: ID!) { apiTokens(organizationId: $id) { id } }', { id: aliceOrg }],
      ['query Q($id: ID!) { auditEvents(organizationId: $id) { id } }', { id: aliceOrg }],
      [
        'mutation M($id: ID!) { createApiToken(input: { name: "x", organizationId: $id, scopes: [READ] }) { secret } }',
        { id: aliceOrg },
      ],
      [
        'mutation M($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { apiToken { id } } }',
        { id: aliceToken },
      ],
      [
        'mutation M($id: ID!) { revokeSession(input: { sessionId: $id }) { session { id } } }',
        { id: aliceSession },
      ],
      ['query Q($id: ID!) { organization(id: $id) { name } }', { id: 'not-a-uuid' }],
    ];
    for (const [document, variables] of attempts) {
      const result = await bob.client.graphql(document, variables);
      expect(codeOf(result), document).toBe('NOT_FOUND');
    }
    // And nothing of Alice's changed.
    expect((await alice.client.graphql<{ sessions: unknown[] }>(SESSIONS)).data!.sessions).toHaveLength(1);
  });
});

describe('WebSocket authentication', () => {
  it('uses the cookie only from an allowed origin and refuses cross-site pages (CSWSH)', async () => {
    const { client, email } = await signUp();
    const sameSite = socketAs({ cookie: client.cookieHeader(), origin: server.publicUrl });
    expect((await sameSite.query<{ me: { email: string } }>(ME)).data?.me.email).toBe(email);

    const evil = socketAs({ cookie: client.cookieHeader(), origin: 'https://evil.example' });
    expect(await evil.closed()).toMatchObject({ code: 4403 });

    const anonymous = socketAs({});
    expect((await anonymous.query<{ me: unknown }>(ME)).data?.me).toBeNull();
    const denied = await anonymous.query(SESSIONS);
    expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('throttling', () => {
  const guess = (email: string, password: string) => ({ input: { email, password } });

  it('stops password guessing per account, and aliases in one request cannot multiply guesses', async () => {
    const { email } = await signUp();
    const attacker = new CookieClient(server.url);
    const aliases = Array.from(
      { length: 12 },
      (_, i) => `a${i}: logIn(input: { email: "${email}", password: "guess-${i}" }) { user { id } }`,
    ).join('\n');
    const batched = await attacker.graphql(`mutation { ${aliases} }`);
    // Mutation fields run one after another and the first failure ends the request: one guess, one point.
    expect(batched.data).toBeNull();
    expect((batched.errors ?? []).map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    const codes: unknown[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) {
      // Each guess from a different address: the per-account budget is what stops them.
      const result = await new CookieClient(server.url).graphql(LOG_IN, guess(email, `guess-${attempt}`));
      codes.push(codeOf(result));
    }
    expect(codes).toEqual([...Array(9).fill('UNAUTHENTICATED'), 'LIMIT_EXCEEDED']);
    // The right password is refused too until the window passes, so guessing cannot go on.
    const honest = await new CookieClient(server.url).graphql(LOG_IN, guess(email, PASSWORD));
    expect(honest.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Too many attempts\. Try again in \d+ seconds\.$/),
      extensions: { code: 'LIMIT_EXCEEDED', retryAfterSeconds: expect.any(Number) },
    });
  });
});

describe('security history', () => {
  it('shows a person their own sign-ins, failed attempts and session changes', async () => {
    const { client, email } = await signUp();
    await new CookieClient(server.url).graphql(LOG_IN, { input: { email, password: 'a wrong guess here' } });
    const other = new CookieClient(server.url);
    await other.graphql(LOG_IN, { input: { email, password: PASSWORD } });
    await other.graphql('mutation { logOut { signedOut } }');
    const { data } = await client.graphql<{ mySecurityEvents: { action: string; ip: string }[] }>(
      '{ mySecurityEvents { action ip } }',
    );
    expect(data!.mySecurityEvents.map((event) => event.action)).toEqual([
      'user.signed_out',
      'user.signed_in',
      'user.sign_in_failed',
      'user.signed_up',
    ]);
    expect(data!.mySecurityEvents[0]!.ip).toContain(other.address);
  });
});

describe('audit log', () => {
  it('records security events that organization owners can read', async () => {
    const { client } = await signUp();
    const organizationId = await personalOrganizationId(client);
    await client.graphql(CREATE_TOKEN, {
      input: { name: 'audit-me', organizationId, scopes: ['READ', 'WRITE'] },
    });
    const { data } = await client.graphql<{
      auditEvents: { action: string; ip: string; actor: { name: string } }[];
    }>('query A($org: ID!) { auditEvents(organizationId: $org) { action ip userAgent actor { name } } }', {
      org: organizationId,
    });
    expect(data!.auditEvents.map((event) => event.action)).toEqual(['api_token.created', 'user.signed_up']);
    expect(data!.auditEvents[0]).toMatchObject({
      ip: expect.stringContaining(client.address),
      actor: { name: 'Ada Lovelace' },
    });
  });
});
