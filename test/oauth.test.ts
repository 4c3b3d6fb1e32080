import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from './support/http-session.js';
import { captureLogs, type LogLineRecord } from './support/log-capture.js';
import { tokenOf, waitForMail } from './support/mail.js';
import {
  startMockOAuthProvider,
  type MockAccount,
  type MockOAuthProvider,
} from './support/oauth-provider.js';
import { startTestServer, type TestServer } from './support/server.js';

// Sign-in with GitHub and Google against a local mock provider (never a live one).

const clients = {
  github: { clientId: 'Iv1.mockgithubclient', clientSecret: `ghsecret_${randomBytes(16).toString('hex')}` },
  google: {
    clientId: 'mock-client.apps.googleusercontent.com',
    clientSecret: `GOCSPX-${randomBytes(16).toString('hex')}`,
  },
};

let mock: MockOAuthProvider;
let server: TestServer;
let logLines: LogLineRecord[];
let policyVersion: string;

beforeAll(async () => {
  mock = await startMockOAuthProvider(clients);
  const logs = captureLogs('debug');
  logLines = logs.lines;
  server = await startTestServer({
    log: logs.log,
    env: {
      ...mock.env,
      GITHUB_CLIENT_ID: clients.github.clientId,
      GITHUB_CLIENT_SECRET: clients.github.clientSecret,
      GOOGLE_CLIENT_ID: clients.google.clientId,
      GOOGLE_CLIENT_SECRET: clients.google.clientSecret,
    },
  });
  mock.setPublicUrl(server.publicUrl);
  policyVersion = (
    await new CookieClient(server.url).graphql<{ privacyPolicy: { version: string } }>(
      '{ privacyPolicy { version } }',
    )
  ).data!.privacyPolicy.version;
});
afterAll(async () => {
  await server?.stop();
  await mock?.close();
});

type Provider = 'github' | 'google';

const browsers: CookieClient[] = [];
/** Every body and Location header our server sent in a test. */
const transcript: string[] = [];

function browser(): CookieClient {
  const client = new CookieClient(server.url);
  browsers.push(client);
  return client;
}

async function gql<T = Record<string, unknown>>(
  client: CookieClient,
  query: string,
  variables?: Record<string, unknown>,
) {
  const result = await client.graphql<T>(query, variables);
  transcript.push(JSON.stringify(result));
  return result;
}

/** A navigation to our server, recorded in the transcript. */
async function visit(client: CookieClient, path: string) {
  const response = await client.get(path);
  transcript.push(JSON.stringify(response));
  return response;
}

let linesChecked = 0;

// Whatever a test did: only the session cookie was set, and no secret reached a log line or a response.
afterEach(() => {
  const cookieNames = browsers.splice(0).flatMap((client) => client.setCookies.map((cookie) => cookie.name));
  expect(cookieNames.filter((name) => name !== 'daestro_session')).toEqual([]);

  const secrets = [
    clients.github.clientSecret,
    clients.google.clientSecret,
    ...mock.issuedSecrets, // authorization codes and access tokens
    ...mock.tokenRequests.map((request) => request.form.code_verifier ?? ''),
  ].filter((secret) => secret.length >= 16);
  const logText = logLines
    .slice(linesChecked)
    .map((line) => JSON.stringify(line))
    .join('\n');
  linesChecked = logLines.length;
  const responses = transcript.splice(0).join('\n');
  for (const secret of secrets) {
    expect(logText, 'a secret reached the log').not.toContain(secret);
    expect(responses, 'a secret reached a response').not.toContain(secret);
  }
});

let counter = 0;
function newAccount(overrides: Partial<MockAccount> = {}): { key: string; account: MockAccount } {
  counter += 1;
  const key = `person${counter}`;
  return {
    key,
    account: {
      id: String(1000 + counter),
      login: `octo${counter}`,
      name: `Grace Hopper ${counter}`,
      email: `grace${counter}.${Date.now()}@example.test`,
      emailVerified: true,
      ...overrides,
    },
  };
}

function addAccount(provider: Provider, overrides: Partial<MockAccount> = {}) {
  const created = newAccount(overrides);
  mock.addAccount(provider, created.key, created.account);
  return created;
}

