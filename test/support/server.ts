import { loadConfig } from '../../server/src/config.js';
import { openDatabase, type Database } from '../../server/src/db/database.js';
import { findFreePort } from '../../server/src/db/embedded-postgres.js';
import { createLogger, type Logger } from '../../server/src/logger.js';
import { startServer } from '../../server/src/server.js';
import { formatMasterKey, generateMasterKey } from '../../server/src/secrets/master-keys.js';
import { useTestDatabase } from './database.js';

/** One master key per test file, so secrets sealed by its servers open in all of them. */
const TEST_MASTER_KEYS = formatMasterKey(generateMasterKey());

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** PUBLIC_URL: the origin in emailed links and the one allowed to use the cookie over WebSocket. */
  publicUrl: string;
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
  // A concrete port (not 0) so PUBLIC_URL, derived from it, is the address the server really has.
  const config = loadConfig({
    PORT: String(await findFreePort()),
    HOST: '127.0.0.1',
    DATABASE_URL: await useTestDatabase(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Not the generated key file, which would land in ./.daestro of the checkout.
    ...(!options.env?.DAESTRO_MASTER_KEYS_FILE && { DAESTRO_MASTER_KEYS: TEST_MASTER_KEYS }),
    ...options.env,
  });
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(config, log);
  const server = await startServer(config, log, database);
  let stopped = false;
  return {
    url: server.url,
    publicUrl: config.publicUrl,
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
