// End-to-end: sign-in with GitHub in the built dashboard, in headless Chromium against the real
// server and the local mock provider (test/support/oauth-provider.ts), which approves at once and
// sends the browser straight back. Only GitHub is configured. Each test continues where the
// previous one left off. Needs web/dist (see dashboard.test.ts).
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromUserMenu,
  launchBrowser,
  offHostRequests,
  openTrackedPage,
  pathOf,
  waitForPath,
  type TrackedPage,
} from '../support/browser.js';
import { startMockOAuthProvider, type MockOAuthProvider } from '../support/oauth-provider.js';
import { startTestServer, type TestServer } from '../support/server.js';

const clients = {
  github: { clientId: 'Iv1.mockgithubclient', clientSecret: `ghsecret_${randomBytes(16).toString('hex')}` },
  google: {
    clientId: 'mock-client.apps.googleusercontent.com',
    clientSecret: `GOCSPX-${randomBytes(16).toString('hex')}`,
  },
};
const account = {
  id: '4242',
  login: 'ghopper',
  name: 'Grace Hopper',
  email: 'grace@example.test',
  emailVerified: true,
};
const liveIndicator = '[data-testid="connection-indicator"][data-state="live"]';

let mock: MockOAuthProvider;
let server: TestServer;
let browser: Browser;
let tracked: TrackedPage;

beforeAll(async () => {
  if (!existsSync(new URL('../../web/dist/index.html', import.meta.url))) {
    throw new Error('web/dist is missing: run `pnpm --filter @daestro/web build` first');
  }
  mock = await startMockOAuthProvider(clients);
  [server, browser] = await Promise.all([
    startTestServer({
      env: {
        ...mock.env,
        GITHUB_CLIENT_ID: clients.github.clientId,
        GITHUB_CLIENT_SECRET: clients.github.clientSecret,
      },
    }),
    launchBrowser(),
  ]);
  mock.setPublicUrl(server.publicUrl);
  mock.addAccount('github', 'grace', account);
  // The browser follows the server's redirect as is: approve as Grace without a login_as parameter.
  mock.approveAs('github', 'grace');
  tracked = await openTrackedPage(browser);
}, 60_000);

afterAll(async () => {
  await tracked?.close();
  await browser?.close();
  await server?.stop();
  await mock?.close();
});