/** `/auth/<provider>/start`, then the provider approving (as `key`) or declining: returns the callback URL. */
async function startAndAuthorize(
  client: CookieClient,
  provider: Provider,
  as: { key: string } | 'deny',
  next?: string,
) {
  const start = await visit(
    client,
    `/auth/${provider}/start${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`,
  );
  expect(start.status).toBe(302);
  const authorizeUrl = new URL(start.location!);
  authorizeUrl.searchParams.set(as === 'deny' ? 'deny' : 'login_as', as === 'deny' ? '1' : as.key);
  const approval = await client.get(authorizeUrl.href);
  expect(approval.status, approval.body).toBe(302);
  return { authorizeUrl, callbackUrl: approval.location! };
}

/** The whole round trip; returns where our server sent the browser in the end. */
async function signInWith(
  client: CookieClient,
  provider: Provider,
  as: { key: string } | 'deny',
  next?: string,
) {
  const { callbackUrl } = await startAndAuthorize(client, provider, as, next);
  const callback = await visit(client, callbackUrl);
  expect(callback.status).toBe(302);
  return new URL(callback.location!, server.url);
}

const ME = '{ me { id email emailVerifiedAt hasPassword } }';
const PREVIEW = 'query P($ticket: String!) { oauthSignUp(ticket: $ticket) { provider email name } }';
const COMPLETE = `mutation C($input: CompleteOAuthSignUpInput!) {
  completeOAuthSignUp(input: $input) { next user { id name email emailVerifiedAt acceptedPolicyVersion } } }`;
const IDENTITIES = '{ oauthIdentities { id provider email canUnlink } }';
const UNLINK = `mutation U($id: ID!) { unlinkOAuthIdentity(input: { identityId: $id }) { identity { id provider } } }`;

interface CompleteResult {
  completeOAuthSignUp: {
    next: string;
    user: { id: string; name: string; email: string; emailVerifiedAt: string | null };
  };
}

function consent(ticket: string, overrides: Record<string, unknown> = {}) {
  return { input: { ticket, ageConfirmed: true, acceptedPolicyVersion: policyVersion, ...overrides } };
}

async function signUpWith(provider: Provider, overrides: Partial<MockAccount> = {}) {
  const { key, account } = addAccount(provider, overrides);
  const client = browser();
  const landing = await signInWith(client, provider, { key });
  const ticket = landing.searchParams.get('ticket')!;
  const completed = await gql<CompleteResult>(client, COMPLETE, consent(ticket));
  expect(completed.errors).toBeUndefined();
  return { client, key, account, user: completed.data!.completeOAuthSignUp.user };
}

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  return (await server.database.orm.em.getConnection().execute(query, params)) as T[];
}

function codeOf(result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  return result.errors?.[0]?.extensions?.code;
}

const PASSWORD = 'correct horse battery staple';
async function signUpWithPassword(email: string) {
  const client = browser();
  const result = await gql<{ signUp: { user: { id: string } } }>(
    client,
    `mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }`,
    {
      input: {
        name: 'Ada',
        email,
        password: PASSWORD,
        ageConfirmed: true,
        acceptedPolicyVersion: policyVersion,
      },
    },
  );
  expect(result.errors).toBeUndefined();
  return { client, userId: result.data!.signUp.user.id };
}

describe('configuration', () => {
  it('authProviders lists only the configured providers; an unconfigured one is refused', async () => {
    const anonymous = browser();
    const both = await gql<{ authProviders: string[] }>(anonymous, '{ authProviders }');
    expect(both.data!.authProviders).toEqual(['GITHUB', 'GOOGLE']);

    const githubOnly = await startTestServer({
      env: {
        ...mock.env,
        GITHUB_CLIENT_ID: clients.github.clientId,
        GITHUB_CLIENT_SECRET: clients.github.clientSecret,
      },
    });
    try {
      const client = new CookieClient(githubOnly.url);
      browsers.push(client);
      const listed = await client.graphql<{ authProviders: string[] }>('{ authProviders }');
      expect(listed.data!.authProviders).toEqual(['GITHUB']);
      const google = await client.get('/auth/google/start');
      expect(google.status).toBe(302);
      expect(google.location).toBe('/sign-in?error=oauth_unavailable&provider=google');
      expect((await client.get('/auth/gitlab/start')).status).toBe(404);
    } finally {
      await githubOnly.stop();
    }
  });
});

