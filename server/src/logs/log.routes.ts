import { once } from 'node:events';
import { Router, type Response } from 'express';
import { authenticate, bearerToken, InvalidCredentialsError } from '../accounts/authenticate.js';
import { readSessionCookie, type SessionCookieSettings } from '../accounts/session-cookie.js';
import { isAllowed } from '../accounts/viewer.js';
import { servicesFor, type ContextDeps } from '../graphql/context.js';
import { ErrorCode, UserError } from '../graphql/errors.js';
import type { Logger } from '../logger.js';

/** Where a run's whole log is downloaded, under the API origin. */
export const runLogPath = (runId: string) => `/runs/${encodeURIComponent(runId)}/log.txt`;

/**
 * `GET /runs/:runId/log.txt`: the run's log as plain text, one line per line in
 * seq order, streamed from the database page by page (nothing holds the whole
 * log). Authorised exactly like the `jobRunLogs` query: a session cookie or an
 * `Authorization: Bearer` API token with READ; a run of another organization is
 * 404. An unfinished run's log ends at its storedThrough.
 */
export function logRoutes(options: {
  deps: ContextDeps;
  cookie: SessionCookieSettings;
  log: Logger;
}): Router {
  const { deps, cookie, log } = options;
  const router = Router();
  router.get('/runs/:runId/log.txt', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const services = servicesFor(deps);
    try {
      const viewer = await authenticate(
        {
          apiToken: bearerToken(req.headers.authorization),
          sessionToken: readSessionCookie(req.headers.cookie, cookie),
        },
        services,
      );
      if (!viewer)
        return refuse(res, 401, 'Sign in, or send an API token as `Authorization: Bearer <token>`.');
      if (isAllowed(viewer, ['READ'])) return refuse(res, 403, 'This API token lacks the READ scope.');
      const run = await services.logs.runForReading(viewer, req.params.runId);

      res.status(200);
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Disposition', `inline; filename="${run.jobName}-${run.attempt}.log"`);
      for await (const lines of services.logs.storedLines(run.id)) {
        if (res.destroyed) return;
        let text = '';
        for (const line of lines) text += `${line.text}\n`;
        if (!res.write(text)) await drainedOrClosed(res);
      }
      res.end();
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return refuse(res, 401, error.message);
      if (error instanceof UserError && error.code === ErrorCode.NOT_FOUND)
        return refuse(res, 404, 'Not found');
      log.error({ err: error, runId: req.params.runId }, 'could not send a run log');
      // Cut the body short rather than end it: a truncated download must not look complete.
      if (res.headersSent) res.destroy();
      else refuse(res, 500, 'An unexpected error occurred.');
    }
  });
  return router;
}

function refuse(res: Response, status: number, message: string): void {
  res.status(status).type('text/plain').send(message);
}

/** Waits for backpressure to clear (or the client to leave), removing both listeners after. */
async function drainedOrClosed(res: Response): Promise<void> {
  const settled = new AbortController();
  try {
    await Promise.race([
      once(res, 'drain', { signal: settled.signal }),
      once(res, 'close', { signal: settled.signal }),
    ]);
  } finally {
    settled.abort();
  }
}
