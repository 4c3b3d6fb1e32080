import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import type { LogLevel } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { Agent, AgentStartError, defaultHostname, graphqlEndpoints, type AgentOptions } from './agent.js';
import type { PullPolicy } from './executors/docker.js';

export const AGENT_USAGE = `Usage: daestro agent [options]

Runs the jobs a compute environment's queues send to this machine. The agent only
dials out: it needs no open port. Every option can also be set by environment.

Options:
  --url <url>              DAESTRO_AGENT_URL            the Daestro server, e.g. https://daestro.example.com
  --token <token>          DAESTRO_AGENT_TOKEN          a registration token (dreg_…) from the compute environment
                                                        page, or an agent token (dagt_…); a registration token is
                                                        exchanged once for an agent token kept in the state dir
  --state-dir <dir>        DAESTRO_AGENT_STATE_DIR      default $DAESTRO_DATA_DIR/agent, else ~/.daestro-agent
  --docker-host <url>      DOCKER_HOST                  the Docker engine for DOCKER jobs (unix:///var/run/docker.sock)
  --drain-timeout <s>      DAESTRO_AGENT_DRAIN_SECONDS  on SIGTERM, how long running jobs may finish (default 60)
  --poll-interval <s>      DAESTRO_AGENT_POLL_SECONDS   claim without a wake-up this often (default 10)
  --grace-period <s>       DAESTRO_AGENT_GRACE_SECONDS  SIGTERM → SIGKILL on cancel and timeout (default 10)
  --pull-policy <policy>   DAESTRO_AGENT_PULL_POLICY    always (default) or if-not-present
  --docker-network <mode>  DAESTRO_AGENT_DOCKER_NETWORK containers' network (default: the engine's)
  --hostname <name>        DAESTRO_AGENT_HOSTNAME       the name the server shows (default: this host's)
  -h, --help               show this help`;

type Env = Record<string, string | undefined>;

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const MIB = 1024 * 1024;

const FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  'docker-host': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'poll-interval': { type: 'string' },
  'grace-period': { type: 'string' },
  'pull-policy': { type: 'string' },
  'docker-network': { type: 'string' },
  hostname: { type: 'string' },
} as const;

/** A mistake in how the agent was started; the message lists every problem. */
export class AgentUsageError extends Error {
  override name = 'AgentUsageError';
}

