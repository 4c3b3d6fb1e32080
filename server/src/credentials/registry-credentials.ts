import { UserError } from '../graphql/errors.js';

/** A registry login, checked and normalized. Only `password` is secret. */
export interface RegistryLogin {
  /** host[:port], or '' for Docker Hub. */
  registryUrl: string;
  username: string;
  password: string;
}

// The names Docker Hub goes by; all of them mean the default registry.
const DOCKER_HUB_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);
const MAX_USERNAME = 256;
// Room for a Google service-account JSON key (`_json_key` logins), the largest passwords in use.
const MAX_PASSWORD = 16 * 1024;
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Checks a registry login; BAD_USER_INPUT names the offending field. */
export function parseRegistryLogin(input: {
  registryUrl?: string | null;
  username: string;
  password: string;
}): RegistryLogin {
  const registryUrl = parseRegistryUrl(input.registryUrl ?? '');
  const username = input.username.trim();
  if (username === '') throw UserError.badUserInput('Enter the username.', { field: 'username' });
  if (username.length > MAX_USERNAME || CONTROL_CHARACTERS.test(username)) {
    throw UserError.badUserInput(`A username is at most ${MAX_USERNAME} characters on one line.`, {
      field: 'username',
    });
  }
  // Outer whitespace is a copy-paste accident; inner line breaks belong to JSON keys.
  const password = input.password.trim();
  if (password === '') {
    throw UserError.badUserInput('Enter the password or access token.', { field: 'password' });
  }
  if (password.length > MAX_PASSWORD) {
    throw UserError.badUserInput(`A password or token is at most ${MAX_PASSWORD} characters.`, {
      field: 'password',
    });
  }
  return { registryUrl, username, password };
}

/**
 * The registry's host[:port] as Docker names it in its auth config: `ghcr.io`,
 * `https://ghcr.io/` and `GHCR.io` are all `ghcr.io`; any Docker Hub name is ''.
 */
export function parseRegistryUrl(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed === '') return '';
  const invalid = () =>
    UserError.badUserInput(
      'Enter the registry host (and port), e.g. ghcr.io or registry.example.com:5000, or leave it empty ' +
        'for Docker Hub. Image names go in the job definition.',
      { field: 'registryUrl' },
    );
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    throw invalid();
  }
  // A login typed into the address would end up in a field that is shown to everyone.
  if (url.username || url.password) {
    throw UserError.badUserInput(
      'Leave the username and password out of the registry address: they have their own fields.',
      { field: 'registryUrl' },
    );
  }
  // Docker's own config names Docker Hub https://index.docker.io/v1/, so an API version path is let through.
  const plainPath = /^\/(?:v[12]\/?)?$/.test(url.pathname);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || !plainPath) {
    throw invalid();
  }
  return DOCKER_HUB_HOSTS.has(url.host) ? '' : url.host;
}
