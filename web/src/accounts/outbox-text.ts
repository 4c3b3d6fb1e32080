// The development outbox shows a message's plain-text part. Addresses in it become links only when
// they lead to this dashboard, so a message can never send the reader to another site in one click.

export type TextSegment = { kind: 'text'; text: string } | { kind: 'link'; text: string; path: string };

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
// Sentence punctuation that ends a sentence rather than the address ("…open http://x/y.").
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/**
 * Splits `text` into plain runs and links. An address is a link only if its origin is exactly
 * `origin` (scheme, host and port); its `path` is what to navigate to inside the dashboard.
 */
export function linkifyText(text: string, origin: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let plain = '';
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    const address = match[0].replace(TRAILING_PUNCTUATION, '');
    const path = sameOriginPath(address, origin);
    if (path === undefined) continue;
    plain += text.slice(last, start);
    if (plain) segments.push({ kind: 'text', text: plain });
    plain = '';
    segments.push({ kind: 'link', text: address, path });
    last = start + address.length;
  }
  plain += text.slice(last);
  if (plain) segments.push({ kind: 'text', text: plain });
  return segments;
}

function sameOriginPath(address: string, origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.origin !== origin || url.username || url.password) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}
