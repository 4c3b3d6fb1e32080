import type { EntityManager } from '@mikro-orm/postgresql';
import { SystemService, type ServerFacts } from './system/system.service.js';

/** Long-lived dependencies shared by every operation. */
export interface ServiceDeps {
  facts: ServerFacts;
}

/** Each domain's service, bound to one operation's EntityManager fork. */
export interface Services {
  system: SystemService;
}

export function createServices(em: EntityManager, deps: ServiceDeps): Services {
  return {
    system: new SystemService(em, deps.facts),
  };
}
