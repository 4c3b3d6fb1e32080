import type { EntityManager } from '@mikro-orm/postgresql';
import { Repeater } from '@graphql-yoga/subscription';
import { UserError } from '../graphql/errors.js';
import { DAESTRO_VERSION } from '../version.js';
import type { DatabaseMode } from '../db/database.js';
import { Installation } from './installation.entity.js';
import type { ServerInfo, ServerTick } from './system.types.js';

/** Facts about this server process, fixed at start. */
export interface ServerFacts {
  startedAt: Date;
  database: { mode: DatabaseMode; serverVersion: string };
  /** Mail is kept in the development outbox rather than sent. */
  devOutbox: boolean;
}

export const TICK_INTERVAL_MS = { min: 100, max: 60_000 } as const;

export class SystemService {
  constructor(
    private readonly em: EntityManager,
    private readonly facts: ServerFacts,
  ) {}

  async serverInfo(): Promise<ServerInfo> {
    const [installation] = await this.em.find(
      Installation,
      {},
      { orderBy: { installedAt: 'asc' }, limit: 1 },
    );
    if (!installation) throw new Error('installation row missing: the database was not migrated by Daestro');
    return {
      version: DAESTRO_VERSION,
      startedAt: this.facts.startedAt,
      uptimeSeconds: this.uptimeSeconds(),
      installationId: installation.id,
      installedAt: installation.installedAt,
      database: { ...this.facts.database },
      devOutbox: this.facts.devOutbox,
    };
  }

  /** A clock that ticks while someone listens; it proves the WebSocket path end to end. */
  ticks(intervalMs: number): AsyncIterable<ServerTick> {
    if (
      !Number.isInteger(intervalMs) ||
      intervalMs < TICK_INTERVAL_MS.min ||
      intervalMs > TICK_INTERVAL_MS.max
    ) {
      throw UserError.badUserInput(
        `intervalMs must be a whole number from ${TICK_INTERVAL_MS.min} to ${TICK_INTERVAL_MS.max}.`,
        { field: 'intervalMs' },
      );
    }
    return new Repeater<ServerTick>(async (push, stop) => {
      let sequence = 0;
      const timer = setInterval(() => {
        sequence += 1;
        void push({ sequence, at: new Date(), uptimeSeconds: this.uptimeSeconds() });
      }, intervalMs);
      await stop;
      clearInterval(timer);
    });
  }

  private uptimeSeconds(): number {
    return (Date.now() - this.facts.startedAt.getTime()) / 1000;
  }
}