describe('a new person signs up with GitHub', () => {
  it('confirms age and policy on /oauth/complete, then has a verified account and a personal organization', async () => {
    const { key, account } = addAccount('github');
    const client = browser();

    // start: one cookie (the browser binding, no session yet) and a redirect with state + PKCE S256
    const { authorizeUrl, callbackUrl } = await startAndAuthorize(
      client,
      'github',
      { key },
      '/projects?tab=2',
    );
    expect(client.setCookies).toHaveLength(1);
    expect(client.setCookies[0]).toMatchObject({
      name: 'daestro_session',
      attributes: { httponly: true, samesite: 'Lax', path: '/' },
    });
    const bindingValue = client.setCookies[0]!.value;
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(
      `${mock.env.GITHUB_OAUTH_URL}/login/oauth/authorize`,
    );
    expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
      client_id: clients.github.clientId,
      redirect_uri: `${server.publicUrl}/auth/github/callback`,
      code_challenge_method: 'S256',
      scope: 'read:user user:email',
    });
    expect((await gql<{ me: unknown }>(client, ME)).data!.me).toBeNull();

    // callback: no account yet, a ticket instead
    const callback = await visit(client, callbackUrl);
    expect(callback.status).toBe(302);
    const landing = new URL(callback.location!, server.url);
    expect(landing.pathname).toBe('/oauth/complete');
    const ticket = landing.searchParams.get('ticket')!;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await sql('select 1 from user_account where email = ?', [account.email])).length).toBe(0);

    const preview = await gql(client, PREVIEW, { ticket });
    expect(preview.data).toEqual({
      oauthSignUp: { provider: 'GITHUB', email: account.email, name: account.name },
    });

    // Consent is checked before the ticket is spent.
    const noAge = await gql(client, COMPLETE, consent(ticket, { ageConfirmed: false }));
    expect(noAge.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'ageConfirmed' },
    });
    const oldPolicy = await gql(client, COMPLETE, consent(ticket, { acceptedPolicyVersion: '2020-01-01' }));
    expect(oldPolicy.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'acceptedPolicyVersion',
    });

    const completed = await gql<CompleteResult>(client, COMPLETE, consent(ticket, { marketingOptIn: true }));
    expect(completed.errors).toBeUndefined();
    const { user, next } = completed.data!.completeOAuthSignUp;
    expect(next).toBe('/projects?tab=2');
    expect(user).toMatchObject({
      name: account.name,
      email: account.email,
      emailVerifiedAt: expect.any(String),
    });

    // Signed in with a new session token, not the binding value.
    const sessionValue = client.cookies.get('daestro_session');
    expect(sessionValue).not.toBe(bindingValue);
    const signedIn = (await gql<{ me: { id: string; hasPassword: boolean } }>(client, ME)).data!.me;
    expect(signedIn).toMatchObject({ id: user.id, hasPassword: false });
    expect(client.setCookies.map((cookie) => cookie.name)).toEqual(['daestro_session', 'daestro_session']);

    const [row] = await sql<Record<string, unknown>>(
      `select password_hash, email_verified_at, age_confirmed_at, policy_accepted_at, accepted_policy_version, marketing_opt_in
       from user_account where id = ?`,
      [user.id],
    );
    expect(row).toMatchObject({
      password_hash: null,
      email_verified_at: expect.any(String), // timestamptz, as the driver returns it
      age_confirmed_at: expect.any(String), // timestamptz, as the driver returns it
      policy_accepted_at: expect.any(String), // timestamptz, as the driver returns it
      accepted_policy_version: policyVersion,
      marketing_opt_in: true,
    });

    const organizations = await gql<{
      organizations: { id: string; personal: boolean; projects: { code: string }[] }[];
    }>(client, '{ organizations { id personal viewerRole projects { code } } }');
    expect(organizations.data!.organizations).toEqual([
      { id: expect.any(String), personal: true, viewerRole: 'OWNER', projects: [{ code: 'default' }] },
    ]);
    const audit = await gql<{ auditEvents: { action: string }[] }>(
      client,
      'query A($org: ID!) { auditEvents(organizationId: $org) { action } }',
      { org: organizations.data!.organizations[0]!.id },
    );
    expect(audit.data!.auditEvents.map((event) => event.action)).toEqual(['user.signed_up']);
    const events = await sql<{ action: string; details: unknown }>(
      'select action, details from audit_event where actor_id = ? order by action',
      [user.id],
    );
    expect(events).toEqual([
      { action: 'user.signed_in', details: { via: 'github' } },
      { action: 'user.signed_up', details: { via: 'github' } },
    ]);

    const identities = await gql(client, IDENTITIES);
    expect(identities.data).toEqual({
      oauthIdentities: [
        { id: expect.any(String), provider: 'GITHUB', email: account.email, canUnlink: false },
      ],
    });

    // The ticket is single use.
    const again = await gql(browser(), COMPLETE, consent(ticket));
    expect(codeOf(again)).toBe('BAD_USER_INPUT');
    expect((await gql(client, PREVIEW, { ticket })).data).toEqual({ oauthSignUp: null });
  });

  it('lets the person choose another name, and takes the login when GitHub has no name', async () => {
    const { key, account } = addAccount('github', { name: undefined });
    const client = browser();
    const ticket = (await signInWith(client, 'github', { key })).searchParams.get('ticket')!;
    expect((await gql(client, PREVIEW, { ticket })).data).toMatchObject({
      oauthSignUp: { name: account.login },
    });
    const completed = await gql<CompleteResult>(client, COMPLETE, consent(ticket, { name: '  Grace  ' }));
    expect(completed.data!.completeOAuthSignUp).toMatchObject({ next: '/', user: { name: 'Grace' } });
  });
});

