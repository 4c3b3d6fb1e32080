import {
  ArcticFetchError,
  CodeChallengeMethod,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from 'arctic';
import type { OAuthClientConfig, OAuthConfig } from '../config.js';
import { AuthProvider } from './oauth-identity.entity.js';

/** What a provider tells us about the person who signed in. */
export interface ProviderProfile {
  /** The provider's stable id for the person. */
  providerUserId: string;
  /** The address the provider vouches for, lower-cased; undefined when it has no verified one. */
  verifiedEmail?: string;
  name: string;
}

/** One configured provider: builds the authorization URL, and turns a code into a profile. */
export interface OAuthProvider {
  readonly id: AuthProvider;
  /** The URL segment: /auth/<slug>/start. */
  readonly slug: ProviderSlug;
  authorizationUrl(state: string, codeVerifier: string): URL;
  /** Exchanges the code (proving PKCE with the verifier), then reads the profile. Throws ProviderError. */
  profile(code: string, codeVerifier: string): Promise<ProviderProfile>;
}

export type ProviderSlug = 'github' | 'google';

const SLUGS: Record<AuthProvider, ProviderSlug> = { GITHUB: 'github', GOOGLE: 'google' };

export function slugOf(provider: AuthProvider): ProviderSlug {
  return SLUGS[provider];
}

export function providerOfSlug(slug: string): AuthProvider | undefined {
  return (Object.keys(SLUGS) as AuthProvider[]).find((provider) => SLUGS[provider] === slug);
}

/**
 * The provider refused or failed. `details` say why for the server log: error
 * codes and HTTP statuses only, never a token or the response body.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

/** The enabled providers, GitHub first; the redirect URI is `${publicUrl}/auth/<slug>/callback`. */
export function createOAuthProviders(config: OAuthConfig, publicUrl: string): OAuthProvider[] {
  const providers: OAuthProvider[] = [];
  if (config.github) providers.push(new GitHubProvider(config.github, publicUrl));
  if (config.google) providers.push(new GoogleProvider(config.google, publicUrl));
  return providers;
}

abstract class PkceProvider implements OAuthProvider {
  abstract readonly id: AuthProvider;
  protected abstract readonly scopes: string[];
  private readonly client: OAuth2Client;

  constructor(
    protected readonly config: OAuthClientConfig,
    publicUrl: string,
    readonly slug: ProviderSlug,
  ) {
    this.client = new OAuth2Client(
      config.clientId,
      config.clientSecret,
      `${publicUrl}/auth/${slug}/callback`,
    );
  }

  authorizationUrl(state: string, codeVerifier: string): URL {
    return this.client.createAuthorizationURLWithPKCE(
      this.config.authorizationUrl,
      state,
      CodeChallengeMethod.S256,
      codeVerifier,
      this.scopes,
    );
  }

  abstract profile(code: string, codeVerifier: string): Promise<ProviderProfile>;

  /** The access token for a code. The token is used for the profile requests only, then dropped. */
  protected async exchange(code: string, codeVerifier: string): Promise<string> {
    let data: object;
    try {
      const tokens = await withTimeout(
        this.client.validateAuthorizationCode(this.config.tokenUrl, code, codeVerifier),
        REQUEST_TIMEOUT_MS,
      );
      data = tokens.data;
    } catch (error) {
      throw new ProviderError('the token request failed', describeArcticError(error));
    }
    // GitHub answers a refused exchange with 200 and an `error` field.
    const { error, access_token: accessToken } = data as { error?: unknown; access_token?: unknown };
    if (typeof error === 'string') throw new ProviderError('the token request was refused', { error });
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new ProviderError('the token response has no access token');
    }
    return accessToken;
  }

  protected async getJson(url: string, accessToken: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: 'application/json',
          'user-agent': 'Daestro',
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ProviderError('a profile request failed', {
        endpoint: new URL(url).pathname,
        cause: (error as Error).message,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ProviderError('a profile request was refused', {
        endpoint: new URL(url).pathname,
        status: response.status,
      });
    }
    try {
      return await response.json();
    } catch {
      throw new ProviderError('a profile response is not JSON', { endpoint: new URL(url).pathname });
    }
  }
}

/** GitHub OAuth apps (github.com or GitHub Enterprise Server). */
class GitHubProvider extends PkceProvider {
  readonly id = AuthProvider.GITHUB;
  protected readonly scopes = ['read:user', 'user:email'];

  constructor(
    protected override readonly config: NonNullable<OAuthConfig['github']>,
    publicUrl: string,
  ) {
    super(config, publicUrl, 'github');
  }

  async profile(code: string, codeVerifier: string): Promise<ProviderProfile> {
    const accessToken = await this.exchange(code, codeVerifier);
    const [user, emails] = await Promise.all([
      this.getJson(`${this.config.apiUrl}/user`, accessToken),
      this.getJson(`${this.config.apiUrl}/user/emails`, accessToken),
    ]);
    const { id, login, name } = (user ?? {}) as { id?: unknown; login?: unknown; name?: unknown };
    if ((typeof id !== 'number' && typeof id !== 'string') || typeof login !== 'string') {
      throw new ProviderError('the GitHub profile has no id or login');
    }
    // Only the primary address, and only when GitHub has verified it: a secondary
    // or unverified address may belong to someone else.
    const primary = Array.isArray(emails)
      ? (emails as { email?: unknown; primary?: unknown; verified?: unknown }[]).find(
          (entry) => entry.primary === true,
        )
      : undefined;
    const verifiedEmail =
      primary?.verified === true && typeof primary.email === 'string'
        ? primary.email.trim().toLowerCase()
        : undefined;
    return {
      providerUserId: String(id),
      verifiedEmail,
      name: typeof name === 'string' && name.trim() ? name.trim() : login,
    };
  }
}

/** Google (OpenID Connect): the profile comes from the userinfo endpoint. */
class GoogleProvider extends PkceProvider {
  readonly id = AuthProvider.GOOGLE;
  protected readonly scopes = ['openid', 'email', 'profile'];

  constructor(
    protected override readonly config: NonNullable<OAuthConfig['google']>,
    publicUrl: string,
  ) {
    super(config, publicUrl, 'google');
  }

  async profile(code: string, codeVerifier: string): Promise<ProviderProfile> {
    const accessToken = await this.exchange(code, codeVerifier);
    const info = (await this.getJson(this.config.userinfoUrl, accessToken)) as {
      sub?: unknown;
      email?: unknown;
      email_verified?: unknown;
      name?: unknown;
    } | null;
    if (typeof info?.sub !== 'string' || info.sub === '')
      throw new ProviderError('the Google profile has no sub');
    const email = typeof info.email === 'string' ? info.email.trim().toLowerCase() : undefined;
    const verifiedEmail = email && info.email_verified === true ? email : undefined;
    return {
      providerUserId: info.sub,
      verifiedEmail,
      name:
        typeof info.name === 'string' && info.name.trim()
          ? info.name.trim()
          : (email?.split('@')[0] ?? 'New user'),
    };
  }
}

function describeArcticError(error: unknown): Record<string, unknown> {
  if (error instanceof OAuth2RequestError) return { error: error.code, description: error.description };
  if (error instanceof UnexpectedResponseError || error instanceof UnexpectedErrorResponseBodyError) {
    return { status: error.status };
  }
  if (error instanceof ArcticFetchError) return { cause: (error.cause as Error | undefined)?.message };
  return { cause: (error as Error).message };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