describe('sign-in with GitHub in the dashboard', () => {
  it('offers only the configured provider, and explains why a provider sign-in ended on the sign-in page', async () => {
    const { page } = tracked;
    await page.goto(`${server.url}/sign-in?error=oauth_account_unverified&provider=github`);
    const error = page.getByTestId('oauth-error');
    await error.waitFor({ timeout: 20_000 });
    expect((await error.textContent())?.trim()).toBe(
      "An account with this email exists but its address isn't verified. Sign in with your password and verify it, then you can use GitHub.",
    );
    const buttons = page.getByTestId('oauth-buttons').getByRole('link');
    await expect.poll(() => buttons.allTextContents()).toEqual(['Continue with GitHub']);
    expect(await buttons.getAttribute('href')).toBe('/auth/github/start');

    await page.goto(`${server.url}/sign-up`);
    await page.getByRole('heading', { name: 'Create your account' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => buttons.allTextContents()).toEqual(['Continue with GitHub']);
    expect(await page.getByTestId('oauth-error').count()).toBe(0);
  }, 30_000);

  it('signs up a new person: provider, consent on /oauth/complete, then signed in on the page they asked for', async () => {
    const { page } = tracked;
    await page.goto(`${server.url}/tokens`);
    await waitForPath(page, '/sign-in?next=/tokens');
    const github = page.getByRole('link', { name: 'Continue with GitHub' });
    await github.waitFor({ timeout: 20_000 });
    expect(await github.getAttribute('href')).toBe('/auth/github/start?next=%2Ftokens');
    await github.click();

    // Server → mock provider → server → the dashboard's consent page; the ticket leaves the address bar.
    await page.getByRole('heading', { name: 'Finish signing up' }).waitFor({ timeout: 25_000 });
    await waitForPath(page, '/oauth/complete');
    const preview = page.getByTestId('oauth-preview');
    await preview.waitFor({ timeout: 20_000 });
    expect(await preview.textContent()).toContain(`You are signing up with GitHub as ${account.email}.`);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(account.name);
    expect(await page.getByTestId('user-menu').count()).toBe(0);

    // Consent is required before anything is created.
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Daestro is for people aged 16 or older; confirm your age.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Grace B. Hopper');
    await page.getByLabel('I am 16 or older').check();
    await page.getByLabel(/I have read the privacy policy/).check();
    await page.getByRole('button', { name: 'Create account' }).click();

    await waitForPath(page, '/tokens', 25_000);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('user-menu').textContent()).toContain('Grace B. Hopper');
    // The socket reconnected with the new session cookie.
    await page.locator(liveIndicator).waitFor({ timeout: 25_000 });
    // GitHub verified the address: no banner asking to verify it.
    expect(await page.getByTestId('verify-banner').count()).toBe(0);
  }, 60_000);

  it('lists the GitHub identity on the account page, which cannot be unlinked without a password', async () => {
    const { page } = tracked;
    await fromUserMenu(page, 'Account');
    const identities = page.locator('[data-testid="identities"] tbody tr');
    await expect.poll(() => identities.count(), { timeout: 20_000 }).toBe(1);
    const row = identities.first();
    expect(await row.getByRole('rowheader').textContent()).toBe('GitHub');
    expect(await row.textContent()).toContain(account.email);
    expect(await row.locator('time').count()).toBe(1);
    const unlink = row.getByRole('button', { name: /^Unlink/ });
    expect(await unlink.isDisabled()).toBe(true);
    expect(await row.textContent()).toContain('This is your only way to sign in.');
    // Without a password, the password and email forms give way to how to set one.
    await page.getByText('Your account has no password').waitFor();
    expect(await page.getByLabel('Current password').count()).toBe(0);

    const history = page.locator('[data-testid="security-events"] tbody tr');
    await expect.poll(() => history.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const events = await history.allTextContents();
    expect(events.some((text) => text.includes('Signed up') && text.includes('Chrome'))).toBe(true);
    expect(events.some((text) => text.includes('Signed in'))).toBe(true);
  }, 30_000);

  it('signs a returning person straight in, to the page they asked for', async () => {
    const { page, requestedUrls } = tracked;
    await fromUserMenu(page, 'Sign out');
    await waitForPath(page, '/sign-in');
    await page.goto(`${server.url}/account`);
    await waitForPath(page, '/sign-in?next=/account');
    await page.getByRole('link', { name: 'Continue with GitHub' }).click();
    await waitForPath(page, '/account', 25_000);
    await page.getByTestId('user-menu').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('account-email').textContent()).toBe(account.email);
    expect(pathOf(page)).toBe('/account');

    // One cookie, the session's, out of reach of scripts; every request stayed on this machine
    // (the mock provider listens on 127.0.0.1 too).
    const cookies = await page.context().cookies();
    expect(cookies.map(({ name, httpOnly, sameSite }) => ({ name, httpOnly, sameSite }))).toEqual([
      { name: 'daestro_session', httpOnly: true, sameSite: 'Lax' },
    ]);
    expect(offHostRequests(requestedUrls)).toEqual([]);
    const mockOrigin = new URL(mock.env.GITHUB_OAUTH_URL!).origin;
    expect(requestedUrls.some((url) => url.startsWith(`${mockOrigin}/github/login/oauth/authorize`))).toBe(
      true,
    );
    expect(
      requestedUrls.filter(
        (url) => !url.startsWith(server.url) && !url.startsWith(server.wsUrl.replace(/\/graphql$/, '')),
      ),
    ).toEqual(requestedUrls.filter((url) => url.startsWith(mockOrigin)));
  }, 30_000);
});
