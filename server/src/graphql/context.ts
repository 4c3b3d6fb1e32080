import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { SessionCookieWriter } from '../accounts/session-cookie.js';
import type { ClientInfo } from '../accounts/session.service.js';
import type { Viewer } from '../accounts/viewer.js';
import type { AgentPrincipal } from '../agents/agent-principal.js';
import type { Logger } from '../logger.js';
import { createServices, type ServiceDeps, type Services } from '../services.js';

/** What every resolver receives: one EntityManager fork and its services per operation. */
export interface GraphQLContext {
  requestId: string;
  log: Logger;
  services: Services;
  /** The signed-in caller; undefined for anonymous calls. */
  viewer?: Viewer;
  /** A `daestro agent` calling with its agent token (never together with a viewer). */
  agent?: AgentPrincipal;
  client: ClientInfo;
  /** Present over HTTP only: WebSocket messages cannot set cookies. */
  sessionCookie?: SessionCookieWriter;
}

export interface ContextDeps extends ServiceDeps {
  orm: MikroORM;
  log: Logger;
}

export interface OperationInfo {
  requestId?: string;
  viewer?: Viewer;
  agent?: AgentPrincipal;
  client: ClientInfo;
  sessionCookie?: SessionCookieWriter;
}

export function createContext(deps: ContextDeps, operation: OperationInfo): GraphQLContext {
  const requestId = operation.requestId ?? randomUUID();
  return {
    requestId,
    log: deps.log.child({ requestId }),
    services: createServices(deps.orm.em.fork(), deps),
    viewer: operation.viewer,
    agent: operation.agent,
    client: operation.client,
    sessionCookie: operation.sessionCookie,
  };
}

/** Services for work outside an operation (authenticating a request or socket). */
export function servicesFor(deps: ContextDeps): Services {
  return createServices(deps.orm.em.fork(), deps);
}
