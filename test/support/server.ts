import { loadConfig } from '../../server/src/config.js';
import { openDatabase, type Database } from '../../server/src/db/database.js';
import { createLogger, type Logger } from '../../server/src/logger.js';
import { startServer } from '../../server/src/server.js';
import { useTestDatabase } from './database.js';

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  database: Database;
  stop(): Promise<void>;
}

/**
 * The complete server (HTTP + WebSocket, dashboard from web/dist) on an
 * ephemeral port and this test file's database. TEST_LOG_LEVEL=debug shows its logs.
 */
export async function startTestServer(
  options: { env?: Record<string, string>; log?: Logger } = {},
): Promise<TestServer> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: await useTestDatabase(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(config, log);
  const server = await startServer(config, log, database);
  let stopped = false;
  return {
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/graphql`,
    database,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await database.close();
    },
  };
}
