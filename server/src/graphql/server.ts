import type { Server as HttpServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Router } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import type { ServerMetrics } from '../http/metrics.js';
import { createContext, type ContextDeps, type GraphQLContext } from './context.js';
import { formatError } from './errors.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphQLEndpoint {
  /** Express router for POST (and non-browser GET) /graphql. */
  router: Router;
  /** Stops taking operations, closes every WebSocket and drains HTTP. */
  stop(): Promise<void>;
}

/**
 * One schema served two ways on the same path: GraphQL over HTTP by Apollo
 * Server (CSRF prevention on) and graphql-ws for subscriptions. Both build a
 * fresh context per operation and format errors through the same function.
 */
export async function createGraphQLEndpoint(options: {
  schema: GraphQLSchema;
  httpServer: HttpServer;
  deps: ContextDeps;
  metrics: ServerMetrics;
  log: Logger;
}): Promise<GraphQLEndpoint> {
  const { schema, httpServer, deps, metrics, log } = options;

  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  wsServer.on('connection', (socket) => {
    metrics.webSocketOpened();
    socket.once('close', () => metrics.webSocketClosed());
  });
  const wsHandle = useServer<Record<string, unknown>, { context?: GraphQLContext }>(
    {
      schema,
      context: () => createContext(deps),
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const context = args.contextValue as GraphQLContext;
        return { ...result, errors: result.errors.map((error) => formatError(error, context.log, context)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error, log)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns signals: Apollo's own handler would re-raise SIGINT mid-drain.
    stopOnTerminationSignals: false,
    logger: log,
    formatError: (_formatted, error) =>
      formatError(error instanceof GraphQLError ? error : new GraphQLError(String(error)), log),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // GET /graphql from a browser is our bundled GraphiQL page, not Apollo's CDN one.
      ApolloServerPluginLandingPageDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsHandle.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const router = express.Router();
  router.use(
    GRAPHQL_PATH,
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        createContext(deps, String((req as { id?: unknown }).id ?? '') || undefined),
    }),
  );
  return { router, stop: () => apollo.stop() };
}
