import type { Server as HttpServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Router } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { authenticate, bearerToken, InvalidCredentialsError } from '../accounts/authenticate.js';
import {
  readSessionCookie,
  sessionCookieWriter,
  type SessionCookieSettings,
} from '../accounts/session-cookie.js';
import { authenticateAgent, isAgentToken } from '../agents/agent-principal.js';
import type { Logger } from '../logger.js';
import type { ServerMetrics } from '../http/metrics.js';
import { createContext, type ContextDeps, type GraphQLContext } from './context.js';
import { ErrorCode, formatError } from './errors.js';
import { operationLimitRules } from './operation-limits.js';
import { clientInfo, serveGraphQLOverWebSocket } from './websocket.js';

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
  allowedOrigins: string[];
  cookie: SessionCookieSettings;
  metrics: ServerMetrics;
  log: Logger;
}): Promise<GraphQLEndpoint> {
  const { schema, httpServer, deps, log, cookie } = options;
  const webSocket = serveGraphQLOverWebSocket({ ...options, path: GRAPHQL_PATH });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    validationRules: operationLimitRules,
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
              await webSocket.dispose();
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
      context: async ({ req, res }) => {
        const sessionToken = readSessionCookie(req.headers.cookie, cookie);
        const context = createContext(deps, {
          requestId: String((req as { id?: unknown }).id ?? '') || undefined,
          client: clientInfo(req),
          sessionCookie: sessionCookieWriter(res, cookie, sessionToken),
        });
        // Authenticate with the operation's own services: one EntityManager fork per request.
        const bearer = bearerToken(req.headers.authorization);
        try {
          if (isAgentToken(bearer)) context.agent = await authenticateAgent(bearer, context.services);
          else context.viewer = await authenticate({ apiToken: bearer, sessionToken }, context.services);
        } catch (error) {
          if (!(error instanceof InvalidCredentialsError)) throw error;
          throw new GraphQLError(error.message, {
            extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
          });
        }
        return context;
      },
    }),
  );
  return { router, stop: () => apollo.stop() };
}
