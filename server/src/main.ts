#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runAgentCommand } from './agent/agent.command.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import { KEYS_ACTIONS, KEYS_USAGE, runKeysCommand, type KeysAction } from './secrets/keys.command.js';
import { startServer } from './server.js';
import { DAESTRO_VERSION } from './version.js';

const USAGE = `Usage: daestro [command]

Commands:
  server    start the API, dashboard and GraphQL endpoint (default)
  migrate   apply pending database migrations and exit
  agent     run jobs on this machine for a compute environment (daestro agent --help)
${KEYS_USAGE}

Options:
  -h, --help     show this help
  -v, --version  show the version

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  // The agent runs on compute machines: its own flags, and none of the server's configuration.
  // It exits as soon as it is done, whatever sockets (the Docker engine's keep-alive) linger.
  if (argv[0] === 'agent') process.exit(await runAgentCommand(argv.slice(1)));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      'new-key': { type: 'boolean' },
      'batch-size': { type: 'string' },
    },
  });
  if (values.help) return print(USAGE, 0);
  if (values.version) return print(DAESTRO_VERSION, 0);
  const command = positionals[0] ?? 'server';
  const keysAction = command === 'keys' ? positionals[1] : undefined;
  const known =
    keysAction !== undefined
      ? positionals.length === 2 && (KEYS_ACTIONS as readonly string[]).includes(keysAction)
      : positionals.length <= 1 && ['server', 'migrate'].includes(command);
  if (!known) {
    return print(`Unknown command: ${positionals.join(' ')}\n\n${USAGE}`, 2, process.stderr);
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return print(error.message, 2, process.stderr);
    throw error;
  }
  const log = createLogger(config.logLevel);
  try {
    if (keysAction !== undefined) {
      return await runKeysCommand(
        keysAction as KeysAction,
        { newKey: values['new-key'], batchSize: values['batch-size'] },
        config,
        log,
        (line) => print(line, 0),
      );
    }
    if (command === 'migrate') {
      const database = await openDatabase(config, log);
      await database.close();
      return 0;
    }
    await serve(config, log);
    return 0;
  } catch (error) {
    // Start-up failures are usually the operator's to fix: say what, not where in our code.
    log.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    return 1;
  }
}

async function serve(config: ReturnType<typeof loadConfig>, log: Logger): Promise<void> {
  const database = await openDatabase(config, log);
  let server;
  try {
    server = await startServer(config, log, database);
  } catch (error) {
    await database.close();
    throw error;
  }

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: draining connections');
    try {
      await server.close();
      await database.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', (signal) => void shutdown(signal));
  process.on('SIGTERM', (signal) => void shutdown(signal));
}

function print(text: string, code: number, stream: NodeJS.WriteStream = process.stdout): number {
  stream.write(`${text}\n`);
  return code;
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
