import type { FormattedExecutionResult } from 'graphql';
import { Agent, fetch, type Headers } from 'undici';

let nextAddress = 10;

/**
 * A fresh loopback address (127.0.0.10, .11, …) per client: each test person
 * comes from their own IP, as people do, so per-IP rate limits apply per person.
 */
function nextLoopbackAddress(): string {
  nextAddress += 1;
  return `127.0.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 2}`;
}

/** One Set-Cookie header, parsed enough for assertions. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const separator = pair.indexOf('=');
  return {
    name: pair.slice(0, separator),
    value: pair.slice(separator + 1),
    attributes: Object.fromEntries(
      attributes.map((attribute) => {
        const [key = '', value] = attribute.split('=');
        return [key.toLowerCase(), value ?? true];
      }),
    ),
  };
}

/**
 * A GraphQL client that keeps cookies like a browser would for one site, so
 * tests exercise the real cookie session. Every Set-Cookie it ever saw is kept.
 */
export class CookieClient {
  readonly cookies = new Map<string, string>();
  readonly setCookies: SetCookie[] = [];
  readonly address = nextLoopbackAddress();
  private readonly dispatcher = new Agent({ localAddress: this.address });

  constructor(
    readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<FormattedExecutionResult<T> & { status: number }> {
    const cookieHeader = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        ...(cookieHeader ? { cookie: cookieHeader } : {}),
        ...this.headers,
      },
      body: JSON.stringify({ query, variables }),
      dispatcher: this.dispatcher,
    });
    this.remember(response.headers);
    return { status: response.status, ...((await response.json()) as FormattedExecutionResult<T>) };
  }

  /**
   * A browser navigation to a path on this site or an absolute URL (e.g. an OAuth
   * provider), without following redirects. Cookies go to, and come from, this site only.
   */
  async get(pathOrUrl: string): Promise<{ status: number; location?: string; body: string }> {
    const url = new URL(pathOrUrl, this.baseUrl);
    const sameSite = url.origin === new URL(this.baseUrl).origin;
    const cookieHeader = this.cookieHeader();
    const response = await fetch(url, {
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        ...(sameSite && cookieHeader ? { cookie: cookieHeader } : {}),
        ...this.headers,
      },
      dispatcher: this.dispatcher,
    });
    if (sameSite) this.remember(response.headers);
    return {
      status: response.status,
      location: response.headers.get('location') ?? undefined,
      body: await response.text(),
    };
  }

  private remember(headers: Headers): void {
    for (const header of headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      this.setCookies.push(cookie);
      if (cookie.value === '' || cookie.attributes.expires === 'Thu, 01 Jan 1970 00:00:00 GMT') {
        this.cookies.delete(cookie.name);
      } else {
        this.cookies.set(cookie.name, cookie.value);
      }
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}
