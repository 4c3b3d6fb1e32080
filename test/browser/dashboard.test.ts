// End-to-end: the built dashboard and GraphiQL page in headless Chromium against the real server.
// Needs web/dist (`pnpm --filter @daestro/web build`, which `pnpm test` runs first).
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, offHostRequests, openTrackedPage, type TrackedPage } from '../support/browser.js';
import { startTestServer } from '../support/server.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const indicator = '[data-testid="connection-indicator"]';

let server: TestServer;
let serverRunning = false;
let browser: Browser;
const openPages: TrackedPage[] = [];

async function openPage(path: string): Promise<TrackedPage> {
  const tracked = await openTrackedPage(browser);
  openPages.push(tracked);
  await tracked.page.goto(`${server.url}${path}`);
  return tracked;
}

async function fetchServerVersion(): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ serverInfo { version } }' }),
  });
  const body = (await response.json()) as { data: { serverInfo: { version: string } } };
  return body.data.serverInfo.version;
}

async function tickSequence(page: Page): Promise<number> {
  return Number(await page.getByTestId('tick-sequence').textContent());
}

/** Replaces the operation in GraphiQL's Monaco query editor, as a user would, and runs it. */
async function runInGraphiQL(page: Page, operationName: string, operation: string): Promise<void> {
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  // insertText, not type(): typed braces would be auto-closed by Monaco and end up doubled.
  await page.keyboard.insertText(operation);
  // GraphiQL re-parses the editor 100 ms after a change, then names the tab after the operation.
  // Running before that would send the new text with the old operation's facts (a subscription
  // would go over HTTP instead of the WebSocket), so wait for the tab title.
  await page.locator('[id^="graphiql-session-tab-"]', { hasText: operationName }).waitFor({ timeout: 5_000 });
  await page.locator('button.graphiql-execute-button').click();
}

/** The response pane's visible text; Monaco renders spaces as non-breaking ones. */
async function graphiqlResponse(page: Page): Promise<string> {
  const text = await page.locator('.graphiql-response .view-lines').innerText();
  return text.replace(/\s+/g, ' ');
}

function sequencesIn(response: string): number[] {
  return [...response.matchAll(/"sequence": (\d+)/g)].map((match) => Number(match[1]));
}

beforeAll(async () => {
  if (!existsSync(new URL('../../web/dist/index.html', import.meta.url))) {
    throw new Error('web/dist is missing: run `pnpm --filter @daestro/web build` first');
  }
  [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  serverRunning = true;
}, 60_000);

afterAll(async () => {
  await Promise.all(openPages.map((tracked) => tracked.close()));
  await browser?.close();
  if (serverRunning) await server.stop();
});

describe('dashboard', () => {
  it('goes live and shows server info and a ticking server clock', async () => {
    const { page, requestedUrls } = await openPage('/');

    await page.locator(`${indicator}[data-state="live"]`).waitFor({ timeout: 25_000 });
    expect(await page.getByTestId('server-version').textContent()).toBe(await fetchServerVersion());
    expect(await page.getByTestId('database-mode').textContent()).toMatch(/^(Embedded|External)$/);

    await page.getByTestId('tick-sequence').waitFor({ timeout: 20_000 });
    const first = await tickSequence(page);
    await expect.poll(() => tickSequence(page), { timeout: 20_000 }).toBeGreaterThan(first);

    expect(offHostRequests(requestedUrls)).toEqual([]);
  }, 45_000);

  it('shows the 404 page for unknown paths', async () => {
    const { page } = await openPage('/no/such/page');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('main code').textContent()).toBe('/no/such/page');
  }, 30_000);
});

describe('GraphiQL at /graphql', () => {
  it('runs a query and a subscription, with every asset served locally', async () => {
    const { page, requestedUrls } = await openPage('/graphql');
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 20_000 });

    await runInGraphiQL(page, 'ServerInfo', 'query ServerInfo { serverInfo { version database { mode } } }');
    await expect.poll(() => graphiqlResponse(page), { timeout: 25_000 }).toContain('"serverInfo"');
    expect(await graphiqlResponse(page)).toContain(`"version": "${await fetchServerVersion()}"`);

    await runInGraphiQL(
      page,
      'ServerTicks',
      'subscription ServerTicks { serverTicks(intervalMs: 200) { sequence at } }',
    );
    await expect.poll(() => graphiqlResponse(page), { timeout: 25_000 }).toContain('"sequence"');
    const first = sequencesIn(await graphiqlResponse(page))[0] ?? 0;
    await expect
      .poll(async () => sequencesIn(await graphiqlResponse(page))[0] ?? 0, { timeout: 20_000 })
      .toBeGreaterThan(first);

    expect(offHostRequests(requestedUrls)).toEqual([]);
  }, 60_000);
});

// Stops the shared server, so it runs last (tests in a file run in order).
describe('connection indicator', () => {
  it('leaves live when the server goes away, then reports offline while retrying', async () => {
    const { page } = await openPage('/');
    const state = page.locator(indicator);
    await page.locator(`${indicator}[data-state="live"]`).waitFor({ timeout: 25_000 });

    // Not awaited first: a graceful stop may wait for connections, and the indicator must not.
    const stopping = server.stop();
    serverRunning = false;
    await page.locator(`${indicator}:not([data-state="live"])`).waitFor({ timeout: 15_000 });
    expect(['reconnecting', 'offline']).toContain(await state.getAttribute('data-state'));

    // Connection refused three times in a row (backoff 0.5–1 s, 1–2 s, 2–4 s) means offline.
    await page.locator(`${indicator}[data-state="offline"]`).waitFor({ timeout: 25_000 });
    expect(await state.textContent()).toContain('Offline — retrying');
    await stopping;
  }, 45_000);
});
