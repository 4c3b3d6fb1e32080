// Where to go after signing in. `next` arrives in the query string, so anyone can write it into a
// link: only a path on this site is followed, never another origin (an open redirect).

const PLACEHOLDER_ORIGIN = 'http://daestro.invalid';

/**
 * `next` if it is a path on this site ("/tokens?x=1#y"), else "/". Refused: anything not starting
 * with one "/", protocol-relative "//host" and its backslash spellings ("/\host"), control
 * characters, and whatever a URL parser would resolve to another origin.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return '/';
  if (next.startsWith('//') || next.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, PLACEHOLDER_ORIGIN);
  } catch {
    return '/';
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The query of the sign-in page that returns to `path` afterwards ("/" needs no `next`). */
export function signInQuery(path: string): Record<string, string> {
  const next = safeNextPath(path);
  return next === '/' ? {} : { next };
}
