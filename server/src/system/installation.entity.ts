import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';

/**
 * This Daestro installation: one row, written by the first migration, so every
 * replica sharing a database reports the same identity.
 */
@Entity({ tableName: 'installation' })
export class Installation {
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Property({ type: 'timestamptz' })
  installedAt: Date = new Date();
}
