import {
  Collection,
  Entity,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { ComputeEnvironment } from './compute-environment.entity.js';
import { Project } from './project.entity.js';

/** Jobs wait here; enabled queues are served by ascending priority, FIFO within a queue. */
@ObjectType({
  description:
    'Where jobs wait. Enabled queues are served by ascending priority, first in first out within a queue, ' +
    'on their linked compute environments in order.',
})
@Entity({ tableName: 'job_queue' })
@Unique({ properties: ['project', 'name'] })
export class JobQueue {
  [OptionalProps]?: 'createdAt' | 'enabled' | 'description';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project.' })
  @Property({ type: 'text' })
  name!: string;

  @Field()
  @Property({ type: 'text' })
  description: string = '';

  /** 1..1000, lower runs first. */
  @Field(() => Int, { description: '1 to 1000; lower runs first.' })
  @Property({ type: 'integer' })
  priority!: number;

  /** 0 means unlimited. */
  @Field(() => Int, { description: 'Most runs of this queue at once; 0 means unlimited.' })
  @Property({ type: 'integer' })
  maxConcurrency!: number;

  /** How long a cloud spawn serving only this queue may idle before it is retired. */
  @Field(() => Int, {
    description: 'How long an idle cloud machine serving this queue is kept before it is deleted.',
  })
  @Property({ type: 'integer' })
  maxIdleSeconds!: number;

  /** New queues start disabled; enabling needs a linked compute environment. */
  @Field({
    description: 'New queues start disabled; enabling needs at least one linked compute environment.',
  })
  @Property({ type: 'boolean' })
  enabled: boolean = false;

  @OneToMany(() => JobQueueLink, (link) => link.queue, { orderBy: { position: 'asc' } })
  links = new Collection<JobQueueLink>(this);

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}

/** A queue's compute environments, tried for placement in `position` order. */
@Entity({ tableName: 'job_queue_link' })
@Unique({ properties: ['queue', 'position'] })
export class JobQueueLink {
  @ManyToOne(() => JobQueue, { primary: true, deleteRule: 'cascade' })
  queue!: JobQueue;

  @ManyToOne(() => ComputeEnvironment, { primary: true, deleteRule: 'restrict' })
  computeEnvironment!: ComputeEnvironment;

  @Property({ type: 'integer' })
  position!: number;
}
