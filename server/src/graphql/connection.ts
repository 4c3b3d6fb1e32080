import { Max, Min } from 'class-validator';
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { UserError } from './errors.js';

export const MAX_PAGE_SIZE = 100;

@ObjectType({ description: 'Where a page sits in its list (Relay).' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field({ description: 'True when the page was asked for with `after`.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor!: string | null;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { defaultValue: 20, description: `Page size, 1 to ${MAX_PAGE_SIZE}.` })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first: number = 20;

  @Field(() => String, { nullable: true, description: "The previous page's endCursor." })
  after?: string;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/**
 * The `<Name>Connection` and `<Name>Edge` types of a Relay list of `Node`.
 * Use as `@ObjectType() class JobConnection extends ConnectionType(Job, 'Job') {}`.
 */
export function ConnectionType<T extends object>(Node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field({ description: 'Opaque; pass as `after` to continue after this node.' })
    cursor!: string;

    @Field(() => Node)
    node!: T;
  }

  // Not in the schema itself: only the named subclasses are reachable from resolvers.
  @ObjectType()
  abstract class ConnectionClass implements Connection<T> {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionClass;
}

/**
 * A cursor is the sort key of a row, opaque to clients: the list is ordered by
 * that key, so the next page starts strictly after it and pages never overlap
 * or skip rows, whatever is inserted meanwhile.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key inside a cursor; BAD_USER_INPUT when it is not a cursor of this list. */
export function decodeCursor(cursor: string, length: number): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== length || !key.every((part) => typeof part === 'string')) {
    throw UserError.badUserInput('`after` is not a cursor of this list; pass an endCursor it returned.', {
      field: 'after',
    });
  }
  return key as string[];
}

/**
 * Shapes rows fetched with `limit: first + 1` (the extra row only tells whether
 * another page exists) into a connection.
 */
export function toConnection<T>(
  rows: readonly T[],
  page: { first: number; after?: string | null },
  sortKeyOf: (row: T) => string[],
): Connection<T> {
  const edges = rows.slice(0, page.first).map((node) => ({ cursor: encodeCursor(sortKeyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      hasPreviousPage: !!page.after,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
