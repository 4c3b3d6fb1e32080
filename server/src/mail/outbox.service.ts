import type { EntityManager } from '@mikro-orm/postgresql';
import { UserError } from '../graphql/errors.js';
import { OutboxMessage } from './outbox-message.entity.js';

export const OUTBOX_PAGE_SIZE = { default: 20, max: 100 } as const;

/** Reads the development outbox for the dashboard. */
export class OutboxService {
  constructor(private readonly em: EntityManager) {}

  /**
   * The newest `first` messages sent to any of `to` (compared case-insensitively).
   * Callers pass the signed-in user's own addresses, so nobody reads another's mail.
   */
  async list(options: { to: string[]; first?: number }): Promise<OutboxMessage[]> {
    const first = options.first ?? OUTBOX_PAGE_SIZE.default;
    if (!Number.isInteger(first) || first < 1 || first > OUTBOX_PAGE_SIZE.max) {
      throw UserError.badUserInput(`first must be a whole number from 1 to ${OUTBOX_PAGE_SIZE.max}.`, {
        field: 'first',
      });
    }
    const addresses = [...new Set(options.to.map((address) => address.trim().toLowerCase()))];
    if (addresses.length === 0) return [];
    return this.em.find(
      OutboxMessage,
      { to: { $in: addresses } },
      // ids are UUIDv7, so they break ties in creation order.
      { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: first },
    );
  }
}
