import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A person at the mock provider. */
export interface MockAccount {
  /** GitHub's numeric id or Google's `sub`. */
  id: string;
  login?: string;
  name?: string;
  email: string;
  emailVerified: boolean;
  /** GitHub only: further addresses, not primary (verified or not). */
  secondaryEmails?: { email: string; verified: boolean }[];
}

export interface MockClient {
  clientId: string;
  clientSecret: string;
}

type Provider = 'github' | 'google';

/** What the token endpoint received, for assertions (and for checking no secret leaked elsewhere). */
export interface TokenRequest {
  provider: Provider;
  form: Record<string, string>;
  authorization?: string;
  accepted: boolean;
}

export interface MockOAuthProvider {
  /** GITHUB_OAUTH_URL, GITHUB_API_URL and GOOGLE_OAUTH_URL for the server. */
  env: Record<string, string>;
  /** Where the provider may send people back: set once the server's PUBLIC_URL is known. */
  setPublicUrl(publicUrl: string): void;
  addAccount(provider: Provider, key: string, account: MockAccount): void;
  /**
   * The account to approve as when the authorization request names none with `login_as`: a
   * browser following the server's redirect cannot add the parameter (test/browser/oauth.test.ts).
   */
  approveAs(provider: Provider, key: string | undefined): void;
  readonly tokenRequests: TokenRequest[];
  /** Every code and access token handed out (secrets that must never reach a log). */
  readonly issuedSecrets: string[];
  close(): Promise<void>;
}

/**
 * A local stand-in for GitHub and Google: the authorization endpoint approves at
 * once (as the account named by `login_as`, or declines with `deny=1`), and it
 * checks what real providers check: client id, exact redirect URI, an S256
 * code challenge; at the token endpoint, the client secret and the PKCE verifier.
 */
export async function startMockOAuthProvider(
  clients: Record<Provider, MockClient>,
): Promise<MockOAuthProvider> {
  const accounts = { github: new Map<string, MockAccount>(), google: new Map<string, MockAccount>() };
  const codes = new Map<
    string,
    { provider: Provider; account: MockAccount; challenge: string; redirectUri: string }
  >();
  const accessTokens = new Map<string, { provider: Provider; account: MockAccount }>();
  const tokenRequests: TokenRequest[] = [];
  const issuedSecrets: string[] = [];
  const defaultLogins: Partial<Record<Provider, string>> = {};
  let publicUrl = '';

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /github/login/oauth/authorize':
        return authorize('github', url, res);
      case 'GET /google/authorize':
        return authorize('google', url, res);
      case 'POST /github/login/oauth/access_token':
        return token('github', req, res);
      case 'POST /google/token':
        return token('google', req, res);
      case 'GET /github-api/user': {
        const account = bearer('github', req);
        if (!account) return json(res, 401, { message: 'Bad credentials' });
        return json(res, 200, { id: Number(account.id), login: account.login, name: account.name ?? null });
      }
      case 'GET /github-api/user/emails': {
        const account = bearer('github', req);
        if (!account) return json(res, 401, { message: 'Bad credentials' });
        return json(res, 200, [
          ...(account.secondaryEmails ?? []).map((entry) => ({ ...entry, primary: false, visibility: null })),
          { email: account.email, verified: account.emailVerified, primary: true, visibility: 'private' },
        ]);
      }
      case 'GET /google/userinfo': {
        const account = bearer('google', req);
        if (!account) return json(res, 401, { error: 'invalid_token' });
        return json(res, 200, {
          sub: account.id,
          email: account.email,
          email_verified: account.emailVerified,
          name: account.name,
        });
      }
      default:
        res.writeHead(404).end('not found');
    }
  }

  function authorize(provider: Provider, url: URL, res: http.ServerResponse): void {
    const params = url.searchParams;
    const redirectUri = params.get('redirect_uri') ?? '';
    const problems = [
      params.get('response_type') !== 'code' && 'response_type must be code',
      params.get('client_id') !== clients[provider].clientId && 'unknown client_id',
      redirectUri !== `${publicUrl}/auth/${provider}/callback` && `redirect_uri mismatch: ${redirectUri}`,
      params.get('code_challenge_method') !== 'S256' && 'code_challenge_method must be S256',
      !/^[A-Za-z0-9_-]{43}$/.test(params.get('code_challenge') ?? '') && 'code_challenge missing',
      !params.get('state') && 'state missing',
    ].filter(Boolean);
    if (problems.length > 0) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(problems.join('\n'));
      return;
    }
    const back = new URL(redirectUri);
    back.searchParams.set('state', params.get('state')!);
    const account = accounts[provider].get(params.get('login_as') ?? defaultLogins[provider] ?? '');
    if (params.get('deny') === '1') {
      back.searchParams.set('error', 'access_denied');
    } else if (!account) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('no such mock account');
      return;
    } else {
      const code = randomBytes(16).toString('hex');
      issuedSecrets.push(code);
      codes.set(code, { provider, account, challenge: params.get('code_challenge')!, redirectUri });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.href }).end();
  }

  async function token(
    provider: Provider,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = Object.fromEntries(new URLSearchParams(body));
    const authorization = req.headers.authorization;
    const record: TokenRequest = { provider, form, authorization, accepted: false };
    tokenRequests.push(record);
    const expected = `Basic ${Buffer.from(`${clients[provider].clientId}:${clients[provider].clientSecret}`).toString('base64')}`;
    // GitHub answers refusals with 200 and an error field; Google with 400/401 as RFC 6749 says.
    const refuse = (status: number, error: string) =>
      json(res, provider === 'github' ? 200 : status, { error, error_description: `mock: ${error}` });
    if (authorization !== expected) return refuse(401, 'invalid_client');
    const grant = codes.get(form.code ?? '');
    codes.delete(form.code ?? '');
    if (
      form.grant_type !== 'authorization_code' ||
      !grant ||
      grant.provider !== provider ||
      grant.redirectUri !== form.redirect_uri
    ) {
      return refuse(400, provider === 'github' ? 'bad_verification_code' : 'invalid_grant');
    }
    const challenge = createHash('sha256')
      .update(form.code_verifier ?? '')
      .digest('base64url');
    if (challenge !== grant.challenge) return refuse(400, 'invalid_grant');
    record.accepted = true;
    const accessToken = `${provider === 'github' ? 'gho_' : 'ya29.'}${randomBytes(24).toString('hex')}`;
    issuedSecrets.push(accessToken);
    accessTokens.set(accessToken, { provider, account: grant.account });
    json(res, 200, {
      access_token: accessToken,
      token_type: 'bearer',
      scope: provider === 'github' ? 'read:user,user:email' : 'openid email profile',
      ...(provider === 'google' && { expires_in: 3599 }),
    });
  }

  function bearer(provider: Provider, req: http.IncomingMessage): MockAccount | undefined {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? accessTokens.get(token) : undefined;
    return grant?.provider === provider ? grant.account : undefined;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      GITHUB_OAUTH_URL: `${base}/github`,
      GITHUB_API_URL: `${base}/github-api`,
      GOOGLE_OAUTH_URL: `${base}/google`,
    },
    setPublicUrl: (url) => {
      publicUrl = url;
    },
    addAccount: (provider, key, account) => accounts[provider].set(key, account),
    approveAs: (provider, key) => {
      defaultLogins[provider] = key;
    },
    tokenRequests,
    issuedSecrets,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
