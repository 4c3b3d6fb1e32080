import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, type TestServer } from './server.js';

/** Debian's chromium (`apt-get install chromium`); playwright-core ships no browser. */
const CHROMIUM_PATH = '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No --user-data-dir: Playwright refuses it in `args` and already uses a fresh temporary profile.
    // The rest keeps Chromium from calling Google (updates, sync, QUIC probes) during tests.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface TrackedPage {
  page: Page;
  /** Every URL the page, its frames and its workers requested, WebSockets included, in order. */
  requestedUrls: string[];
  close(): Promise<void>;
}

/** Opens a page in its own browser context and records every URL it requests. */
export async function openTrackedPage(browser: Browser): Promise<TrackedPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requestedUrls: string[] = [];
  // Context-level, because page-level request events miss requests made by web workers (Monaco).
  context.on('request', (request) => requestedUrls.push(request.url()));
  // WebSocket handshakes are not reported as requests.
  page.on('websocket', (socket) => requestedUrls.push(socket.url()));
  return { page, requestedUrls, close: () => context.close() };
}

const LOCAL_URL = /^(?:(?:https?|wss?):\/\/127\.0\.0\.1(?::\d+)?\/|data:|blob:)/;

/** The URLs that went anywhere but the local test server, e.g. a CDN. */
export function offHostRequests(urls: readonly string[]): string[] {
  return urls.filter((url) => !LOCAL_URL.test(url));
}

/**
 * Records every response body and WebSocket message the page receives from now on, to check that
 * a secret never comes back. `settled()` waits for bodies still being read.
 */
export function recordReceived({ page }: TrackedPage): { bodies: string[]; settled(): Promise<string[]> } {
  const bodies: string[] = [];
  const reading: Promise<unknown>[] = [];
  page.on('response', (response) => {
    // Redirects and aborted requests have no body.
    reading.push(
      response.text().then(
        (body) => bodies.push(body),
        () => undefined,
      ),
    );
  });
  page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => bodies.push(String(payload))));
  return {
    bodies,
    async settled() {
      await Promise.all(reading);
      return bodies;
    },
  };
}

/** The page's visible text and the values of its inputs, where a secret must not appear. */
export async function shownText(page: Page): Promise<string> {
  const text = await page.locator('body').innerText();
  const inputs = await page
    .locator('input, textarea')
    .evaluateAll((elements) => elements.map((element) => (element as HTMLInputElement).value));
  return [text, ...inputs].join('\n');
}

/** The page's path and query, e.g. "/sign-in?next=/account". */
export function pathOf(page: Page): string {
  const url = new URL(page.url());
  return `${url.pathname}${url.search}`;
}

/** Waits until the page's path and query are exactly `path`. */
export async function waitForPath(page: Page, path: string, timeout = 10_000): Promise<void> {
  await expect.poll(() => pathOf(page), { timeout }).toBe(path);
}

/** Opens the account menu in the dashboard's header and follows one of its entries. */
export async function fromUserMenu(page: Page, entry: string): Promise<void> {
  await page.getByTestId('user-menu').click();
  const panel = page.locator('#user-menu-list');
  await panel.getByRole(entry === 'Sign out' ? 'button' : 'link', { name: entry, exact: true }).click();
}

/** Signs up on the dashboard's sign-up page (already open) and waits for the "check your email" notice. */
export async function signUpInDashboard(
  page: Page,
  person: { name: string; email: string; password: string },
): Promise<void> {
  await page.getByRole('heading', { name: 'Create your account' }).waitFor({ timeout: 10_000 });
  await page.getByLabel('Name', { exact: true }).fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByLabel('I am 16 or older').check();
  await page.getByLabel(/I have read the privacy policy/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 15_000 });
}

/**
 * Opens the development outbox from the account menu and follows the dashboard link (whose path
 * starts with `linkPath`) in the newest message whose text includes `subject`.
 */
export async function followOutboxLink(page: Page, subject: string, linkPath: string): Promise<void> {
  await fromUserMenu(page, 'Outbox');
  const message = page.getByTestId('outbox-message').filter({ hasText: subject }).first();
  await message.waitFor({ timeout: 20_000 });
  const escaped = linkPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  await message.getByRole('link', { name: new RegExp(`${escaped}\\?token=`) }).click();
}

/** Signs in on the dashboard's sign-in page (already open) and waits for the account menu. */
export async function signInInDashboard(
  page: Page,
  person: { email: string; password: string },
): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('user-menu').waitFor({ timeout: 20_000 });
}

/**
 * A test file's dashboard: the real server (on the file's database) and one Chromium,
 * started before the file's tests; every page opened through it is closed after them.
 * `env` (read when the server starts) adds settings, e.g. a fake provider's URLs.
 */
export function useDashboard(options: { env?: () => Record<string, string> } = {}): {
  readonly server: TestServer;
  openPage(path: string): Promise<TrackedPage>;
  /** Stops the server, as a crash or a deploy would; open pages stay. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and database. */
  startServer(): Promise<void>;
} {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const openPages: TrackedPage[] = [];
  beforeAll(async () => {
    if (!existsSync(new URL('../../web/dist/index.html', import.meta.url))) {
      throw new Error('web/dist is missing: run `pnpm --filter @daestro/web build` first');
    }
    [server, browser] = await Promise.all([startTestServer({ env: options.env?.() }), launchBrowser()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(openPages.map((tracked) => tracked.close()));
    await browser?.close();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the dashboard server starts in beforeAll');
      return server;
    },
    async openPage(path) {
      const tracked = await openTrackedPage(browser!);
      openPages.push(tracked);
      await tracked.page.goto(`${server!.url}${path}`);
      return tracked;
    },
    async stopServer() {
      await server!.stop();
    },
    async startServer() {
      const port = new URL(server!.url).port;
      server = await startTestServer({ env: { ...options.env?.(), PORT: port } });
    },
  };
}
