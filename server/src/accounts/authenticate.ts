import type { Services } from '../services.js';
import type { Viewer } from './viewer.js';

/** The credentials a request may carry: an API token (header or connectionParams) or a session cookie. */
export interface PresentedCredentials {
  apiToken?: string;
  sessionToken?: string;
}

export class InvalidCredentialsError extends Error {
  constructor(message = 'The API token is invalid, expired or revoked.') {
    super(message);
  }
}

/**
 * Resolves who is calling. A presented API token must be valid (a typo should
 * fail loudly, not fall back to anonymous); a stale session cookie just means
 * "signed out".
 */
export async function authenticate(
  credentials: PresentedCredentials,
  services: Pick<Services, 'apiTokens' | 'sessions'>,
): Promise<Viewer | undefined> {
  if (credentials.apiToken !== undefined) {
    const viewer = await services.apiTokens.authenticate(credentials.apiToken);
    if (!viewer) throw new InvalidCredentialsError();
    return viewer;
  }
  return credentials.sessionToken ? services.sessions.authenticate(credentials.sessionToken) : undefined;
}

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
