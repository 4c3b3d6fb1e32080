// End-to-end: accounts in the built dashboard, in headless Chromium against the real server, with
// mail kept in the development outbox (the default transport). One person's story, in order:
// each test continues where the previous one left off. Needs web/dist (see dashboard.test.ts).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  fromUserMenu,
  offHostRequests,
  pathOf,
  waitForPath,
  type TrackedPage,
  useDashboard,
} from '../support/browser.js';
import { waitForMail } from '../support/mail.js';

const person = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'copper kettle morning tide' };
const liveIndicator = '[data-testid="connection-indicator"][data-state="live"]';

const dashboard = useDashboard();
const { openPage } = dashboard;
/** The first browser: signs up and keeps going throughout. */
let first: TrackedPage;
/** The browser that reset the password, still signed in afterwards. */
let third: TrackedPage;
/** The password after the reset. */
const resetPassword = 'harbour lantern quietly 9';

async function signIn(page: Page, password = person.password): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('user-menu').waitFor({ timeout: 20_000 });
}

describe('accounts in the dashboard', () => {
  it('signs up, verifies the address from the outbox link, signs out and back in', async () => {
    first = await openPage('/sign-up');
    const { page } = first;
    await page.getByRole('heading', { name: 'Create your account' }).waitFor({ timeout: 20_000 });

    // Mistakes are named next to their fields before anything is sent.
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter your name.').waitFor();
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.getByLabel('Name', { exact: true }).evaluate((input) => input === document.activeElement),
    ).toBe(true);

    await page.getByLabel('Name', { exact: true }).fill(person.name);
    await page.getByLabel('Email', { exact: true }).fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill('short');
    expect(await page.locator('#sign-up-password-hint').textContent()).toContain('Too short');
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    expect(await page.locator('#sign-up-password-hint').textContent()).toContain('Strong');
    await page.getByLabel('I am 16 or older').check();
    await page.getByLabel(/I have read the privacy policy/).check();
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 25_000 });
    expect(await page.getByTestId('user-menu').textContent()).toContain(person.name);
    // The socket reconnected with the new session cookie and is live again.
    await page.locator(liveIndicator).waitFor({ timeout: 25_000 });

    // The verification link, from the development outbox.
    await fromUserMenu(page, 'Outbox');
    const message = page.getByTestId('outbox-message').filter({ hasText: 'Verify your email address' });
    await message.waitFor({ timeout: 20_000 });
    expect(await message.textContent()).toContain(person.email);
    const link = message.getByRole('link', { name: /\/verify-email\?token=/ });
    // PUBLIC_URL is this server's own address, so the link stays on the site.
    expect((await link.textContent())?.startsWith(`${dashboard.server.publicUrl}/verify-email?token=`)).toBe(
      true,
    );
    expect(dashboard.server.publicUrl).toBe(dashboard.server.url);
    await link.click();
    await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor({ timeout: 20_000 });
    // The single-use token does not stay in the address bar.
    expect(pathOf(page)).toBe('/verify-email');

    await fromUserMenu(page, 'Account');
    await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
    expect(await page.getByTestId('email-verification').textContent()).toContain('Verified');
    expect(await page.getByTestId('verify-banner').count()).toBe(0);

    await fromUserMenu(page, 'Sign out');
    await waitForPath(page, '/sign-in');
    await page.getByRole('link', { name: 'Sign up' }).waitFor();
    await page.locator(liveIndicator).waitFor({ timeout: 25_000 });

    // Pages that need a session send to sign-in first, then back.
    await page.goto(`${dashboard.server.url}/account`);
    await waitForPath(page, '/sign-in?next=/account');
    await signIn(page);
    await waitForPath(page, '/account');
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();

    // Live updates keep flowing on the socket that reconnected as the signed-in person.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    const tick = page.getByTestId('tick-sequence');
    await tick.waitFor({ timeout: 20_000 });
    const firstTick = Number(await tick.textContent());
    await expect
      .poll(async () => Number(await tick.textContent()), { timeout: 20_000 })
      .toBeGreaterThan(firstTick);
  }, 90_000);

  it('revokes the session of another browser, which is signed out at once', async () => {
    const second = await openPage('/sign-in');
    await signIn(second.page);
    await fromUserMenu(second.page, 'Account');
    await second.page.getByRole('heading', { name: 'Sessions' }).waitFor();

    const { page } = first;
    await page.goto(`${dashboard.server.url}/account`);
    const rows = page.locator('[data-testid="sessions"] tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(2);
    const mine = rows.filter({ hasText: 'This device' });
    expect(await mine.count()).toBe(1);
    expect(await mine.getAttribute('data-current')).toBe('true');

    await rows
      .filter({ hasNotText: 'This device' })
      .getByRole('button', { name: /^Revoke/ })
      .click();
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);

    // The server closed the other browser's socket; that page notices, leaves /account and reconnects.
    await waitForPath(second.page, '/sign-in?next=/account&ended=1', 25_000);
    await second.page.getByText('Your session ended').waitFor();
    await second.page.locator(liveIndicator).waitFor({ timeout: 25_000 });
    // Its next request is anonymous too: the cookie it still holds no longer works.
    await second.page.goto(`${dashboard.server.url}/account`);
    await waitForPath(second.page, '/sign-in?next=/account');
    expect(await second.page.getByTestId('user-menu').count()).toBe(0);

    // This browser is still signed in.
    await page.reload();
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    expect(offHostRequests(second.requestedUrls)).toEqual([]);
  }, 60_000);

  it('creates an API token whose secret is shown once and works as a Bearer token', async () => {
    const { page, requestedUrls } = first;
    await fromUserMenu(page, 'API tokens');
    await page.getByRole('heading', { name: 'Create a token' }).waitFor({ timeout: 20_000 });
    const organization = page.locator('#tokens-organization');
    expect(await organization.locator('option:checked').textContent()).toContain('(personal)');
    const organizationId = await organization.inputValue();

    await page.getByLabel('Name', { exact: true }).fill('CI deploys');
    expect(await page.getByLabel('Read', { exact: true }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create token' }).click();

    const shown = page.getByTestId('new-token-secret');
    await shown.waitFor({ timeout: 20_000 });
    expect(await shown.textContent()).toContain('You will not see it again');
    const secret = await page.getByLabel('New API token').inputValue();
    expect(secret).toMatch(/^dae_\S{20,}$/);
    const row = page.locator('[data-testid="api-tokens"] tbody tr', { hasText: 'CI deploys' });
    await row.waitFor();
    expect(await row.textContent()).toContain(`${secret.slice(0, 12)}…`);

    const response = await fetch(`${dashboard.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ organizations { id } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { organizations: [{ id: organizationId }] } });

    await page.reload();
    await row.waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('new-token-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    // Owners read their organization's audit log.
    await fromUserMenu(page, 'Audit log');
    const events = page.locator('[data-testid="audit-events"]');
    await events.waitFor({ timeout: 20_000 });
    expect(await events.textContent()).toContain('Created an API token');
    expect(await events.textContent()).toContain('Signed up');

    // The only cookie is the session cookie, out of reach of scripts; nothing left this machine.
    const cookies = await page.context().cookies();
    expect(cookies.map(({ name, httpOnly, sameSite }) => ({ name, httpOnly, sameSite }))).toEqual([
      { name: 'daestro_session', httpOnly: true, sameSite: 'Lax' },
    ]);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(offHostRequests(requestedUrls)).toEqual([]);
  }, 60_000);

  it('resets a forgotten password from the emailed link, which signs out every other session', async () => {
    const requested = new Date();
    third = await openPage('/sign-in');
    const { page } = third;
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    // The sign-in page has an Email field too: fill the form only once the route has changed.
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor({ timeout: 20_000 });
    await page.getByLabel('Email', { exact: true }).fill(person.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 20_000 });

    // Signed out, the outbox page cannot show it; the test reads the outbox table instead.
    const mail = await waitForMail(dashboard.server, person.email, /Reset your Daestro password/, {
      after: requested,
    });
    await page.goto(mail.link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor({ timeout: 20_000 });
    expect(pathOf(page)).toBe('/reset-password');
    const newPassword = resetPassword;
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password again').fill(`${newPassword}!`);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('The two passwords differ').waitFor();
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Your password is changed' }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('user-menu').textContent()).toContain(person.name);

    // The first browser's session ended with the reset: it leaves the audit log for sign-in.
    await waitForPath(first.page, '/sign-in?next=/audit&ended=1', 25_000);
    await first.page.getByLabel('Email', { exact: true }).fill(person.email);
    await first.page.getByLabel('Password', { exact: true }).fill(person.password);
    await first.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await first.page.getByText('The email or password is incorrect.').waitFor({ timeout: 20_000 });
    await signIn(first.page, newPassword);
    await waitForPath(first.page, '/audit');
    expect(offHostRequests(third.requestedUrls)).toEqual([]);
  }, 60_000);

  it('edits the profile, changes the password (staying signed in here only) and the email address', async () => {
    const { page, requestedUrls } = first;
    await fromUserMenu(page, 'Account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor({ timeout: 20_000 });

    const profile = page.getByTestId('profile-form');
    await profile.getByLabel('Name', { exact: true }).fill('Ada King');
    await profile.getByLabel('Email me about Daestro news').check();
    await profile.getByRole('button', { name: 'Save profile' }).click();
    await profile.getByText('Saved.').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('user-menu').textContent()).toContain('Ada King');
    await page.reload();
    await expect.poll(() => profile.getByLabel('Email me about Daestro news').isChecked()).toBe(true);
    expect(await page.getByTestId('account-name').textContent()).toBe('Ada King');

    // The browser that reset the password is signed in too, on its account page.
    await third.page.goto(`${dashboard.server.url}/account`);
    await third.page.getByRole('heading', { name: 'Sessions' }).waitFor({ timeout: 20_000 });

    const password = page.getByTestId('password-section');
    const newPassword = 'ember orchard silently 4';
    await password.getByLabel('Current password').fill('not my password at all');
    await password.getByLabel('New password', { exact: true }).fill(newPassword);
    await password.getByLabel('New password again').fill(newPassword);
    await password.getByRole('button', { name: 'Change password' }).click();
    await password.getByText('The current password is incorrect.').waitFor({ timeout: 20_000 });
    await password.getByLabel('Current password').fill(resetPassword);
    await password.getByRole('button', { name: 'Change password' }).click();
    await password.getByRole('heading', { name: 'Your password is changed' }).waitFor({ timeout: 20_000 });
    expect(await password.textContent()).toContain('Every other session of your account was signed out.');

    // This browser got a new session and stays; the other one is signed out at once.
    await waitForPath(third.page, '/sign-in?next=/account&ended=1', 25_000);
    await page.locator(liveIndicator).waitFor({ timeout: 25_000 });
    expect(pathOf(page)).toBe('/account');
    await page.reload();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor({ timeout: 20_000 });
    const sessions = page.locator('[data-testid="sessions"] tbody tr');
    await expect.poll(() => sessions.count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('user-menu').textContent()).toContain('Ada King');

    const email = page.getByTestId('email-section');
    await email.getByLabel('New email address').fill('ada.king@example.com');
    await email.getByLabel('Current password').fill(newPassword);
    await email.getByRole('button', { name: 'Change email address' }).click();
    await email.getByText('Your email address is now ada.king@example.com.').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('account-email').textContent()).toBe('ada.king@example.com');
    expect(await page.getByTestId('email-verification').textContent()).toContain('Not verified');
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    // Mail goes to the development outbox here, so the notice points there.
    expect(await page.getByTestId('outbox-hint').count()).toBe(1);

    const history = page.locator('[data-testid="security-events"] tbody tr');
    await expect
      .poll(async () => (await history.allTextContents()).join('\n'), { timeout: 20_000 })
      .toContain('Changed email address');
    const events = (await history.allTextContents()).join('\n');
    expect(events).toContain('Changed password');
    expect(events).toContain('Reset password');
    expect(events).toContain('Failed sign-in');
    expect(offHostRequests(requestedUrls)).toEqual([]);
  }, 60_000);
});
