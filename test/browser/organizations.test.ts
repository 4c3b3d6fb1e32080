// End-to-end: organizations in the built dashboard, in headless Chromium against the real server,
// with mail in the development outbox. Two people in two browsers; each test continues where the
// previous one left off. Needs web/dist (see dashboard.test.ts).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  followOutboxLink,
  offHostRequests,
  signUpInDashboard,
  waitForPath,
  type TrackedPage,
  useDashboard,
} from '../support/browser.js';
import { waitForMail } from '../support/mail.js';

const owner = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'copper kettle morning tide' };
const invitee = { name: 'Grace Hopper', email: 'grace@example.com', password: 'harbour lantern quietly 9' };
const organization = 'Acme Research';

const dashboard = useDashboard();
const { openPage } = dashboard;
let ownerPage: TrackedPage;
let inviteePage: TrackedPage;
let invitationLink: string;

async function openMembers(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  await page.getByRole('heading', { name: 'Members', exact: true }).waitFor({ timeout: 20_000 });
}

function memberRows(page: Page) {
  return page.locator('[data-testid="members"] tbody tr');
}

function selectedOrganization(page: Page) {
  return page.locator('#members-organization option:checked');
}

describe('organizations in the dashboard', () => {
  it('creates an organization, and asks for a verified address before inviting anyone', async () => {
    ownerPage = await openPage('/sign-up');
    const { page } = ownerPage;
    await signUpInDashboard(page, owner);
    await openMembers(page);
    // The personal organization, with its one owner.
    await expect.poll(() => memberRows(page).count(), { timeout: 20_000 }).toBe(1);
    expect(await selectedOrganization(page).textContent()).toContain('(personal)');

    await page.getByLabel('Organization name').fill(organization);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page
      .getByTestId('members-notice')
      .getByText(`Created ${organization}.`)
      .waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: `Members of ${organization}` }).waitFor({ timeout: 20_000 });
    expect((await selectedOrganization(page).textContent())?.trim()).toBe(organization);
    expect(await page.getByTestId('nav-organization').textContent()).toBe(organization);
    expect(await page.getByTestId('member-usage').textContent()).toContain('1 of 3 members on the FREE plan');
    const ownerRow = memberRows(page).filter({ hasText: owner.email });
    expect(await ownerRow.getByLabel(`Role of ${owner.name}`).inputValue()).toBe('OWNER');

    // Not verified yet: the server refuses, and says what to do.
    await page.getByLabel('Email', { exact: true }).fill(invitee.email);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const verifyFirst = page.getByTestId('verify-first');
    await verifyFirst.waitFor({ timeout: 20_000 });
    expect(await verifyFirst.textContent()).toContain(
      'Verify your email address first: open the link we sent you, or ask for a new one.',
    );
    expect(await page.locator('[data-testid="invitations"]').count()).toBe(0);

    await followOutboxLink(page, 'Verify your email address', '/verify-email');
    await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor({ timeout: 20_000 });
  }, 60_000);

  it('invites a second person, who signs up, verifies, and joins from the emailed link', async () => {
    const { page } = ownerPage;
    await openMembers(page);
    await page.getByRole('heading', { name: `Members of ${organization}` }).waitFor({ timeout: 20_000 });
    await page.getByLabel('Email', { exact: true }).fill(invitee.email);
    expect(await page.getByLabel('Role', { exact: true }).inputValue()).toBe('MEMBER');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByTestId('invite-status').getByText(`Invitation sent to ${invitee.email}.`).waitFor();
    const pending = page.locator('[data-testid="invitations"] tbody tr');
    await expect.poll(() => pending.count(), { timeout: 20_000 }).toBe(1);
    expect(await pending.textContent()).toContain(invitee.email);
    expect(await page.getByTestId('member-usage').textContent()).toContain(
      '1 pending invitation holds a place',
    );

    // Opened by someone else (here the owner), the link says whom it is for, and offers to switch.
    invitationLink = (await waitForMail(dashboard.server, invitee.email, /invited you to Acme Research/))
      .link;
    expect(invitationLink.startsWith(`${dashboard.server.publicUrl}/invitations/accept?token=`)).toBe(true);
    await page.goto(invitationLink);
    await page.getByRole('button', { name: 'Join the organization' }).click();
    const problem = page.getByTestId('invitation-problem');
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.textContent()).toBe(
      `This invitation is for ${invitee.email}; you are signed in as ${owner.email}. ` +
        'Sign in with the invited address to accept it.',
    );
    await page.getByRole('button', { name: 'Sign in as another user' }).waitFor();

    // Signed out, the link leads to sign-in and back, token and all; a new person signs up on the way.
    inviteePage = await openPage(new URL(invitationLink).pathname + new URL(invitationLink).search);
    const second = inviteePage.page;
    await expect.poll(() => new URL(second.url()).pathname, { timeout: 20_000 }).toBe('/sign-in');
    const next = new URL(second.url()).searchParams.get('next');
    expect(next).toBe(new URL(invitationLink).pathname + new URL(invitationLink).search);
    await second.getByText('Sign in with the email address the invitation was sent to.').waitFor();
    await second.getByRole('link', { name: 'Create an account' }).click();
    await expect.poll(() => new URL(second.url()).pathname, { timeout: 20_000 }).toBe('/sign-up');
    expect(new URL(second.url()).searchParams.get('next')).toBe(next);
    await signUpInDashboard(second, invitee);
    await followOutboxLink(second, 'Verify your email address', '/verify-email');
    await second
      .getByRole('heading', { name: 'Your email address is verified' })
      .waitFor({ timeout: 20_000 });

    await followOutboxLink(second, `invited you to ${organization}`, '/invitations/accept');
    await second.getByRole('heading', { name: 'Join an organization' }).waitFor({ timeout: 20_000 });
    // The single-use token leaves the address bar.
    await waitForPath(second, '/invitations/accept');
    await second.getByRole('button', { name: 'Join the organization' }).click();
    await waitForPath(second, '/members');
    await second.getByRole('heading', { name: `Members of ${organization}` }).waitFor({ timeout: 20_000 });
    expect((await selectedOrganization(second).textContent())?.trim()).toBe(organization);
    await expect.poll(() => memberRows(second).count(), { timeout: 20_000 }).toBe(2);
    // A member sees roles but cannot change them.
    const own = memberRows(second).filter({ hasText: invitee.email });
    expect(await own.getByTestId('member-role').textContent()).toBe('Member');
    expect(await second.locator('[data-testid="members"] select').count()).toBe(0);
    expect(await second.getByRole('heading', { name: 'Invite someone' }).count()).toBe(0);
  }, 90_000);

  it('lets the owner change the new member’s role, and the member leave', async () => {
    const { page } = ownerPage;
    await page.goto(`${dashboard.server.url}/members`);
    await expect.poll(() => memberRows(page).count(), { timeout: 20_000 }).toBe(2);
    expect(await page.locator('[data-testid="invitations"]').count()).toBe(0);
    const row = memberRows(page).filter({ hasText: invitee.email });
    const role = row.getByLabel(`Role of ${invitee.name}`);
    // Owners may make owners.
    expect((await role.locator('option').allTextContents()).map((label) => label.trim())).toEqual([
      'Owner',
      'Admin',
      'Member',
      'Viewer',
    ]);
    await role.selectOption('ADMIN');
    await page
      .getByTestId('members-status')
      .getByText(`${invitee.name} is now Admin.`)
      .waitFor({ timeout: 20_000 });
    await page.reload();
    await expect
      .poll(
        () =>
          memberRows(page)
            .filter({ hasText: invitee.email })
            .getByLabel(`Role of ${invitee.name}`)
            .inputValue(),
        {
          timeout: 10_000,
        },
      )
      .toBe('ADMIN');

    const second = inviteePage.page;
    await second.reload();
    const own = memberRows(second).filter({ hasText: invitee.email });
    // An admin may give roles up to admin, never owner; the owner's row is out of reach.
    await expect
      .poll(() => own.getByLabel(`Role of ${invitee.name}`).inputValue(), { timeout: 20_000 })
      .toBe('ADMIN');
    expect(
      (await own.getByLabel(`Role of ${invitee.name}`).locator('option').allTextContents()).map((label) =>
        label.trim(),
      ),
    ).toEqual(['Admin', 'Member', 'Viewer']);
    expect(await memberRows(second).filter({ hasText: owner.email }).locator('select').count()).toBe(0);

    await own.getByRole('button', { name: /^Leave/ }).click();
    await own.getByRole('button', { name: /^Confirm leave/ }).click();
    await second
      .getByTestId('members-notice')
      .getByText(`You left ${organization}.`)
      .waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => selectedOrganization(second).textContent(), { timeout: 20_000 })
      .toContain('(personal)');
    expect(
      (await second.locator('#members-organization option').allTextContents()).map((label) => label.trim()),
    ).not.toContain(organization);

    await page.reload();
    await expect.poll(() => memberRows(page).count(), { timeout: 20_000 }).toBe(1);
    expect(offHostRequests(inviteePage.requestedUrls)).toEqual([]);
  }, 60_000);

  it('refuses to let the last owner leave, and says why', async () => {
    const { page, requestedUrls } = ownerPage;
    const own = memberRows(page).filter({ hasText: owner.email });
    await own.getByRole('button', { name: /^Leave/ }).click();
    await own.getByRole('button', { name: /^Confirm leave/ }).click();
    const error = page.getByTestId('members-error');
    await error.waitFor({ timeout: 20_000 });
    expect(await error.textContent()).toContain(
      'An organization needs an owner: make someone else an owner before you remove the last one.',
    );
    expect(await memberRows(page).count()).toBe(1);
    expect((await selectedOrganization(page).textContent())?.trim()).toBe(organization);

    const cookies = await page.context().cookies();
    expect(cookies.map(({ name }) => name)).toEqual(['daestro_session']);
    expect(offHostRequests(requestedUrls)).toEqual([]);
  }, 30_000);
});
