import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has defaults that start a local server on an embedded database', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '/srv/app/.daestro',
      publicUrl: 'http://127.0.0.1:4000',
      logLevel: 'info',
    });
    expect(config.webDistDir).toMatch(/web[/\\]dist$/);
  });

  it('reads secrets from *_FILE variants', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'daestro-config-'));
    const file = path.join(dir, 'db-url');
    await writeFile(file, 'postgres://u:secret@db:5432/daestro\n');
    expect(loadConfig({ DATABASE_URL_FILE: file }).databaseUrl).toBe('postgres://u:secret@db:5432/daestro');
  });

  it('reports every problem at once, in words an operator can act on', () => {
    const attempt = () =>
      loadConfig({
        PORT: '70000',
        DATABASE_URL: 'mysql://nope',
        PUBLIC_URL: 'ftp://x',
        LOG_LEVEL: 'loud',
        HOST_FILE: '/nonexistent',
        HOST: 'both',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'PORT must be an integer from 0 to 65535, got "70000"',
        'set HOST or HOST_FILE, not both',
        'DATABASE_URL must start with postgres:// or postgresql://',
        'PUBLIC_URL must be an http(s) URL such as https://daestro.example.com, got "ftp://x"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      ]);
    }
  });

  it('names a *_FILE that cannot be read', () => {
    expect(() => loadConfig({ DATABASE_URL_FILE: '/nonexistent/secret' })).toThrow(
      'DATABASE_URL_FILE: cannot read /nonexistent/secret (ENOENT)',
    );
  });

  it('derives PUBLIC_URL from a wildcard bind address', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://daestro.example.com/some/path' }).publicUrl).toBe(
      'https://daestro.example.com',
    );
  });
});

describe('loadConfig: mail', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('keeps mail in the development outbox when no provider is configured', () => {
    expect(loadConfig({}).mail).toEqual({ transport: 'outbox', from: 'Daestro <daestro@localhost>' });
  });

  it('picks Resend when its key is set, else SMTP when its URL is set', () => {
    const both = {
      RESEND_API_KEY: 're_1',
      SMTP_URL: 'smtp://127.0.0.1:25',
      MAIL_FROM: 'a@daestro.example.com',
    };
    expect(loadConfig(both).mail).toEqual({
      transport: 'resend',
      from: 'a@daestro.example.com',
      resendApiKey: 're_1',
      smtpUrl: 'smtp://127.0.0.1:25',
    });
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@smtp.example.com:465' }).mail).toEqual({
      transport: 'smtp',
      from: 'Daestro <daestro@localhost>',
      smtpUrl: 'smtps://u:p@smtp.example.com:465',
    });
  });

  it('lets MAIL_TRANSPORT choose, in any case', () => {
    const env = { RESEND_API_KEY: 're_1', SMTP_URL: 'smtp://127.0.0.1:25' };
    expect(loadConfig({ ...env, MAIL_TRANSPORT: 'SMTP' }).mail.transport).toBe('smtp');
    expect(loadConfig({ ...env, MAIL_TRANSPORT: 'outbox' }).mail.transport).toBe('outbox');
  });

  it('reads the Resend key and the SMTP URL from *_FILE variants', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'daestro-config-'));
    await writeFile(path.join(dir, 'resend'), 're_from_file\n');
    await writeFile(path.join(dir, 'smtp'), 'smtp://u:p@127.0.0.1:2525\n');
    const mail = loadConfig({
      RESEND_API_KEY_FILE: path.join(dir, 'resend'),
      SMTP_URL_FILE: path.join(dir, 'smtp'),
      MAIL_FROM: 'a@daestro.example.com',
    }).mail;
    expect(mail).toMatchObject({ resendApiKey: 're_from_file', smtpUrl: 'smtp://u:p@127.0.0.1:2525' });
  });

  it('accepts a bare address or a named one as MAIL_FROM', () => {
    expect(loadConfig({ MAIL_FROM: 'ops@example.com' }).mail.from).toBe('ops@example.com');
    expect(loadConfig({ MAIL_FROM: '"Daestro, Ops" <ops@example.com>' }).mail.from).toBe(
      '"Daestro, Ops" <ops@example.com>',
    );
  });

  it('reports every mail problem at once, without echoing the SMTP password', () => {
    expect(
      problemsOf({
        MAIL_TRANSPORT: 'pigeon',
        SMTP_URL: 'https://user:hunter2@mail.example.com',
        MAIL_FROM: 'nobody',
      }),
    ).toEqual([
      'MAIL_TRANSPORT must be one of resend, smtp, outbox, got "pigeon"',
      'SMTP_URL must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465',
      'MAIL_FROM must be an address such as "Daestro <daestro@example.com>", got "nobody"',
    ]);
  });

  it("refuses a transport without its provider's setting", () => {
    expect(problemsOf({ MAIL_TRANSPORT: 'resend', MAIL_FROM: 'a@daestro.example.com' })).toEqual([
      'MAIL_TRANSPORT=resend needs RESEND_API_KEY',
    ]);
    expect(problemsOf({ MAIL_TRANSPORT: 'smtp' })).toEqual(['MAIL_TRANSPORT=smtp needs SMTP_URL']);
  });

  it('refuses Resend with the default localhost sender, which Resend would reject on every message', () => {
    expect(problemsOf({ RESEND_API_KEY: 're_1' })).toEqual([
      'MAIL_FROM must be set to an address on a domain verified with Resend',
    ]);
  });

  it.each(['Daestro <>', 'Daestro <a@b', 'a@b@c', 'Daestro\n<a@example.com>', '<a@example.com> trailing'])(
    'refuses MAIL_FROM %j',
    (from) => {
      expect(problemsOf({ MAIL_FROM: from })).toHaveLength(1);
    },
  );
});

