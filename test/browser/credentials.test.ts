// End-to-end: the credentials page in the built dashboard, in headless Chromium against the real
// server, whose provider check goes to a local fake. Once typed in, a secret must never be seen
// again: not in the page's text or inputs, not in any response or WebSocket message the page gets.
// Needs web/dist (see dashboard.test.ts).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudAuth } from '../../server/src/credentials/cloud-auth.entity.js';
import {
  ComputeEnvironment,
  ComputeEnvironmentKind,
} from '../../server/src/workloads/compute-environment.entity.js';
import { offHostRequests, signInInDashboard, useDashboard, type TrackedPage } from '../support/browser.js';
import { startFakeCloudProvider, type FakeCloudProvider } from '../support/cloud-provider.js';
import { PERSON_PASSWORD, signUpPerson } from '../support/people.js';

let fake: FakeCloudProvider;
beforeAll(async () => {
  fake = await startFakeCloudProvider();
});
afterAll(() => fake?.close());
// Registered after the fake's hook, so its URLs are known when the server starts.
const dashboard = useDashboard({ env: () => fake.env });

const registryPassword = `ghp_${randomBytes(18).toString('hex')}`;
const doToken = `dop_v1_${randomBytes(32).toString('hex')}`;
const secrets = [registryPassword, doToken];

/** Every response body and WebSocket message the page received (bodies arrive asynchronously). */
const received: string[] = [];
const reading: Promise<unknown>[] = [];

function track({ page }: TrackedPage): void {
  page.on('response', (response) => {
    reading.push(
      response.text().then(
        (body) => received.push(body),
        () => undefined, // redirects and aborted requests have no body
      ),
    );
  });
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => received.push(String(payload))),
  );
}

async function pageShowsNoSecret(tracked: TrackedPage): Promise<void> {
  const { page } = tracked;
  const text = await page.locator('body').innerText();
  const inputs = await page
    .locator('input')
    .evaluateAll((elements) => elements.map((element) => (element as HTMLInputElement).value));
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(inputs.join('\n')).not.toContain(secret);
  }
}

describe('credentials in the dashboard', () => {
  it('adds a registry auth and a cloud auth, then shows only their masked views', async () => {
    fake.accept('digitalocean', doToken);
    const person = await signUpPerson(dashboard.server, 'Grace');
    const tracked = await dashboard.openPage('/sign-in');
    track(tracked);
    const { page } = tracked;
    await signInInDashboard(page, { email: person.email, password: PERSON_PASSWORD });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('heading', { name: 'Credentials', exact: true }).waitFor();
    await page.getByText('No registry auths in this project yet.').waitFor({ timeout: 20_000 });

    // A registry login.
    const registryForm = page.getByTestId('registry-auth-form');
    await registryForm.getByLabel('Name', { exact: true }).fill('ghcr-ci');
    await registryForm.getByLabel('Registry', { exact: true }).fill('https://ghcr.io/');
    await registryForm.getByLabel('Username', { exact: true }).fill('grace');
    await registryForm.getByLabel('Password or token', { exact: true }).fill(registryPassword);
    await registryForm.getByRole('button', { name: 'Save' }).click();
    const registryRow = page.getByTestId('registry-auths').locator('tr[data-name="ghcr-ci"]');
    await registryRow.waitFor({ timeout: 20_000 });
    expect(await registryRow.innerText()).toContain('ghcr.io');
    expect(await registryRow.getByTestId('masked-secret').innerText()).toBe(
      `••••${registryPassword.slice(-4)}`,
    );

    // A cloud auth: empty fields are named before sending, format mistakes by the server's answer.
    const cloudForm = page.getByTestId('cloud-auth-form');
    await cloudForm.getByLabel('Provider', { exact: true }).selectOption('DIGITALOCEAN');
    await cloudForm.getByRole('button', { name: 'Check and save' }).click();
    await cloudForm.getByText('Enter a name, e.g. aws-production.').waitFor();
    expect(await cloudForm.getByLabel('API token', { exact: true }).getAttribute('aria-invalid')).toBe(
      'true',
    );

    await cloudForm.getByLabel('Name', { exact: true }).fill('do-main');
    await cloudForm.getByLabel('API token', { exact: true }).fill('dop_v1_not-a-token');
    await cloudForm.getByRole('button', { name: 'Check and save' }).click();
    await cloudForm
      .getByText(/A DigitalOcean token is dop_v1_ followed by 64 characters/)
      .waitFor({ timeout: 20_000 });
    expect(await cloudForm.getByLabel('API token', { exact: true }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(
      await cloudForm
        .getByLabel('API token', { exact: true })
        .evaluate((input) => input === document.activeElement),
    ).toBe(true);

    await cloudForm.getByLabel('API token', { exact: true }).fill(doToken);
    await cloudForm.getByRole('button', { name: 'Check and save' }).click();
    await page.getByTestId('cloud-auth-saved').getByText('DigitalOcean accepted these credentials.').waitFor({
      timeout: 20_000,
    });
    const cloudRow = page.getByTestId('cloud-auths').locator('tr[data-name="do-main"]');
    await cloudRow.waitFor({ timeout: 20_000 });
    expect(await cloudRow.getByTestId('masked-secret').innerText()).toBe(`••••${doToken.slice(-4)}`);
    expect(await cloudRow.getByTestId('verification').innerText()).toBe('Verified');
    expect(fake.requests.filter((request) => request.provider === 'digitalocean')).toHaveLength(1);

    await pageShowsNoSecret(tracked);
    await page.reload();
    await cloudRow.waitFor({ timeout: 20_000 });
    await registryRow.waitFor({ timeout: 20_000 });
    await pageShowsNoSecret(tracked);

    // Deleting: confirmed by a second click, then gone.
    await registryRow.getByRole('button', { name: /^Delete/ }).click();
    await registryRow.getByRole('button', { name: /^Confirm delete/ }).click();
    await page.getByText('No registry auths in this project yet.').waitFor({ timeout: 20_000 });

    // Credentials in use stay, and the page says what uses them.
    const em = dashboard.server.database.orm.em.fork();
    const cloudAuth = await em.findOneOrFail(CloudAuth, { name: 'do-main', project: person.projectId });
    em.create(ComputeEnvironment, {
      project: person.projectId,
      name: 'gpu-pool',
      kind: ComputeEnvironmentKind.CLOUD,
      slotsPerSpawn: 1,
      cloudAuth,
    });
    await em.flush();
    await page.reload();
    await cloudRow.getByText('Used by compute environment gpu-pool').waitFor({ timeout: 20_000 });
    await cloudRow.getByRole('button', { name: /^Delete/ }).click();
    await cloudRow.getByRole('button', { name: /^Confirm delete/ }).click();
    await cloudRow
      .getByRole('alert')
      .getByText(
        'Cloud auth do-main is used by compute environment gpu-pool. Switch it to other credentials or delete it first.',
      )
      .waitFor({ timeout: 20_000 });

    await Promise.all(reading);
    expect(received.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(received.filter((body) => body.includes(secret))).toEqual([]);
    }
    expect(offHostRequests(tracked.requestedUrls)).toEqual([]);
  }, 90_000);
});