describe('a returning person', () => {
  it('signs in by their GitHub identity in a fresh browser and lands on the page they asked for', async () => {
    const { key, user, account } = await signUpWith('github');
    const laptop = browser();
    const landing = await signInWith(laptop, 'github', { key }, '/jobs/42?view=logs');
    expect(landing.pathname + landing.search).toBe('/jobs/42?view=logs');
    expect((await gql<{ me: { id: string } }>(laptop, ME)).data!.me.id).toBe(user.id);
    expect(await sql('select id from user_account where email = ?', [account.email])).toHaveLength(1);

    // `next` only ever leads to a page of this site.
    for (const next of ['//evil.example/x', '/\\evil.example', 'https://evil.example', '/ok\u0000']) {
      const elsewhere = await signInWith(browser(), 'github', { key }, next);
      expect(elsewhere.href, next).toBe(`${server.url}/`);
    }
  });

  it('replaces a signed-in browser’s session with a new one', async () => {
    const { client, key, user } = await signUpWith('google');
    const before = client.cookies.get('daestro_session');
    const landing = await signInWith(client, 'google', { key });
    expect(landing.pathname).toBe('/');
    expect(client.cookies.get('daestro_session')).not.toBe(before);
    expect((await gql<{ me: { id: string } }>(client, ME)).data!.me.id).toBe(user.id);
  });
});

