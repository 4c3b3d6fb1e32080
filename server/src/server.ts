import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PasswordHasher } from './accounts/password-hasher.js';
import { createOAuthProviders } from './accounts/oauth-providers.js';
import { oauthRoutes } from './accounts/oauth.routes.js';
import { sessionCookieSettings } from './accounts/session-cookie.js';
import { Throttle } from './accounts/throttle.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Logger } from './logger.js';
import type { ContextDeps } from './graphql/context.js';
import { createDaestroPubSub } from './graphql/pubsub.js';
import { createGraphQLEndpoint } from './graphql/server.js';
import { buildDaestroSchema } from './graphql/schema.js';
import { errorHandler, notFound } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { createMetrics } from './http/metrics.js';
import { requestLog } from './http/request-log.js';
import { webRoutes } from './http/web-assets.js';
import { createMailTransport } from './mail/create-mail-transport.js';
import { MailService, registerMailWorker } from './mail/mail.service.js';
import { startJobQueue } from './queue/job-queue.js';

export interface DaestroServer {
  /** http://host:port this server listens on. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drains HTTP and WebSocket traffic and background jobs. The database stays open. */
  close(): Promise<void>;
}

/** Starts the HTTP + WebSocket server and background workers on an already migrated database. */
export async function startServer(config: Config, log: Logger, database: Database): Promise<DaestroServer> {
  const startedAt = new Date();
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const metrics = createMetrics();
  const pubSub = createDaestroPubSub();

  const queue = await startJobQueue({ databaseUrl: database.url, log });
  await registerMailWorker(queue, createMailTransport(config.mail, { em: database.orm.em, log }), log);

  const deps: ContextDeps = {
    orm: database.orm,
    log,
    pubSub,
    facts: {
      startedAt,
      database: { mode: database.mode, serverVersion: database.serverVersion },
      devOutbox: config.mail.transport === 'outbox',
    },
    hasher: new PasswordHasher(),
    throttle: new Throttle(database.orm.em.getConnection().getKnex()),
    mailer: new MailService(queue),
    publicUrl: config.publicUrl,
    sessionPolicy: config.sessions,
    oauthProviders: createOAuthProviders(config.oauth, config.publicUrl),
  };
  const cookie = sessionCookieSettings(config.publicUrl, config.sessions.absoluteTimeoutSeconds);
  const graphql = await createGraphQLEndpoint({
    schema: await buildDaestroSchema(pubSub),
    httpServer,
    deps,
    allowedOrigins: config.allowedOrigins,
    cookie,
    metrics,
    log,
  });

  app.use(metrics.httpMiddleware);
  app.use(requestLog(log));
  app.use(healthRoutes({ isDatabaseReachable: () => database.isReachable(), registry: metrics.registry }));
  app.use(oauthRoutes({ deps, cookie, log }));
  app.use(webRoutes(config.webDistDir));
  app.use(graphql.router);
  app.use(notFound);
  app.use(errorHandler(log));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, publicUrl: config.publicUrl }, 'Daestro is listening');

  return {
    url,
    port,
    async close() {
      await graphql.stop();
      await queue.stop();
    },
  };
}
