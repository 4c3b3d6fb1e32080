import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMasterKeys, type MasterKeySource } from './secrets/master-keys.js';

/** Everything Daestro reads from its environment, parsed and validated once at start. */
export interface Config {
  port: number;
  host: string;
  /** Unset means: start an embedded PostgreSQL in `dataDir/pg`. */
  databaseUrl: string | undefined;
  /** Absolute path of the data directory (embedded database, generated keys). */
  dataDir: string;
  /** The address users reach Daestro at; used for links and allowed origins. */
  publicUrl: string;
  logLevel: LogLevel;
  /** Absolute path of the built dashboard (`web/dist`). */
  webDistDir: string;
  /** Browser origins whose pages may use the session cookie over WebSocket: PUBLIC_URL plus ALLOWED_ORIGINS. */
  allowedOrigins: string[];
  sessions: {
    /** A session unused this long ends. */
    idleTimeoutSeconds: number;
    /** A session ends this long after sign-in, however active. */
    absoluteTimeoutSeconds: number;
  };
  mail: MailConfig;
  /** Sign-in with GitHub or Google; a provider is absent unless both its client id and secret are set. */
  oauth: OAuthConfig;
  /** The cloud providers' APIs, asked whether new cloud auths work. */
  cloudApis: CloudApiConfig;
  /** Master keys that wrap the data keys of stored secrets (secrets/keyring.ts). */
  masterKeys: MasterKeySource;
  scheduler: SchedulerSettings;
  /** Run an agent inside the server on compute environment `local` (DAESTRO_EMBEDDED_AGENT; default: with the embedded database). */
  embeddedAgent: boolean;
  /** Secret (may hold a password). Set: the event bus goes through Redis, so several server processes serve the same subscriptions. */
  redisUrl: string | undefined;
}

/** The scheduler (server/src/scheduler/) and the agents' heartbeat lease. */
export interface SchedulerSettings {
  /** How often the leader looks for time-based work: due jobs and retries, cron slots, timeouts, lost agents. */
  sweepMs: number;
  /** How often a standby server tries to become the scheduler leader. */
  leaderRetryMs: number;
  /** An agent silent this long is LOST and its runs go to ERROR. */
  agentLeaseSeconds: number;
  /** A run claimed this long ago that its agent's heartbeat does not list as held goes to ERROR (the claim never reached it). */
  agentClaimGraceSeconds: number;
  /** How long past a run's timeout the server waits for the agent to stop it before timing it out itself. */
  timeoutGraceSeconds: number;
}

export const MAIL_TRANSPORTS = ['resend', 'smtp', 'outbox'] as const;
export type MailTransportName = (typeof MAIL_TRANSPORTS)[number];

/** Where mail goes. Only the chosen transport's settings are needed; the others may be unset. */
export interface MailConfig {
  transport: MailTransportName;
  /** The sender, `Name <address>` or a bare address. */
  from: string;
  /** Secret. */
  resendApiKey?: string;
  /** Secret: holds the SMTP password. */
  smtpUrl?: string;
}

const DEFAULT_MAIL_FROM = 'Daestro <daestro@localhost>';

/** An OAuth app registered with a provider, and where that provider's endpoints are. */
export interface OAuthClientConfig {
  clientId: string;
  /** Secret. */
  clientSecret: string;
  authorizationUrl: string;
  tokenUrl: string;
}

export interface OAuthConfig {
  github?: OAuthClientConfig & {
    /** The REST API base, for the profile and email addresses. */
    apiUrl: string;
  };
  google?: OAuthClientConfig & { userinfoUrl: string };
}

/** Where the cloud providers' APIs are (proxies and tests point them elsewhere), and how long a check waits. */
export interface CloudApiConfig {
  /** The EC2 endpoint; its region (ec2.<region>.amazonaws.com) is the one requests are signed for. */
  awsEc2Endpoint: string;
  digitalOceanApiUrl: string;
  linodeApiUrl: string;
  vultrApiUrl: string;
  /** The check made when cloud credentials are created gives up after this long. */
  checkTimeoutMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown when the environment is invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

// Both src/config.ts and dist/config.js sit one level below server/, so this
// resolves to <repo>/web/dist whether Daestro runs from source or compiled.
const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const read = (name: string) => readSetting(env, name, problems);

