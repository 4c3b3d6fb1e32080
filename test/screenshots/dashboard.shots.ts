// `pnpm screenshots`: the pictures of the dashboard in web/docs/ (linked from the README), taken from
// the built dashboard against a real server and a real agent running bash jobs. Not part of `pnpm test`.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { signInInDashboard, useDashboard } from '../support/browser.js';
import { createDefinition, startAgent } from '../support/agent-runtime.js';
import { PERSON_PASSWORD, signUpPerson, type Person } from '../support/people.js';
import {
  CREATE_QUEUE,
  LINK,
  SET_ENABLED,
  createSelfHostedEnvironment,
  ok,
  submitJob,
} from '../support/workloads.js';

const DOCS = fileURLToPath(new URL('../../web/docs/', import.meta.url));
const dashboard = useDashboard();

const SCRIPTS = {
  'nightly-report': 'echo "report for $(date +%F)"; sleep 1; echo "42 rows written"',
  'resize-images': 'echo "resizing 120 images"; echo "error: /data/in/0042.png: not a PNG file" >&2; exit 2',
  // Coloured progress with bursts of CPU, so the log and both charts have something to show.
  'train-model': `for epoch in $(seq 1 400); do
  printf '\\033[36m[epoch %3d/400]\\033[0m loss=\\033[33m0.%04d\\033[0m acc=\\033[32m0.%03d\\033[0m lr=0.001\\n' $epoch $((9000 - epoch * 20)) $((500 + epoch))
  if [ $((epoch % 15)) -eq 0 ]; then echo "warning: validation loss flat for 15 epochs" >&2; fi
  timeout 0.15 sh -c 'while :; do :; done'; sleep 0.05
done`,
  'etl-orders': 'echo "waiting for upstream export"; sleep 600',
};

async function setUp(person: Person): Promise<Record<keyof typeof SCRIPTS, string>> {
  const environment = await createSelfHostedEnvironment(person.client, person.projectId, {
    name: 'workstations',
    slotsPerSpawn: 4,
  });
  const queue = await ok<{ createJobQueue: { jobQueue: { id: string } } }>(person.client, CREATE_QUEUE, {
    input: { projectId: person.projectId, name: 'batch', description: 'Everything that runs overnight' },
  });
  const queueId = queue.createJobQueue.jobQueue.id;
  await ok(person.client, LINK, { queue: queueId, environments: [environment.id] });
  await ok(person.client, SET_ENABLED, { queue: queueId, enabled: true });
  await startAgent({
    url: dashboard.server.url,
    token: environment.registrationToken,
    env: { DAESTRO_AGENT_HOSTNAME: 'build-box-1' },
  });
  const definitions = {} as Record<keyof typeof SCRIPTS, string>;
  for (const [name, script] of Object.entries(SCRIPTS)) {
    definitions[name as keyof typeof SCRIPTS] = await createDefinition(person, {
      name,
      type: 'BASH',
      script,
    });
  }
  const submit = (definition: keyof typeof SCRIPTS, name: string) =>
    submitJob(person.client, { definition: definitions[definition], queue: queueId, name });
  for (const day of ['11-24', '11-25', '11-26']) await submit('nightly-report', `nightly-report-${day}`);
  await submit('resize-images', 'resize-images-1');
  definitions['etl-orders'] = (await submit('etl-orders', 'etl-orders-2026-11-27')).id;
  definitions['train-model'] = (await submit('train-model', 'train-model-resnet50')).id;
  return definitions;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${DOCS}${name}.png`, fullPage: true });
}

it('takes the README’s screenshots', async () => {
  const person = await signUpPerson(dashboard.server, 'Ada');
  const jobs = await setUp(person);
  const { page } = await dashboard.openPage('/sign-in');
  await page.setViewportSize({ width: 1280, height: 900 });
  await signInInDashboard(page, { email: person.email, password: PERSON_PASSWORD });

  // The job page while the training job prints: its live log and its charts.
  await page.goto(`${dashboard.server.url}/jobs/${jobs['train-model']}`);
  await expect
    .poll(async () => Number(await page.getByTestId('log-viewer').getAttribute('data-lines')), {
      timeout: 60_000,
    })
    .toBeGreaterThan(60);
  await expect
    .poll(async () => Number(await page.getByTestId('run-metrics').getAttribute('data-samples')), {
      timeout: 30_000,
    })
    .toBeGreaterThan(8);
  await page.waitForTimeout(3000);
  await shoot(page, 'job-detail-live-log');

  // The overview: counts by state, what runs, what failed and why, the machine, the plan.
  await page.goto(`${dashboard.server.url}/`);
  await page.getByTestId('recent-failures').getByText('resize-images-1').waitFor({ timeout: 30_000 });
  await page.getByTestId('running-jobs').getByText('train-model-resnet50').waitFor({ timeout: 30_000 });
  await page.getByTestId('plan-usage').locator('meter').first().waitFor();
  await page.waitForTimeout(1500);
  await shoot(page, 'overview');

  // The submit form, filled in.
  await page.goto(`${dashboard.server.url}/jobs/new`);
  const form = page.getByTestId('submit-job-form');
  await form.waitFor({ timeout: 20_000 });
  await page.locator('.el-select', { has: page.getByLabel('Definition', { exact: true }) }).click();
  await page.getByRole('option', { name: 'train-model', exact: true }).click();
  await page.locator('.el-select', { has: page.getByLabel('Queue', { exact: true }) }).click();
  await page.getByRole('option', { name: 'batch', exact: true }).click();
  await form.getByLabel('Job name (optional)', { exact: true }).fill('train-model-resnet101');
  await form.getByRole('button', { name: 'Add variable' }).click();
  await form.getByLabel('Name of variable 1', { exact: true }).fill('WANDB_API_KEY');
  await form.getByLabel('Variable 1 is sensitive').check();
  await form.getByLabel('Value of variable 1', { exact: true }).fill('not-a-real-key-0000');
  // Off the last field, so no focus ring covers the form.
  await page.getByRole('heading', { name: 'Submit a job' }).click();
  await shoot(page, 'submit-form');
}, 180_000);
