// End-to-end: the workload pages of the built dashboard, in headless Chromium against the real
// server. A person sets up a BASH definition, a queue and a compute environment through the pages,
// links and enables the queue, submits a job with a sensitive variable, and watches the jobs list
// change live when the job is cancelled from another client. The sensitive value, once typed, must
// never be seen again: not in the page, its inputs, or anything the page receives.
// Needs web/dist (see dashboard.test.ts).
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  offHostRequests,
  recordReceived,
  shownText,
  signInInDashboard,
  useDashboard,
  waitForPath,
} from '../support/browser.js';
import { PERSON_PASSWORD, signUpPerson } from '../support/people.js';
import { CANCEL, createBashDefinition, createQueue, ok, submitJob } from '../support/workloads.js';

const dashboard = useDashboard();

const secret = `sk_live_${randomBytes(16).toString('hex')}`;

async function openFromNavigation(page: Page, label: string, heading: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { name: heading, exact: true }).waitFor({ timeout: 20_000 });
}

/** Picks `option` in the Element Plus select labelled `label` (its options open in a popup). */
async function choose(page: Page, label: string, option: string): Promise<void> {
  // The labelled element is the select's text input, which stays hidden until the select is opened.
  await page.locator('.el-select', { has: page.getByLabel(label, { exact: true }) }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

function jobRow(page: Page, name: string) {
  return page.getByTestId('jobs-table').locator('tr', { has: page.getByRole('link', { name, exact: true }) });
}

describe('workloads in the dashboard', () => {
  it('sets up a definition, queue and compute environment, runs a job and sees it cancelled live', async () => {
    const person = await signUpPerson(dashboard.server, 'Ada');
    const tracked = await dashboard.openPage('/sign-in');
    const received = recordReceived(tracked);
    const { page } = tracked;
    await signInInDashboard(page, { email: person.email, password: PERSON_PASSWORD });

    // A BASH definition; an empty name is caught before sending.
    await openFromNavigation(page, 'Definitions', 'Job definitions');
    await page.getByRole('button', { name: 'New definition' }).click();
    const definitionForm = page.getByTestId('definition-form');
    await definitionForm.getByRole('button', { name: 'Create definition' }).click();
    await definitionForm.getByText('Enter a name, e.g. nightly-report.').waitFor();
    await definitionForm.getByText('Enter the script bash runs.').waitFor();
    expect(await definitionForm.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    await definitionForm.getByLabel('Name', { exact: true }).fill('greet');
    await definitionForm.getByLabel('Script', { exact: true }).fill('echo "hello $1"; sleep 600');
    await definitionForm.getByLabel('Command arguments', { exact: true }).fill('Param::who');
    await definitionForm.getByLabel('Parameter defaults', { exact: true }).fill('who=world');
    await definitionForm.getByRole('button', { name: 'Create definition' }).click();
    await waitForPath(page, '/definitions/greet');
    await page.getByTestId('definition-version').getByText('Version 1').waitFor({ timeout: 20_000 });

    // A queue starts disabled, and enabling it without a compute environment is refused with the rule.
    await openFromNavigation(page, 'Queues', 'Job queues');
    await page.getByTestId('queue-form').getByLabel('Name', { exact: true }).fill('batch');
    await page.getByTestId('queue-form').getByRole('button', { name: 'Create queue' }).click();
    await page.getByRole('heading', { name: 'batch', exact: true }).waitFor({ timeout: 20_000 });
    const queuePath = new URL(page.url()).pathname;
    await page.getByTestId('queue-enabled').click();
    await page
      .getByTestId('queue-enable-error')
      .getByText(/Queue batch has no compute environment to run on/)
      .waitFor({ timeout: 20_000 });
    expect(await page.getByRole('switch', { name: 'Enabled' }).getAttribute('aria-checked')).toBe('false');

    // A self-hosted compute environment: its registration command is shown once.
    await openFromNavigation(page, 'Compute', 'Compute environments');
    const environmentForm = page.getByTestId('compute-environment-form');
    await environmentForm.getByLabel('Name', { exact: true }).fill('laptops');
    await environmentForm.getByRole('button', { name: 'Create environment' }).click();
    const registration = page.getByTestId('registration-command');
    await registration.waitFor({ timeout: 20_000 });
    expect(await registration.locator('pre').innerText()).toMatch(
      new RegExp(`^daestro agent --url ${dashboard.server.url.replace(/[.]/g, '\\.')} --token \\S{20,}$`),
    );
    await page.getByTestId('compute-environments-table').getByRole('link', { name: 'laptops' }).waitFor();

    // Link it to the queue, then enable the queue.
    await page.goto(`${dashboard.server.url}${queuePath}`);
    await page.getByRole('heading', { name: 'batch', exact: true }).waitFor({ timeout: 20_000 });
    await choose(page, 'Link a compute environment', 'laptops');
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await page
      .getByTestId('queue-environments')
      .getByRole('link', { name: 'laptops' })
      .waitFor({ timeout: 20_000 });
    await page.getByTestId('queue-enabled').click();
    await expect
      .poll(() => page.getByRole('switch', { name: 'Enabled' }).getAttribute('aria-checked'), {
        timeout: 20_000,
      })
      .toBe('true');
    expect(await page.getByTestId('queue-enable-error').count()).toBe(0);

    // Submit a job: the parameter comes prefilled from the definition's default; one sensitive variable.
    await openFromNavigation(page, 'Jobs', 'Jobs');
    await page.getByRole('link', { name: 'Submit a job' }).click();
    const submitForm = page.getByTestId('submit-job-form');
    await submitForm.waitFor({ timeout: 20_000 });
    await choose(page, 'Definition', 'greet');
    await expect
      .poll(() => submitForm.getByLabel('who', { exact: true }).inputValue(), { timeout: 20_000 })
      .toBe('world');
    await choose(page, 'Queue', 'batch');
    await submitForm.getByLabel('Job name (optional)', { exact: true }).fill('greet-ada');
    await submitForm.getByRole('button', { name: 'Add variable' }).click();
    await submitForm.getByLabel('Name of variable 1', { exact: true }).fill('API_TOKEN');
    await submitForm.getByLabel('Variable 1 is sensitive').check();
    await submitForm.getByLabel('Value of variable 1', { exact: true }).fill(secret);
    await submitForm.getByRole('button', { name: 'Submit job' }).click();

    // The job's page: waiting for an agent, the variable masked.
    await page.getByRole('heading', { name: 'greet-ada', exact: true }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('job-environment').innerText()).toContain(
      `API_TOKEN\n••••${secret.slice(-4)}`,
    );
    expect(await page.getByTestId('job-parameters').innerText()).toContain('who\nworld');
    await page.getByTestId('waiting-reason').waitFor({ timeout: 20_000 });
    expect(await shownText(page)).not.toContain(secret);

    // The list shows it; a cancel from another client reaches the page without a reload.
    await page.getByRole('link', { name: '← Jobs' }).click();
    const row = jobRow(page, 'greet-ada');
    await row.waitFor({ timeout: 20_000 });
    expect(['PENDING', 'RUNNABLE']).toContain(await row.getByTestId('job-state').getAttribute('data-state'));
    await page
      .locator('[data-testid="connection-indicator"][data-state="live"]')
      .waitFor({ timeout: 20_000 });
    const jobId = new URL(
      await row.getByRole('link', { name: 'greet-ada' }).evaluate((link) => (link as HTMLAnchorElement).href),
    ).pathname
      .split('/')
      .at(-1)!;
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await ok(person.client, CANCEL, { job: jobId });
    await row.locator('[data-testid="job-state"][data-state="CANCELLED"]').waitFor({ timeout: 15_000 });
    expect(navigations).toEqual([]);

    // Jobs submitted elsewhere appear on their own; two of them are cancelled together.
    const queueId = queuePath.split('/').at(-1)!;
    const { jobDefinitions } = await ok<{ jobDefinitions: { edges: { node: { id: string } }[] } }>(
      person.client,
      'query D($projectId: ID!) { jobDefinitions(projectId: $projectId) { edges { node { id } } } }',
      { projectId: person.projectId },
    );
    for (const name of ['bulk-1', 'bulk-2']) {
      await submitJob(person.client, { definition: jobDefinitions.edges[0]!.node.id, queue: queueId, name });
    }
    for (const name of ['bulk-1', 'bulk-2']) {
      await jobRow(page, name).waitFor({ timeout: 15_000 });
      // Element Plus draws the box over a visually hidden native checkbox: click the drawn one.
      const checkbox = page.getByRole('checkbox', { name: `Select ${name}`, exact: true });
      await page.locator('label.el-checkbox', { has: checkbox }).click();
      expect(await checkbox.isChecked()).toBe(true);
    }
    expect(navigations).toEqual([]);
    await page.getByTestId('cancel-selected').getByText('Cancel selected (2)').click();
    await page
      .getByRole('dialog', { name: 'Cancel jobs?' })
      .getByRole('button', { name: 'Cancel 2 jobs' })
      .click();
    await page
      .getByTestId('bulk-cancel-report')
      .getByText('2 jobs are cancelled or being stopped.')
      .waitFor();
    for (const name of ['bulk-1', 'bulk-2']) {
      await jobRow(page, name)
        .locator('[data-testid="job-state"][data-state="CANCELLED"]')
        .waitFor({ timeout: 15_000 });
    }

    // The filters live in the URL: cancelled jobs only, then a state with no job.
    await page.goto(`${dashboard.server.url}/jobs?state=CANCELLED`);
    await jobRow(page, 'greet-ada').waitFor({ timeout: 20_000 });
    await page.goto(`${dashboard.server.url}/jobs?state=RUNNING`);
    await page.getByText('No jobs match these filters.').waitFor({ timeout: 20_000 });

    expect(await shownText(page)).not.toContain(secret);
    const bodies = await received.settled();
    expect(bodies.length).toBeGreaterThan(10);
    expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
    expect(offHostRequests(tracked.requestedUrls)).toEqual([]);
  }, 120_000);

  it('previews a cron schedule while it is typed, then lists its next five runs in its timezone', async () => {
    const person = await signUpPerson(dashboard.server, 'Grace');
    const definition = await createBashDefinition(person.client, person.projectId);
    const queue = await createQueue(person.client, person.projectId);
    const { page } = await dashboard.openPage('/sign-in');
    await signInInDashboard(page, { email: person.email, password: PERSON_PASSWORD });
    await openFromNavigation(page, 'Schedules', 'Cron schedules');

    const form = page.getByTestId('schedule-form');
    const preview = page.getByTestId('cron-preview');
    await form.getByLabel('Name', { exact: true }).fill('nightly');
    await form.getByLabel('Cron expression', { exact: true }).fill('61 * * * *');
    await preview.getByText(/^Not a cron expression/).waitFor();
    await form.getByLabel('Cron expression', { exact: true }).fill('30 2 * * 1');
    await choose(page, 'Timezone', 'Asia/Tokyo');
    await preview.getByText('At 02:30, only on Monday').waitFor();
    expect(await preview.locator('li').count()).toBe(5);
    await choose(page, 'Definition', `${definition.name} (version 1)`);
    await choose(page, 'Queue', queue.name);
    await form.getByRole('button', { name: 'Create schedule' }).click();

    const row = page.getByTestId('schedules-table').locator('tr', { hasText: 'nightly' });
    const times = row.getByTestId('next-fire-times').locator('time');
    await times.first().waitFor({ timeout: 20_000 });
    expect(await times.count()).toBe(5);
    // Every slot is 02:30 on a Monday in Tokyo, a week apart.
    const slots = await times.evaluateAll((elements) =>
      elements.map((element) => element.getAttribute('datetime')!),
    );
    for (const slot of slots) {
      const tokyo = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Tokyo',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(slot));
      expect(tokyo).toBe('Mon 02:30');
    }
    expect(Date.parse(slots[1]!) - Date.parse(slots[0]!)).toBe(7 * 24 * 3600 * 1000);
  }, 60_000);
});