  const port = parsePort(read('PORT') ?? '4000', problems);
  const host = read('HOST') ?? '127.0.0.1';
  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const publicUrl = parsePublicUrl(read('PUBLIC_URL'), host, port, problems);
  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!isLogLevel(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const allowedOrigins = parseOrigins(read('ALLOWED_ORIGINS'), publicUrl, problems);
  const idleTimeoutSeconds = parsePositiveInt('SESSION_IDLE_TIMEOUT_SECONDS', read, 7 * 86_400, problems);
  const absoluteTimeoutSeconds = parsePositiveInt(
    'SESSION_ABSOLUTE_TIMEOUT_SECONDS',
    read,
    30 * 86_400,
    problems,
  );
  const mail = parseMail(read, problems);
  const oauth = parseOAuth(read, problems);
  const cloudApis = parseCloudApis(read, problems);
  const dataDir = path.resolve(cwd, read('DAESTRO_DATA_DIR') ?? '.daestro');
  const masterKeys = parseMasterKeySource(env, cwd, dataDir, problems);
  const scheduler: SchedulerSettings = {
    sweepMs: parsePositiveInt('SCHEDULER_SWEEP_MS', read, 1_000, problems),
    leaderRetryMs: parsePositiveInt('SCHEDULER_LEADER_RETRY_MS', read, 1_000, problems),
    agentLeaseSeconds: parsePositiveInt('AGENT_LEASE_SECONDS', read, 30, problems),
    agentClaimGraceSeconds: parsePositiveInt('AGENT_CLAIM_GRACE_SECONDS', read, 30, problems),
    timeoutGraceSeconds: parsePositiveInt('RUN_TIMEOUT_GRACE_SECONDS', read, 30, problems),
  };

  const embeddedAgent = parseBoolean('DAESTRO_EMBEDDED_AGENT', read, databaseUrl === undefined, problems);
  const redisUrl = read('REDIS_URL');
  // The value is not echoed: it may hold a password.
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    databaseUrl,
    dataDir,
    publicUrl,
    logLevel: logLevel as LogLevel,
    webDistDir: path.resolve(cwd, read('DAESTRO_WEB_DIST') ?? DEFAULT_WEB_DIST),
    allowedOrigins,
    sessions: { idleTimeoutSeconds, absoluteTimeoutSeconds },
    mail,
    oauth,
    cloudApis,
    masterKeys,
    scheduler,
    embeddedAgent,
    redisUrl,
  };
}

/**
 * Reads NAME, or the file named by NAME_FILE (for secrets mounted as files,
 * e.g. Docker or Kubernetes secrets). Setting both is a mistake we refuse.
 */
function readSetting(env: Env, name: string, problems: string[]): string | undefined {
  const direct = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (direct && file) {
    problems.push(`set ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(
        `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
  }
  return direct || undefined;
}

function parsePort(raw: string, problems: string[]): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function parsePublicUrl(raw: string | undefined, host: string, port: number, problems: string[]): string {
  if (raw === undefined) {
    const reachableHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    return `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}`;
  }
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url.origin;
  } catch {
    problems.push(`PUBLIC_URL must be an http(s) URL such as https://daestro.example.com, got "${raw}"`);
    return raw;
  }
}

function parseOrigins(raw: string | undefined, publicUrl: string, problems: string[]): string[] {
  const origins = new Set([publicUrl]);
  for (const entry of (raw ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean)) {
    try {
      origins.add(new URL(entry).origin);
    } catch {
      problems.push(`ALLOWED_ORIGINS must be a comma-separated list of URLs, got "${entry}"`);
    }
  }
  return [...origins];
}