describe('loadConfig: sign-in with GitHub and Google', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('enables no provider by default', () => {
    expect(loadConfig({}).oauth).toEqual({});
  });

  it("enables a provider with both its client id and secret, on the provider's own endpoints", () => {
    const { oauth } = loadConfig({
      GITHUB_CLIENT_ID: 'gh-id',
      GITHUB_CLIENT_SECRET: 'gh-secret',
      GOOGLE_CLIENT_ID: 'g-id',
      GOOGLE_CLIENT_SECRET: 'g-secret',
    });
    expect(oauth).toEqual({
      github: {
        clientId: 'gh-id',
        clientSecret: 'gh-secret',
        authorizationUrl: 'https://github.com/login/oauth/authorize',
        tokenUrl: 'https://github.com/login/oauth/access_token',
        apiUrl: 'https://api.github.com',
      },
      google: {
        clientId: 'g-id',
        clientSecret: 'g-secret',
        authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenUrl: 'https://oauth2.googleapis.com/token',
        userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      },
    });
  });

  it('takes endpoint overrides (GitHub Enterprise, a stand-in issuer) and secrets from files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'daestro-config-'));
    await writeFile(path.join(dir, 'secret'), 'from-file\n');
    const { oauth } = loadConfig({
      GITHUB_CLIENT_ID: 'gh-id',
      GITHUB_CLIENT_SECRET_FILE: path.join(dir, 'secret'),
      GITHUB_OAUTH_URL: 'https://github.example.com/',
      GITHUB_API_URL: 'https://github.example.com/api/v3',
      GOOGLE_CLIENT_ID: 'g-id',
      GOOGLE_CLIENT_SECRET: 'g-secret',
      GOOGLE_OAUTH_URL: 'http://127.0.0.1:9999/google/',
    });
    expect(oauth.github).toMatchObject({
      clientSecret: 'from-file',
      authorizationUrl: 'https://github.example.com/login/oauth/authorize',
      tokenUrl: 'https://github.example.com/login/oauth/access_token',
      apiUrl: 'https://github.example.com/api/v3',
    });
    expect(oauth.google).toMatchObject({
      authorizationUrl: 'http://127.0.0.1:9999/google/authorize',
      tokenUrl: 'http://127.0.0.1:9999/google/token',
      userinfoUrl: 'http://127.0.0.1:9999/google/userinfo',
    });
  });

  it('refuses half a client and bad endpoint URLs, without echoing the secret', () => {
    expect(
      problemsOf({
        GITHUB_CLIENT_SECRET: 'hunter2',
        GOOGLE_CLIENT_ID: 'g-id',
        GOOGLE_OAUTH_URL: 'ftp://issuer',
        GITHUB_API_URL: 'https://api.example.com/?x=1',
      }),
    ).toEqual([
      'GITHUB_API_URL must be an http(s) URL without a query, such as https://api.github.com, got "https://api.example.com/?x=1"',
      'GOOGLE_OAUTH_URL must be an http(s) URL without a query, such as https://accounts.google.com, got "ftp://issuer"',
      'set both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET to enable sign-in with GitHub, or neither',
      'set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET to enable sign-in with Google, or neither',
    ]);
  });
});

describe('loadConfig: cloud provider APIs', () => {
  it("asks the providers' own APIs by default, within 5 s", () => {
    expect(loadConfig({}).cloudApis).toEqual({
      awsEc2Endpoint: 'https://ec2.us-east-1.amazonaws.com',
      digitalOceanApiUrl: 'https://api.digitalocean.com',
      linodeApiUrl: 'https://api.linode.com',
      vultrApiUrl: 'https://api.vultr.com',
      checkTimeoutMs: 5_000,
    });
  });

  it('takes other endpoints and timeout, and refuses URLs with a query or a bad timeout', () => {
    expect(
      loadConfig({ VULTR_API_URL: 'http://127.0.0.1:9000/vultr/', CLOUD_AUTH_CHECK_TIMEOUT_MS: '250' })
        .cloudApis,
    ).toMatchObject({ vultrApiUrl: 'http://127.0.0.1:9000/vultr', checkTimeoutMs: 250 });
    expect(() =>
      loadConfig({ LINODE_API_URL: 'https://api.linode.com?x=1', CLOUD_AUTH_CHECK_TIMEOUT_MS: '0' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'LINODE_API_URL must be an http(s) URL without a query, such as https://api.linode.com, got "https://api.linode.com?x=1"',
          'CLOUD_AUTH_CHECK_TIMEOUT_MS must be a positive whole number, got "0"',
        ],
      }) as ConfigError,
    );
  });
});
