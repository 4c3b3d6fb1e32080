import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PasswordHasher } from './accounts/password-hasher.js';
import { startEmbeddedAgent } from './agent/embedded-agent.js';
import { createOAuthProviders } from './accounts/oauth-providers.js';
import { oauthRoutes } from './accounts/oauth.routes.js';
import { sessionCookieSettings } from './accounts/session-cookie.js';
import { Throttle } from './accounts/throttle.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Logger } from './logger.js';
import { servicesFor, type ContextDeps } from './graphql/context.js';
import { createEventBus } from './graphql/pubsub.js';
import { createGraphQLEndpoint } from './graphql/server.js';
import { buildDaestroSchema } from './graphql/schema.js';
import { errorHandler, notFound } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { createMetrics } from './http/metrics.js';
import { requestLog } from './http/request-log.js';
import { webRoutes } from './http/web-assets.js';
import { createMailTransport } from './mail/create-mail-transport.js';
import { MailService, registerMailWorker } from './mail/mail.service.js';
import { registerLogRetention } from './logs/log-retention.service.js';
import { logRoutes } from './logs/log.routes.js';
import { RunFeeds } from './logs/run-feeds.js';
import { startJobQueue } from './queue/job-queue.js';
import { Scheduler } from './scheduler/scheduler.js';
import { Keyring } from './secrets/keyring.js';
import { SecretService } from './secrets/secret.service.js';

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
  // In-process, or over Redis (REDIS_URL) so that several server processes share every event.
  const bus = createEventBus({ redisUrl: config.redisUrl, log });
  const { pubSub } = bus;
  const runFeeds = new RunFeeds({ pubSub, em: database.orm.em, log });
  // Before any worker starts: a missing or malformed key file stops the start cleanly.
  const keyring = await Keyring.open(config.masterKeys, log);

  const queue = await startJobQueue({ databaseUrl: database.url, log });
  await registerMailWorker(queue, createMailTransport(config.mail, { em: database.orm.em, log }), log);
  const stopLogRetention = await registerLogRetention(queue, database.orm, log);

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
    cloudApis: config.cloudApis,
    keyring,
    agentLeaseSeconds: config.scheduler.agentLeaseSeconds,
    agentClaimGraceSeconds: config.scheduler.agentClaimGraceSeconds,
    runFeeds,
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
  app.use(logRoutes({ deps, cookie, log }));
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

  // Every server runs one; the one holding the leader lock dispatches (scheduler/leader.ts).
  const scheduler = new Scheduler(
    {
      orm: database.orm,
      databaseUrl: database.url,
      pubSub,
      log,
      secretsFor: (em) => new SecretService(em, keyring),
    },
    config.scheduler,
  );
  scheduler.start();
  const embeddedAgent = config.embeddedAgent
    ? startEmbeddedAgent({
        serverUrl: `http://${loopbackFor(host)}:${port}`,
        dataDir: config.dataDir,
        em: database.orm.em,
        services: () => servicesFor(deps),
        log,
      })
    : undefined;

  return {
    url,
    port,
    async close() {
      // First, while the API still answers: its runs finish or are handed back.
      await embeddedAgent?.stop();
      await scheduler.stop();
      await graphql.stop();
      runFeeds.close();
      stopLogRetention();
      await queue.stop();
      await bus.close();
    },
  };
}

/** Where this process reaches itself: a wildcard listen address is not one to dial. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '[::]') return '[::1]';
  return host;
}