function parseBoolean(
  name: string,
  read: (name: string) => string | undefined,
  fallback: boolean,
  problems: string[],
): boolean {
  const raw = read(name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return fallback;
}

function parsePositiveInt(
  name: string,
  read: (name: string) => string | undefined,
  fallback: number,
  problems: string[],
): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    problems.push(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

/**
 * MAIL_TRANSPORT picks the transport; unset, it is resend when RESEND_API_KEY is
 * set, else smtp when SMTP_URL is set, else the development outbox.
 */
function parseMail(read: (name: string) => string | undefined, problems: string[]): MailConfig {
  const resendApiKey = read('RESEND_API_KEY');
  const smtpUrl = read('SMTP_URL');
  const from = read('MAIL_FROM') ?? DEFAULT_MAIL_FROM;
  const chosen = read('MAIL_TRANSPORT')?.toLowerCase();

  let transport: MailTransportName = resendApiKey ? 'resend' : smtpUrl ? 'smtp' : 'outbox';
  if (chosen !== undefined) {
    if ((MAIL_TRANSPORTS as readonly string[]).includes(chosen)) transport = chosen as MailTransportName;
    else problems.push(`MAIL_TRANSPORT must be one of ${MAIL_TRANSPORTS.join(', ')}, got "${chosen}"`);
  }
  if (transport === 'resend' && !resendApiKey) problems.push('MAIL_TRANSPORT=resend needs RESEND_API_KEY');
  if (transport === 'smtp' && !smtpUrl) problems.push('MAIL_TRANSPORT=smtp needs SMTP_URL');
  // The value is not echoed: it holds the SMTP password.
  if (smtpUrl !== undefined && !isSmtpUrl(smtpUrl)) {
    problems.push(
      'SMTP_URL must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465',
    );
  }

  const address = /^(?:[^<>\r\n]*<([^<>\s]+)>|([^<>\s]+))$/.exec(from.trim());
  const sender = address?.[1] ?? address?.[2];
  if (!sender || !/^[^@]+@[^@]+$/.test(sender)) {
    problems.push(`MAIL_FROM must be an address such as "Daestro <daestro@example.com>", got "${from}"`);
  } else if (transport === 'resend' && sender.endsWith('@localhost')) {
    // Resend refuses every message from a domain that is not verified with it.
    problems.push('MAIL_FROM must be set to an address on a domain verified with Resend');
  }

  return {
    transport,
    from,
    ...(resendApiKey !== undefined && { resendApiKey }),
    ...(smtpUrl !== undefined && { smtpUrl }),
  };
}

/**
 * A provider is enabled when both its client id and secret are set. The endpoint
 * overrides exist for GitHub Enterprise, proxies and tests (a local mock server);
 * an overridden Google issuer serves /authorize, /token and /userinfo under it.
 */
function parseOAuth(read: (name: string) => string | undefined, problems: string[]): OAuthConfig {
  const client = (prefix: string, label: string) => {
    const clientId = read(`${prefix}_CLIENT_ID`);
    const clientSecret = read(`${prefix}_CLIENT_SECRET`);
    if ((clientId === undefined) !== (clientSecret === undefined)) {
      problems.push(
        `set both ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET to enable sign-in with ${label}, or neither`,
      );
    }
    return clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined;
  };
  const baseUrl = (name: string, example: string) => parseBaseUrl(read, problems, name, example);

  const githubUrl = baseUrl('GITHUB_OAUTH_URL', 'https://github.com') ?? 'https://github.com';
  const githubApiUrl = baseUrl('GITHUB_API_URL', 'https://api.github.com') ?? 'https://api.github.com';
  const googleIssuer = baseUrl('GOOGLE_OAUTH_URL', 'https://accounts.google.com');
  const github = client('GITHUB', 'GitHub');
  const google = client('GOOGLE', 'Google');
  return {
    ...(github && {
      github: {
        ...github,
        authorizationUrl: `${githubUrl}/login/oauth/authorize`,
        tokenUrl: `${githubUrl}/login/oauth/access_token`,
        apiUrl: githubApiUrl,
      },
    }),
    ...(google && {
      google: {
        ...google,
        // Google's own endpoints sit on three hosts; only a stand-in issuer serves all three under one base.
        ...(googleIssuer && googleIssuer !== 'https://accounts.google.com'
          ? {
              authorizationUrl: `${googleIssuer}/authorize`,
              tokenUrl: `${googleIssuer}/token`,
              userinfoUrl: `${googleIssuer}/userinfo`,
            }
          : {
              authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
              tokenUrl: 'https://oauth2.googleapis.com/token',
              userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
            }),
      },
    }),
  };
}

/** An http(s) base URL without a trailing slash, or undefined when unset (or invalid: a problem is noted). */
function parseBaseUrl(
  read: (name: string) => string | undefined,
  problems: string[],
  name: string,
  example: string,
): string | undefined {
  const raw = read(name);
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) throw new Error();
    return url.href.replace(/\/+$/, '');
  } catch {
    problems.push(`${name} must be an http(s) URL without a query, such as ${example}, got "${raw}"`);
    return undefined;
  }
}

function parseCloudApis(read: (name: string) => string | undefined, problems: string[]): CloudApiConfig {
  const url = (name: string, official: string) => parseBaseUrl(read, problems, name, official) ?? official;
  return {
    awsEc2Endpoint: url('AWS_EC2_ENDPOINT', 'https://ec2.us-east-1.amazonaws.com'),
    digitalOceanApiUrl: url('DIGITALOCEAN_API_URL', 'https://api.digitalocean.com'),
    linodeApiUrl: url('LINODE_API_URL', 'https://api.linode.com'),
    vultrApiUrl: url('VULTR_API_URL', 'https://api.vultr.com'),
    checkTimeoutMs: parsePositiveInt('CLOUD_AUTH_CHECK_TIMEOUT_MS', read, 5_000, problems),
  };
}

/**
 * DAESTRO_MASTER_KEYS holds the keys; DAESTRO_MASTER_KEYS_FILE names a file that
 * the keyring keeps re-reading (so it is not read once like other *_FILE settings);
 * with neither, the keyring generates `$DAESTRO_DATA_DIR/master-keys`.
 */
function parseMasterKeySource(env: Env, cwd: string, dataDir: string, problems: string[]): MasterKeySource {
  const inline = env.DAESTRO_MASTER_KEYS?.trim();
  const file = env.DAESTRO_MASTER_KEYS_FILE?.trim();
  if (inline && file) problems.push('set DAESTRO_MASTER_KEYS or DAESTRO_MASTER_KEYS_FILE, not both');
  if (inline) {
    const parsed = parseMasterKeys(inline, 'DAESTRO_MASTER_KEYS');
    problems.push(...parsed.problems);
    return { kind: 'env', keys: parsed.keys };
  }
  if (file) {
    const keyFile = path.resolve(cwd, file);
    try {
      problems.push(...parseMasterKeys(readFileSync(keyFile, 'utf8'), 'DAESTRO_MASTER_KEYS_FILE').problems);
    } catch (error) {
      problems.push(
        `DAESTRO_MASTER_KEYS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return { kind: 'file', path: keyFile, generated: false };
  }
  return { kind: 'file', path: path.join(dataDir, 'master-keys'), generated: true };
}

function isSmtpUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