describe('linking to an existing account', () => {
  it('links by a verified email when the account has verified it too, and can unlink while a password remains', async () => {
    const email = `linked.${Date.now()}@example.test`;
    const { client: passwordBrowser, userId } = await signUpWithPassword(email);
    const mail = await waitForMail(server, email, /verify/i);
    const verified = await gql(
      passwordBrowser,
      'mutation V($token: String!) { verifyEmail(input: { token: $token }) { user { id } } }',
      { token: tokenOf(mail.link) },
    );
    expect(verified.errors).toBeUndefined();

    // GitHub reports the address in another case; addresses compare case-insensitively.
    const { key } = addAccount('github', { email: email.toUpperCase() });
    const client = browser();
    const landing = await signInWith(client, 'github', { key }, '/account');
    expect(landing.pathname).toBe('/account');
    expect((await gql<{ me: { id: string } }>(client, ME)).data!.me.id).toBe(userId);
    const identities = await gql<{ oauthIdentities: { id: string; canUnlink: boolean }[] }>(
      client,
      IDENTITIES,
    );
    expect(identities.data!.oauthIdentities).toEqual([
      { id: expect.any(String), provider: 'GITHUB', email, canUnlink: true },
    ]);
    const actions = await sql<{ action: string }>(
      'select action from audit_event where actor_id = ? order by created_at',
      [userId],
    );
    expect(actions.map((event) => event.action)).toEqual(
      expect.arrayContaining(['user.oauth_linked', 'user.signed_in']),
    );

    const unlinked = await gql(client, UNLINK, { id: identities.data!.oauthIdentities[0]!.id });
    expect(unlinked.errors).toBeUndefined();
    expect((await gql(client, IDENTITIES)).data).toEqual({ oauthIdentities: [] });
  });

  it('refuses to link to an account whose address was never verified (it may have been pre-registered)', async () => {
    const email = `squatted.${Date.now()}@example.test`;
    const { userId } = await signUpWithPassword(email);
    const { key } = addAccount('google', { email });
    const client = browser();
    const landing = await signInWith(client, 'google', { key });
    expect(landing.pathname + landing.search).toBe('/sign-in?error=oauth_account_unverified&provider=google');
    expect((await gql<{ me: unknown }>(client, ME)).data!.me).toBeNull();
    expect(await sql('select 1 from oauth_identity where user_id = ?', [userId])).toEqual([]);
    expect(await sql('select 1 from user_account where email = ?', [email])).toHaveLength(1);
  });

  it('links Google to a GitHub-made account by its verified address; the last way to sign in cannot be unlinked', async () => {
    const { client, account, user } = await signUpWith('github');
    const { key } = addAccount('google', { email: account.email });
    const landing = await signInWith(client, 'google', { key });
    expect(landing.pathname).toBe('/');
    expect((await gql<{ me: { id: string } }>(client, ME)).data!.me.id).toBe(user.id);

    const listed = await gql<{ oauthIdentities: { id: string; provider: string; canUnlink: boolean }[] }>(
      client,
      IDENTITIES,
    );
    expect(listed.data!.oauthIdentities.map((identity) => [identity.provider, identity.canUnlink])).toEqual([
      ['GITHUB', true],
      ['GOOGLE', true],
    ]);
    const [github, google] = listed.data!.oauthIdentities;
    expect((await gql(client, UNLINK, { id: github!.id })).errors).toBeUndefined();
    const last = await gql(client, UNLINK, { id: google!.id });
    expect(last.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^This is your only way to sign in\./),
      extensions: { code: 'CONFLICT' },
    });
    // Someone else's identity, or nonsense, is simply not found.
    const stranger = await signUpWith('github');
    expect(codeOf(await gql(stranger.client, UNLINK, { id: google!.id }))).toBe('NOT_FOUND');
    expect(codeOf(await gql(stranger.client, UNLINK, { id: 'nope' }))).toBe('NOT_FOUND');
    expect(codeOf(await gql(browser(), IDENTITIES))).toBe('UNAUTHENTICATED');
  });
});

