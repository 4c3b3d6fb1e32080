import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, InvalidCredentialsError } from '../accounts/authenticate.js';
import { readSessionCookie, type SessionCookieSettings } from '../accounts/session-cookie.js';
import type { ClientInfo } from '../accounts/session.service.js';
import type { Viewer } from '../accounts/viewer.js';
import { authenticateAgent, type AgentPrincipal } from '../agents/agent-principal.js';
import type { ServerMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { createContext, servicesFor, type ContextDeps, type GraphQLContext } from './context.js';
import { formatError } from './errors.js';
import { validateWithLimits } from './operation-limits.js';

/** Close code for a socket whose session or token was revoked (graphql-ws reserves 4400–4499 for such). */
export const CLOSE_REVOKED = 4401;

type SocketExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  viewer?: Viewer;
  agent?: AgentPrincipal;
  client?: ClientInfo;
  [key: string]: unknown;
};

export function clientInfo(request: IncomingMessage): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.socket.remoteAddress,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
  };
}

/**
 * graphql-ws on the HTTP server's /graphql path. The handshake authenticates by
 * an API token (`authToken`) or an agent token (`agentToken`) in connectionParams,
 * or by the session cookie — but only when the page's Origin is allowed, so
 * another site cannot ride a victim's cookie (cross-site WebSocket hijacking).
 * A socket opened by a session or token closes the moment it is revoked (an
 * agent's, when its spawn is retired).
 */
export function serveGraphQLOverWebSocket(options: {
  schema: GraphQLSchema;
  httpServer: HttpServer;
  path: string;
  deps: ContextDeps;
  allowedOrigins: string[];
  cookie: SessionCookieSettings;
  metrics: ServerMetrics;
  log: Logger;
}): { dispose(): Promise<void> } {
  const { deps, metrics, log } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path });
  wsServer.on('connection', (socket) => {
    metrics.webSocketOpened();
    socket.once('close', () => metrics.webSocketClosed());
  });

  const socketsByCredential = new Map<string, Set<WebSocket>>();
  const credentialKey = (viewer: Viewer) =>
    viewer.token ? `token:${viewer.token.id}` : viewer.sessionId ? `session:${viewer.sessionId}` : undefined;
  const closeAll = (key: string) => {
    for (const socket of socketsByCredential.get(key) ?? [])
      socket.close(CLOSE_REVOKED, 'Credentials revoked');
    socketsByCredential.delete(key);
  };
  const stopListening = listenForRevocations(deps, closeAll);

  const handle = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema: options.schema,
      validate: validateWithLimits,
      onConnect: async (ctx) => {
        const { request, socket } = ctx.extra;
        const origin = request.headers.origin;
        const apiToken = ctx.connectionParams?.authToken;
        const agentToken = ctx.connectionParams?.agentToken;
        if (apiToken !== undefined && typeof apiToken !== 'string') return false;
        if (agentToken !== undefined && (typeof agentToken !== 'string' || apiToken !== undefined))
          return false;
        const cookieOnly = apiToken === undefined && agentToken === undefined;
        if (cookieOnly && origin !== undefined && !options.allowedOrigins.includes(origin)) {
          log.warn({ origin }, 'refused a WebSocket from a page on another origin');
          return false;
        }
        try {
          let key: string | undefined;
          if (agentToken !== undefined) {
            ctx.extra.agent = await authenticateAgent(agentToken, servicesFor(deps));
            key = `agent:${ctx.extra.agent.spawnId}`;
          } else {
            const viewer = await authenticate(
              { apiToken, sessionToken: readSessionCookie(request.headers.cookie, options.cookie) },
              servicesFor(deps),
            );
            ctx.extra.viewer = viewer;
            key = viewer && credentialKey(viewer);
          }
          ctx.extra.client = clientInfo(request);
          if (key) {
            const sockets = socketsByCredential.get(key) ?? new Set();
            sockets.add(socket);
            socketsByCredential.set(key, sockets);
            socket.once('close', () => sockets.delete(socket));
          }
          return true;
        } catch (error) {
          if (!(error instanceof InvalidCredentialsError)) throw error;
          // 4401 rather than graphql-ws's 4403: an agent must tell "register again" from other refusals.
          if (agentToken !== undefined) socket.close(CLOSE_REVOKED, 'Agent token invalid or revoked');
          return false;
        }
      },
      context: (ctx) =>
        createContext(deps, {
          viewer: ctx.extra.viewer,
          agent: ctx.extra.agent,
          client: ctx.extra.client ?? {},
        }),
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const context = args.contextValue as GraphQLContext;
        return { ...result, errors: result.errors.map((error) => formatError(error, context.log, context)) };
      },
      // graphql-ws sends `error` messages for documents refused before execution
      // (validation, operation limits): label them as Apollo does over HTTP.
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) =>
          formatError(
            error.extensions.code
              ? error
              : new GraphQLError(error.message, {
                  nodes: error.nodes,
                  source: error.source,
                  positions: error.positions,
                  extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
                }),
            log,
          ),
        ),
    },
    wsServer,
  );

  return {
    async dispose() {
      stopListening();
      await handle.dispose();
    },
  };
}

function listenForRevocations(deps: ContextDeps, closeAll: (key: string) => void): () => void {
  const subscriptions = [
    deps.pubSub.subscribe('session.revoked'),
    deps.pubSub.subscribe('api_token.revoked'),
    deps.pubSub.subscribe('agent.revoked'),
  ] as const;
  void (async () => {
    for await (const { sessionId } of subscriptions[0]) closeAll(`session:${sessionId}`);
  })();
  void (async () => {
    for await (const { apiTokenId } of subscriptions[1]) closeAll(`token:${apiTokenId}`);
  })();
  void (async () => {
    for await (const { spawnId } of subscriptions[2]) closeAll(`agent:${spawnId}`);
  })();
  return () => {
    for (const subscription of subscriptions) void subscription.return?.();
  };
}
