import type { CookieOptions, Response } from 'express';
import { parse as parseCookies } from 'cookie';

/** How the one cookie Daestro sets is named and flagged (DESIGN.md §7). */
export interface SessionCookieSettings {
  name: string;
  options: CookieOptions;
}

/**
 * Behind HTTPS the cookie is `Secure` and takes the `__Host-` prefix, which
 * browsers only accept from a secure origin, for the whole host, without Domain.
 */
export function sessionCookieSettings(
  publicUrl: string,
  absoluteTimeoutSeconds: number,
): SessionCookieSettings {
  const secure = new URL(publicUrl).protocol === 'https:';
  return {
    name: secure ? '__Host-daestro_session' : 'daestro_session',
    options: { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: absoluteTimeoutSeconds * 1000 },
  };
}

export function readSessionCookie(cookieHeader: string | undefined, settings: SessionCookieSettings) {
  return cookieHeader ? parseCookies(cookieHeader)[settings.name] : undefined;
}

/** Sets or clears the session cookie on one HTTP response. */
export interface SessionCookieWriter {
  /**
   * The value the request came with: a session token, or, before sign-in, the
   * random value that binds an OAuth sign-in to this browser (accounts/oauth.service.ts).
   */
  readonly presented?: string;
  set(token: string): void;
  clear(): void;
}

export function sessionCookieWriter(
  res: Response,
  settings: SessionCookieSettings,
  presented?: string,
): SessionCookieWriter {
  return {
    presented,
    set: (token) => res.cookie(settings.name, token, settings.options),
    clear: () => res.clearCookie(settings.name, { ...settings.options, maxAge: undefined }),
  };
}
