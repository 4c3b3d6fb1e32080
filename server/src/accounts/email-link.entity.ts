import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import { User } from './user.entity.js';

export enum EmailLinkPurpose {
  VERIFY_EMAIL = 'VERIFY_EMAIL',
  RESET_PASSWORD = 'RESET_PASSWORD',
}

/** A single-use, expiring link sent by email; only the token's hash is stored. */
@Entity({ tableName: 'email_link' })
export class EmailLink {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => User, { deleteRule: 'cascade', index: true })
  user!: User;

  @Enum({ items: () => EmailLinkPurpose })
  purpose!: EmailLinkPurpose;

  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  /** The address the link was sent to: verifying it proves this address, not a later one. */
  @Property({ type: 'text' })
  email!: string;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
