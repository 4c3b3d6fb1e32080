import { chromium, type Browser, type Page } from 'playwright-core';

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
