import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger.js';
import type { MailTransport, OutgoingMail } from '../mail.transport.js';
import { OutboxMessage } from '../outbox-message.entity.js';

/**
 * The development transport (the default when no provider is configured):
 * stores each message for the dashboard's outbox and logs that it was "sent".
 */
export class OutboxTransport implements MailTransport {
  constructor(
    /** The root EntityManager; each message is written through its own fork. */
    private readonly em: EntityManager,
    private readonly log: Logger,
  ) {}

  async send(message: OutgoingMail): Promise<void> {
    const stored = new OutboxMessage(message);
    await this.em.fork().persistAndFlush(stored);
    // Recipient and subject only: the body holds single-use links that a log reader must not get.
    this.log.info(
      { outboxMessageId: stored.id, to: stored.to, subject: stored.subject },
      'mail stored in the dev outbox',
    );
  }
}
