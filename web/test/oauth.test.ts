import { describe, expect, it } from 'vitest';
import { oauthErrorMessage, oauthStartUrl, providerLabelOfSlug } from '../src/accounts/oauth';

describe('oauthStartUrl', () => {
  it('starts at the server route of the provider, with next only when it is not the default', () => {
    expect(oauthStartUrl('GITHUB', '/')).toBe('/auth/github/start');
    expect(oauthStartUrl('GOOGLE', '/tokens')).toBe('/auth/google/start?next=%2Ftokens');
    expect(oauthStartUrl('GITHUB', '/invitations/accept?token=a&b=c')).toBe(
      '/auth/github/start?next=%2Finvitations%2Faccept%3Ftoken%3Da%26b%3Dc',
    );
  });
});

describe('oauthErrorMessage', () => {
  // Every code the server sends (server/src/accounts/oauth.service.ts, OAuthErrorCode).
  const codes = [
    'oauth_denied',
    'oauth_invalid_state',
    'oauth_failed',
    'oauth_email_unverified',
    'oauth_account_unverified',
    'oauth_unavailable',
    'oauth_rate_limited',
  ];

  it('says nothing when there is no error', () => {
    expect(oauthErrorMessage(undefined, 'github')).toBeUndefined();
    expect(oauthErrorMessage('', 'github')).toBeUndefined();
    expect(oauthErrorMessage(['oauth_denied'], 'github')).toBeUndefined();
  });

  it('has its own sentence for each code, naming the provider where it matters', () => {
    const messages = codes.map((code) => oauthErrorMessage(code, 'github'));
    expect(new Set(messages).size).toBe(codes.length);
    for (const message of messages) expect(message).toMatch(/\.$/);
    for (const code of codes.filter((code) => code !== 'oauth_rate_limited')) {
      expect(oauthErrorMessage(code, 'github')).toContain('GitHub');
      expect(oauthErrorMessage(code, 'google')).toContain('Google');
    }
  });

  it('tells the owner of an unverified account what to do', () => {
    expect(oauthErrorMessage('oauth_account_unverified', 'github')).toBe(
      "An account with this email exists but its address isn't verified. Sign in with your password and verify it, then you can use GitHub.",
    );
    expect(oauthErrorMessage('oauth_email_unverified', 'github')).toContain('primary email address');
    expect(oauthErrorMessage('oauth_email_unverified', 'google')).not.toContain('primary');
  });

  it('still says something for a code or provider it does not know, without echoing them', () => {
    expect(oauthErrorMessage('oauth_new_thing', 'github')).toBe(
      'Signing in with GitHub did not work. Please try again.',
    );
    const strange = oauthErrorMessage('<b>hi</b>', '<script>');
    expect(strange).toBe('Signing in with the provider did not work. Please try again.');
    expect(providerLabelOfSlug('gitlab')).toBe('the provider');
  });
});
