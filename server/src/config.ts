import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    databaseUrl,
    dataDir: path.resolve(cwd, read('DAESTRO_DATA_DIR') ?? '.daestro'),
    publicUrl,
    logLevel: logLevel as LogLevel,
    webDistDir: path.resolve(cwd, read('DAESTRO_WEB_DIST') ?? DEFAULT_WEB_DIST),
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

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
