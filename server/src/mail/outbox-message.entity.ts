import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';

/**
 * A message the development outbox "sent": kept in the database so the
 * dashboard can show it, since no mail leaves the machine.
 */
@Entity({ tableName: 'mail_outbox_message' })
@Index({ properties: ['to', 'createdAt'] })
export class OutboxMessage {
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  /** The recipient, lower-cased so a signed-in user finds their mail whatever the case they typed. */
  @Property({ type: 'text' })
  to: string;

  @Property({ type: 'text' })
  subject: string;

  @Property({ type: 'text' })
  text: string;

  @Property({ type: 'text' })
  html: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  constructor(message: { to: string; subject: string; text: string; html: string }) {
    this.to = message.to.trim().toLowerCase();
    this.subject = message.subject;
    this.text = message.text;
    this.html = message.html;
  }
}
