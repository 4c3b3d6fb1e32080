import { Router, type Request, type Response } from 'express';
import { servicesFor, type ContextDeps } from '../graphql/context.js';
import { ErrorCode, UserError } from '../graphql/errors.js';
import { notFound } from '../http/errors.js';
import { clientInfo } from '../graphql/websocket.js';
import type { Logger } from '../logger.js';
import { OAuthErrorCode, OAuthFlowError } from './oauth.service.js';
import { providerOfSlug, slugOf, type OAuthProvider } from './oauth-providers.js';
import { newSecretToken } from './secret-token.js';
import { readSessionCookie, sessionCookieWriter, type SessionCookieSettings } from './session-cookie.js';
import type { AuthProvider } from './oauth-identity.entity.js';

/** The dashboard page where a new person confirms their age and the policy (web/). */
export const OAUTH_COMPLETE_PATH = '/oauth/complete';
const SIGN_IN_PATH = '/sign-in';

/**
 * `GET /auth/<github|google>/start?next=/path` redirects to the provider;
 * `GET /auth/<provider>/callback` is where the provider sends the person back.
 * Every outcome is a redirect to a dashboard page: the `next` path, the
 * sign-up page with a ticket, or `/sign-in?error=<code>` (OAuthErrorCode).
 * No response carries a stack trace; failures are logged here without codes or tokens.
 */
export function oauthRoutes(options: {
  deps: ContextDeps;
  cookie: SessionCookieSettings;
  log: Logger;
}): Router {
  const { deps, cookie, log } = options;
  const router = Router();

  // An unknown provider is a 404 here, not the dashboard's page for unknown paths.
  router.get('/auth/:provider/start', async (req, res, next) => {
    const id = providerOfSlug(req.params.provider);
    if (!id) return notFound(req, res, next);
    noStore(res);
    try {
      const services = servicesFor(deps);
      await services.throttle.consume('oauthStart', clientInfo(req));
      const provider = services.oauth.provider(id);
      if (!provider) return refuse(res, id, OAuthErrorCode.UNAVAILABLE);
      let browserToken = readSessionCookie(req.headers.cookie, cookie);
      if (!browserToken) {
        // Same cookie name, a value that is no session yet: it binds the attempt to this browser.
        browserToken = newSecretToken().secret;
        sessionCookieWriter(res, cookie).set(browserToken);
      }
      const url = await services.oauth.start(provider, browserToken, safeNextPath(req.query.next));
      res.redirect(302, url.href);
    } catch (error) {
      fail(req, res, id, error);
    }
  });

  router.get('/auth/:provider/callback', async (req, res, next) => {
    const id = providerOfSlug(req.params.provider);
    if (!id) return notFound(req, res, next);
    noStore(res);
    // The URL holds a code and state: do not leak it to the next page as a referrer.
    res.setHeader('Referrer-Policy', 'no-referrer');
    try {
      const services = servicesFor(deps);
      const client = clientInfo(req);
      await services.throttle.consume('oauthCallback', client);
      const provider: OAuthProvider | undefined = services.oauth.provider(id);
      if (!provider) return refuse(res, id, OAuthErrorCode.UNAVAILABLE);
      const { code, state, error } = req.query;
      if (typeof error === 'string') {
        throw new OAuthFlowError(
          error === 'access_denied' ? OAuthErrorCode.DENIED : OAuthErrorCode.FAILED,
          'the provider returned an error',
          { error: error.slice(0, 100) },
        );
      }
      if (typeof code !== 'string' || typeof state !== 'string') {
        throw new OAuthFlowError(OAuthErrorCode.INVALID_STATE, 'no code or state');
      }
      const outcome = await services.oauth.finish(
        provider,
        { code, state, browserToken: readSessionCookie(req.headers.cookie, cookie) },
        client,
      );
      if (outcome.kind === 'signed-in') {
        sessionCookieWriter(res, cookie).set(outcome.sessionToken);
        res.redirect(302, outcome.next);
      } else {
        res.redirect(302, `${OAUTH_COMPLETE_PATH}?ticket=${encodeURIComponent(outcome.ticket)}`);
      }
    } catch (error) {
      fail(req, res, id, error);
    }
  });

  function fail(req: Request, res: Response, provider: AuthProvider, error: unknown): void {
    const requestId = (req as { id?: unknown }).id;
    const via = slugOf(provider);
    if (error instanceof OAuthFlowError) {
      log.warn(
        { provider: via, code: error.code, reason: error.reason, ...error.details, requestId },
        'sign-in with a provider refused',
      );
      refuse(res, provider, error.code);
    } else if (error instanceof UserError && error.code === ErrorCode.LIMIT_EXCEEDED) {
      log.warn({ provider: via, requestId }, 'sign-in with a provider rate limited');
      refuse(res, provider, OAuthErrorCode.RATE_LIMITED);
    } else {
      log.error({ err: error, provider: via, requestId }, 'sign-in with a provider failed');
      refuse(res, provider, OAuthErrorCode.FAILED);
    }
  }

  return router;
}

function refuse(res: Response, provider: AuthProvider, code: OAuthErrorCode): void {
  if (res.headersSent) return;
  res.redirect(302, `${SIGN_IN_PATH}?error=${code}&provider=${slugOf(provider)}`);
}

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

/**
 * Where to go after signing in: a path on this site only. `//host` and `/\host`
 * would leave it (an open redirect), so anything unusual becomes `/`.
 */
export function safeNextPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 1000) return '/';
  // Printable ASCII without backslashes (browsers read `\` as `/`).
  return /^\/(?![/\\])[!-[\]-~]*$/.test(raw) ? raw : '/';
}
