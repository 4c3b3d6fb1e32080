// Sign-in with GitHub and Google: the links that start it and what the sign-in page says when it
// ends there with `/sign-in?error=<code>&provider=<slug>` (server: accounts/oauth.service.ts).
import type { AuthProvider } from '../gql/graphql';

export const PROVIDERS: Record<AuthProvider, { slug: string; label: string }> = {
  GITHUB: { slug: 'github', label: 'GitHub' },
  GOOGLE: { slug: 'google', label: 'Google' },
};

/** "GitHub" for `github`; a neutral phrase for a slug this dashboard does not know. */
export function providerLabelOfSlug(slug: unknown): string {
  const known = Object.values(PROVIDERS).find((provider) => provider.slug === slug);
  return known?.label ?? 'the provider';
}

/**
 * The server route that sends the browser to the provider. `next` must already be a safe path
 * (safeNextPath); "/" is the server's default and needs no parameter.
 */
export function oauthStartUrl(provider: AuthProvider, next: string): string {
  const start = `/auth/${PROVIDERS[provider].slug}/start`;
  return next === '/' ? start : `${start}?next=${encodeURIComponent(next)}`;
}

/** What the sign-in page says for `?error=<code>&provider=<slug>`; undefined when there is no error. */
export function oauthErrorMessage(code: unknown, providerSlug: unknown): string | undefined {
  if (typeof code !== 'string' || code === '') return undefined;
  const provider = providerLabelOfSlug(providerSlug);
  switch (code) {
    case 'oauth_denied':
      return `You cancelled signing in with ${provider}. Try again, or sign in another way.`;
    case 'oauth_invalid_state':
      return (
        `Signing in with ${provider} could not be finished: it took too long, the link was used twice, ` +
        'or it was started in another browser. Please try again.'
      );
    case 'oauth_failed':
      return `Signing in with ${provider} failed because of a problem at ${provider} or on this server. Please try again in a moment.`;
    case 'oauth_email_unverified':
      return `${provider} has no verified email address for your account. Verify your ${
        provider === 'GitHub' ? 'primary ' : ''
      }email address with ${provider}, then try again.`;
    case 'oauth_account_unverified':
      return (
        "An account with this email exists but its address isn't verified. Sign in with your password and " +
        `verify it, then you can use ${provider}.`
      );
    case 'oauth_unavailable':
      return `Signing in with ${provider} is not set up on this server. Sign in with your email and password instead.`;
    case 'oauth_rate_limited':
      return 'Too many sign-in attempts from your network. Wait a few minutes, then try again.';
    default:
      return `Signing in with ${provider} did not work. Please try again.`;
  }
}
