import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import { createServices, type ServiceDeps, type Services } from '../services.js';

/** What every resolver receives: one EntityManager fork and its services per operation. */
export interface GraphQLContext {
  requestId: string;
  log: Logger;
  services: Services;
}

export interface ContextDeps extends ServiceDeps {
  orm: MikroORM;
  log: Logger;
}

export function createContext(deps: ContextDeps, requestId: string = randomUUID()): GraphQLContext {
  const em = deps.orm.em.fork();
  return {
    requestId,
    log: deps.log.child({ requestId }),
    services: createServices(em, deps),
  };
}