/** Reads the agent's options from its flags, then its environment. */
export function parseAgentOptions(
  argv: string[],
  env: Env = process.env,
): AgentOptions & { dockerHost: string | undefined } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: FLAGS,
  });
  const problems: string[] = [];
  for (const name of Object.keys(values)) if (!(name in FLAGS)) problems.push(`unknown option --${name}`);
  if (positionals.length > 0) problems.push(`unexpected argument: ${positionals.join(' ')}`);
  const setting = (flag: string, name: string): string | undefined => {
    const value = values[flag];
    if (value === true) problems.push(`--${flag} needs a value`);
    return (typeof value === 'string' ? value : env[name])?.trim() || undefined;
  };
  const seconds = (flag: string, name: string, fallback: number, allowZero = false): number => {
    const raw = setting(flag, name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      problems.push(
        `${flag ? `--${flag} / ` : ''}${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got "${raw}"`,
      );
      return fallback;
    }
    return value;
  };
  const number = (name: string, fallback: number): number => seconds('', name, fallback);

  const url = setting('url', 'DAESTRO_AGENT_URL');
  if (url === undefined)
    problems.push('--url / DAESTRO_AGENT_URL is required: the address of the Daestro server');
  else {
    try {
      if (!/^(https?|wss?):$/.test(new URL(url).protocol)) throw new Error();
      graphqlEndpoints(url);
    } catch {
      problems.push(
        `--url / DAESTRO_AGENT_URL must be an http(s) URL such as https://daestro.example.com, got "${url}"`,
      );
    }
  }
  const token = setting('token', 'DAESTRO_AGENT_TOKEN');
  if (token !== undefined && !/^(dreg|dagt)_[A-Za-z0-9_-]+$/.test(token)) {
    problems.push(
      '--token / DAESTRO_AGENT_TOKEN must be a registration token (dreg_…) or an agent token (dagt_…)',
    );
  }
  const pullPolicy = (setting('pull-policy', 'DAESTRO_AGENT_PULL_POLICY') ?? 'always').toLowerCase();
  if (pullPolicy !== 'always' && pullPolicy !== 'if-not-present') {
    problems.push(
      `--pull-policy / DAESTRO_AGENT_PULL_POLICY must be always or if-not-present, got "${pullPolicy}"`,
    );
  }
  const dockerHost = setting('docker-host', 'DOCKER_HOST');
  if (dockerHost !== undefined && !/^(unix|tcp|http|https):\/\//.test(dockerHost)) {
    problems.push(
      `--docker-host / DOCKER_HOST must be unix:///path/to/docker.sock or tcp://host:port, got "${dockerHost}"`,
    );
  }
  const dataDir = env.DAESTRO_DATA_DIR?.trim();
  const stateDir = path.resolve(
    setting('state-dir', 'DAESTRO_AGENT_STATE_DIR') ??
      (dataDir ? path.join(dataDir, 'agent') : path.join(os.homedir(), '.daestro-agent')),
  );

  const options = {
    serverUrl: url ?? '',
    token,
    stateDir,
    hostname: setting('hostname', 'DAESTRO_AGENT_HOSTNAME') ?? defaultHostname(),
    dockerHost,
    docker: undefined,
    pollIntervalMs: seconds('poll-interval', 'DAESTRO_AGENT_POLL_SECONDS', 10) * 1000,
    drainTimeoutMs: seconds('drain-timeout', 'DAESTRO_AGENT_DRAIN_SECONDS', 60, true) * 1000,
    gracePeriodSeconds: seconds('grace-period', 'DAESTRO_AGENT_GRACE_SECONDS', 10, true),
    pullPolicy: (pullPolicy === 'if-not-present' ? 'IF_NOT_PRESENT' : 'ALWAYS') as PullPolicy,
    ...(setting('docker-network', 'DAESTRO_AGENT_DOCKER_NETWORK') && {
      dockerNetwork: setting('docker-network', 'DAESTRO_AGENT_DOCKER_NETWORK'),
    }),
    // Tuning, by environment only (tests turn these down).
    reconnect: {
      initialMs: number('DAESTRO_AGENT_RECONNECT_MIN_MS', 500),
      maxMs: number('DAESTRO_AGENT_RECONNECT_MAX_MS', 10_000),
    },
    keepAliveMs: number('DAESTRO_AGENT_KEEPALIVE_MS', 10_000),
    statsIntervalMs: seconds('', 'DAESTRO_AGENT_STATS_SECONDS', 5) * 1000,
    logBufferBytes: number('DAESTRO_AGENT_LOG_BUFFER_MIB', 32) * MIB,
  };
  if (problems.length > 0)
    throw new AgentUsageError(`Cannot start the agent:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return options;
}

/** The engine at `host` (unix:// or tcp://), or at the default socket when that exists; else none. */
export function dockerFor(host: string | undefined): { docker: Docker; address: string } | undefined {
  if (host === undefined) {
    return existsSync(DEFAULT_DOCKER_SOCKET)
      ? {
          docker: new Docker({ socketPath: DEFAULT_DOCKER_SOCKET }),
          address: `unix://${DEFAULT_DOCKER_SOCKET}`,
        }
      : undefined;
  }
  const url = new URL(host);
  if (url.protocol === 'unix:') return { docker: new Docker({ socketPath: url.pathname }), address: host };
  return {
    docker: new Docker({
      host: url.hostname,
      port: url.port || (url.protocol === 'https:' ? 2376 : 2375),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
    }),
    address: host,
  };
}

/** `daestro agent`: runs until SIGTERM/SIGINT (drains, exits 0) or until the server refuses it (exits 1). */
export async function runAgentCommand(argv: string[], env: Env = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return 0;
  }
  let options;
  try {
    options = parseAgentOptions(argv, env);
  } catch (error) {
    if (!(error instanceof AgentUsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${AGENT_USAGE}\n`);
    return 2;
  }
  const log = createLogger(logLevelOf(env.LOG_LEVEL));
  const engine = dockerFor(options.dockerHost);
  if (engine) await reportDocker(engine, log);
  else log.warn('no Docker engine (set --docker-host or DOCKER_HOST): DOCKER jobs will fail on this agent');

  const agent = new Agent({ ...options, docker: engine?.docker }, log);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(130);
    }
    signalled = true;
    log.info({ signal }, 'shutting down');
    void agent.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await agent.start();
  } catch (error) {
    if (!(error instanceof AgentStartError)) throw error;
    log.fatal(error.message);
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const exit = await agent.finished;
  if (exit.message) process.stderr.write(`${exit.message}\n`);
  return exit.code;
}

async function reportDocker(engine: { docker: Docker; address: string }, log: Logger): Promise<void> {
  try {
    const version = await engine.docker.version();
    log.info(
      { docker: engine.address, version: version.Version, apiVersion: version.ApiVersion },
      'Docker engine found',
    );
  } catch (error) {
    log.warn(
      { docker: engine.address, err: error },
      'the Docker engine does not answer: DOCKER jobs fail until it does',
    );
  }
}

function logLevelOf(raw: string | undefined): LogLevel {
  const level = (raw ?? 'info').toLowerCase();
  return (
    (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const).find(
      (known) => known === level,
    ) ?? 'info'
  );
}