describe('refusals', () => {
  it('refuses a provider address that is not verified (GitHub: only the primary counts; Google: email_verified)', async () => {
    const github = addAccount('github', {
      emailVerified: false,
      secondaryEmails: [{ email: `secondary.${Date.now()}@example.test`, verified: true }],
    });
    const githubLanding = await signInWith(browser(), 'github', github);
    expect(githubLanding.pathname + githubLanding.search).toBe(
      '/sign-in?error=oauth_email_unverified&provider=github',
    );

    const google = addAccount('google', { emailVerified: false });
    const googleLanding = await signInWith(browser(), 'google', google);
    expect(googleLanding.pathname + googleLanding.search).toBe(
      '/sign-in?error=oauth_email_unverified&provider=google',
    );
    expect(
      await sql('select 1 from user_account where email in (?, ?)', [
        github.account.email,
        google.account.email,
      ]),
    ).toEqual([]);
  });

  it('refuses a replayed state', async () => {
    const { key } = await signUpWith('github');
    const client = browser();
    const { callbackUrl } = await startAndAuthorize(client, 'github', { key });
    expect((await visit(client, callbackUrl)).location).toBe('/');
    const session = client.cookies.get('daestro_session');
    const replay = await visit(client, callbackUrl);
    expect(replay.location).toBe('/sign-in?error=oauth_invalid_state&provider=github');
    expect(client.cookies.get('daestro_session')).toBe(session);
    // The code was never sent to the provider a second time.
    const code = new URL(callbackUrl).searchParams.get('code');
    expect(mock.tokenRequests.filter((request) => request.form.code === code)).toHaveLength(1);
  });

  it('refuses a callback in another browser than the one that started (login CSRF)', async () => {
    // The attacker signs in with their own GitHub account but stops before the callback…
    const attacker = await signUpWith('github');
    const attackerBrowser = browser();
    const { callbackUrl } = await startAndAuthorize(attackerBrowser, 'github', { key: attacker.key });

    // …and lures the victim's browser to it: with no cookie, or with a cookie of its own.
    const victim = browser();
    const landing = await visit(victim, callbackUrl);
    expect(landing.location).toBe('/sign-in?error=oauth_invalid_state&provider=github');
    expect((await gql<{ me: unknown }>(victim, ME)).data!.me).toBeNull();

    const otherVictim = browser();
    const { callbackUrl: attackersSecond } = await startAndAuthorize(attackerBrowser, 'github', {
      key: attacker.key,
    });
    await visit(otherVictim, '/auth/github/start'); // a binding of its own
    expect((await visit(otherVictim, attackersSecond)).location).toBe(
      '/sign-in?error=oauth_invalid_state&provider=github',
    );
    expect((await gql<{ me: unknown }>(otherVictim, ME)).data!.me).toBeNull();
  });

  it('refuses a sign-up ticket in another browser', async () => {
    const { key, account } = addAccount('github');
    const attacker = browser();
    const ticket = (await signInWith(attacker, 'github', { key })).searchParams.get('ticket')!;
    const victim = browser();
    expect((await gql(victim, PREVIEW, { ticket })).data).toEqual({ oauthSignUp: null });
    const stolen = await gql(victim, COMPLETE, consent(ticket));
    expect(stolen.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'ticket' } });
    expect(victim.setCookies).toEqual([]);
    expect(await sql('select 1 from user_account where email = ?', [account.email])).toEqual([]);
    // The rightful browser still can.
    expect((await gql(attacker, COMPLETE, consent(ticket))).errors).toBeUndefined();
  });

  it('sends the PKCE verifier: a tampered one is refused by the provider', async () => {
    for (const provider of ['github', 'google'] as const) {
      const { key } = addAccount(provider);
      const client = browser();
      const { authorizeUrl, callbackUrl } = await startAndAuthorize(client, provider, { key });
      const stateHash = createHash('sha256').update(authorizeUrl.searchParams.get('state')!).digest('hex');
      const tampered = `tampered${randomBytes(20).toString('hex')}`;
      await sql('update oauth_attempt set code_verifier = ? where state_hash = ?', [tampered, stateHash]);

      const landing = await visit(client, callbackUrl);
      expect(landing.location).toBe(`/sign-in?error=oauth_failed&provider=${provider}`);
      const code = new URL(callbackUrl).searchParams.get('code');
      const request = mock.tokenRequests.find((entry) => entry.form.code === code);
      expect(request).toMatchObject({ provider, accepted: false, form: { code_verifier: tampered } });
      expect((await gql<{ me: unknown }>(client, ME)).data!.me).toBeNull();
    }
    // And an untampered exchange proved the verifier against the challenge.
    expect(mock.tokenRequests.some((entry) => entry.accepted && entry.form.code_verifier)).toBe(true);
    expect(
      logLines.some(
        (line) =>
          line.msg === 'sign-in with a provider refused' && line.reason === 'the token request was refused',
      ),
    ).toBe(true);
  });

  it('sends a person who declines at the provider back to sign-in with a code, logged without a trace', async () => {
    const client = browser();
    const landing = await signInWith(client, 'github', 'deny');
    expect(landing.pathname + landing.search).toBe('/sign-in?error=oauth_denied&provider=github');
    expect((await gql<{ me: unknown }>(client, ME)).data!.me).toBeNull();
    const line = logLines.findLast((entry) => entry.msg === 'sign-in with a provider refused');
    expect(line).toMatchObject({ provider: 'github', code: 'oauth_denied', error: 'access_denied' });
    expect(JSON.stringify(line)).not.toMatch(/stack|at .*\.ts:/);

    // A callback with no state at all, or a forged one.
    expect((await visit(client, '/auth/github/callback?code=x')).location).toBe(
      '/sign-in?error=oauth_invalid_state&provider=github',
    );
    expect((await visit(client, '/auth/github/callback?code=x&state=forged')).location).toBe(
      '/sign-in?error=oauth_invalid_state&provider=github',
    );
  });

  it('rate limits starts per address', async () => {
    const client = browser();
    const locations: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 31; attempt += 1) {
      locations.push((await visit(client, '/auth/google/start')).location);
    }
    expect(locations.slice(0, 30).every((location) => location?.startsWith(mock.env.GOOGLE_OAUTH_URL!))).toBe(
      true,
    );
    expect(locations[30]).toBe('/sign-in?error=oauth_rate_limited&provider=google');
  });
});
