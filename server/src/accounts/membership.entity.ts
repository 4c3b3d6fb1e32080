import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { Organization } from './organization.entity.js';
import { User } from './user.entity.js';

/** Roles from most to least powerful. */
export enum MembershipRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
  VIEWER = 'VIEWER',
}
registerEnumType(MembershipRole, {
  name: 'MembershipRole',
  description:
    'OWNER: everything. ADMIN: members and settings. MEMBER: run and change workloads. VIEWER: read only.',
});

const RANK: Record<MembershipRole, number> = { OWNER: 4, ADMIN: 3, MEMBER: 2, VIEWER: 1 };

export function roleAtLeast(role: MembershipRole, minimum: MembershipRole): boolean {
  return RANK[role] >= RANK[minimum];
}

@Entity({ tableName: 'membership' })
@Unique({ properties: ['organization', 'user'] })
export class Membership {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  @ManyToOne(() => User, { deleteRule: 'cascade', index: true })
  user!: User;

  @Enum({ items: () => MembershipRole })
  role!: MembershipRole;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
