import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isAbstractType,
  isLeafType,
  isNonNullType,
  isObjectType,
  parse,
  validate,
  type FormattedExecutionResult,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLNamedType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { operationLimitRules } from '../../server/src/graphql/operation-limits.js';
import type { CookieClient } from './http-session.js';

/**
 * Operations written from the schema as the server describes it (introspection),
 * so a field added tomorrow is selected by the same code without anyone listing it.
 */

export type Result = FormattedExecutionResult<Record<string, unknown>> & { status: number };

/** One field of a selection set; `children` for objects, absent for scalars and enums. */
export interface Selection {
  name: string;
  children?: Selection[];
}

/** Object levels selected below a root field. A connection's edges and nodes are not levels of their own. */
export const WALK_DEPTH = 4;

/** A root field with arguments that fit many ids is called this often at most. */
const MAX_CALLS_PER_FIELD = 30;

export async function introspect(client: CookieClient): Promise<GraphQLSchema> {
  const result = await client.graphql<IntrospectionQuery>(getIntrospectionQuery());
  if (!result.data) throw new Error(`introspection failed: ${JSON.stringify(result.errors)}`);
  return buildClientSchema(result.data);
}

function isConnectionPart(type: GraphQLNamedType): boolean {
  return /(Connection|Edge)$/.test(type.name);
}

/** An argument the caller must give: non-null and without a default. */
function isRequired(argument: GraphQLArgument): boolean {
  return isNonNullType(argument.type) && argument.defaultValue === undefined;
}

/**
 * Every scalar and enum leaf of `type`, `depth` object levels down, with `__typename`
 * on each object. Fields that need an argument without a default cannot be selected
 * blindly: they are left out and named in `skipped`.
 */
export function selectAll(
  schema: GraphQLSchema,
  type: GraphQLNamedType,
  depth: number,
  skipped: Set<string>,
): Selection[] | undefined {
  if (isLeafType(type)) return undefined;
  if (isAbstractType(type)) {
    return [
      { name: '__typename' },
      ...schema.getPossibleTypes(type).map((member) => ({
        name: `... on ${member.name}`,
        children: selectAll(schema, member, depth, skipped),
      })),
    ];
  }
  if (!isObjectType(type)) return undefined;
  const selections: Selection[] = [{ name: '__typename' }];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some(isRequired)) {
      skipped.add(`${type.name}.${field.name}`);
      continue;
    }
    const named = getNamedType(field.type);
    const below = isConnectionPart(named) ? depth : depth - 1;
    if (isLeafType(named)) selections.push({ name: field.name });
    else if (below > 0)
      selections.push({ name: field.name, children: selectAll(schema, named, below, skipped) });
  }
  return selections;
}

function render(selections: Selection[]): string {
  const fields = selections.map(({ name, children }) => (children ? `${name} ${render(children)}` : name));
  return `{ ${fields.join(' ')} }`;
}

/** `query Walk($id: ID!) { job(id: $id) { … } }` for the arguments in `variables`. */
export function operationText(
  kind: 'query' | 'mutation' | 'subscription',
  field: GraphQLField<unknown, unknown>,
  variables: Record<string, unknown>,
  selection: Selection[] | undefined,
): string {
  const names = Object.keys(variables);
  const definitions = names.map(
    (name) => `$${name}: ${String(field.args.find((arg) => arg.name === name)!.type)}`,
  );
  const args = names.map((name) => `${name}: $${name}`);
  return (
    `${kind} Walk${names.length ? `(${definitions.join(', ')})` : ''} ` +
    `{ ${field.name}${names.length ? `(${args.join(', ')})` : ''}${selection ? ` ${render(selection)}` : ''} }`
  );
}

export function withinLimits(schema: GraphQLSchema, operation: string): boolean {
  return validate(schema, parse(operation), operationLimitRules).length === 0;
}

/** Two selections that together hold every leaf of `selection`, each keeping `__typename` and `id`. */
function halve(selection: Selection[]): [Selection[], Selection[]] | undefined {
  const keep = selection.filter(({ name }) => name === '__typename' || name === 'id');
  const rest = selection.filter((item) => !keep.includes(item));
  if (rest.length >= 2) {
    const middle = Math.ceil(rest.length / 2);
    return [
      [...keep, ...rest.slice(0, middle)],
      [...keep, ...rest.slice(middle)],
    ];
  }
  const only = rest[0];
  const inner = only?.children && halve(only.children);
  return (
    inner && [
      [...keep, { ...only, children: inner[0] }],
      [...keep, { ...only, children: inner[1] }],
    ]
  );
}

/** The selection as few operations as the server's depth, alias and cost limits allow. */
export function splitWithinLimits(
  schema: GraphQLSchema,
  selection: Selection[],
  write: (part: Selection[]) => string,
): Selection[][] {
  if (withinLimits(schema, write(selection))) return [selection];
  const halves = halve(selection);
  if (!halves) throw new Error(`no split of this operation is within the limits: ${write(selection)}`);
  return halves.flatMap((half) => splitWithinLimits(schema, half, write));
}

/**
 * A mutation with the deepest selection of its whole result that fits in one
 * operation: unlike a query, a mutation cannot be split and sent twice.
 */
export function mutationText(
  schema: GraphQLSchema,
  name: string,
  variables: Record<string, unknown>,
): string {
  const field = schema.getMutationType()?.getFields()[name];
  if (!field) throw new Error(`the schema has no mutation ${name}`);
  for (let depth = WALK_DEPTH; depth > 0; depth -= 1) {
    const selection = selectAll(schema, getNamedType(field.type), depth, new Set());
    const text = operationText('mutation', field, variables, selection);
    if (withinLimits(schema, text)) return text;
  }
  throw new Error(`no selection of ${name} is within the operation limits`);
}

export interface WalkCall {
  caller: string;
  field: string;
  variables: Record<string, unknown>;
  ok: boolean;
  errors: readonly GraphQLFormattedError[];
}

/**
 * Calls every Query field the way a curious client would: each with a selection of
 * all its leaves (split into several operations where the limits demand), and each
 * required argument filled from what earlier answers revealed: `projectId: ID!` from
 * the ids of Project objects seen so far, `job(id: ID!)` from Job ids, `name: String!`
 * from the names of the objects the field returns. It goes round until a pass finds
 * nothing new to call.
 */
export class QueryWalk {
  /** Type name → field name → values seen in any answer. */
  readonly seen = new Map<string, Map<string, Set<string>>>();
  /** Object fields left out of selections because they need arguments (Type.field). */
  readonly skippedFields = new Set<string>();
  readonly calls: WalkCall[] = [];
  /** Operations sent: a call whose selection is split sends several. */
  operations = 0;
  private readonly selections = new Map<string, Selection[][]>();

  constructor(
    readonly schema: GraphQLSchema,
    /** Called with every answer, for the leak scan. */
    private readonly record: (source: string, result: Result) => void,
  ) {}

  /** Remembers the scalars of every typed object in an answer, to fill later arguments with. */
  learn(value: unknown): void {
    if (Array.isArray(value)) return value.forEach((item) => this.learn(item));
    if (!value || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    const typename = typeof object.__typename === 'string' ? object.__typename : undefined;
    for (const [key, child] of Object.entries(object)) {
      if (typename && (typeof child === 'string' || typeof child === 'number')) {
        const fields = this.seen.get(typename) ?? new Map<string, Set<string>>();
        this.seen.set(typename, fields);
        fields.set(key, (fields.get(key) ?? new Set<string>()).add(String(child)));
      } else {
        this.learn(child);
      }
    }
  }

  /** The values of `field` seen on objects of type `typeName`. */
  valuesOf(typeName: string, field: string): string[] {
    return [...(this.seen.get(typeName)?.get(field) ?? [])];
  }

  /** The operations (one or more, within the limits) that read all of a field's result. */
  operationsFor(
    kind: 'query' | 'subscription',
    field: GraphQLField<unknown, unknown>,
    variables: Record<string, unknown>,
  ): string[] {
    const key = `${kind} ${field.name}`;
    let parts = this.selections.get(key);
    if (!parts) {
      const selection = selectAll(this.schema, getNamedType(field.type), WALK_DEPTH, this.skippedFields);
      parts = selection
        ? splitWithinLimits(this.schema, selection, (part) => operationText(kind, field, variables, part))
        : [];
      this.selections.set(key, parts);
    }
    return parts.length
      ? parts.map((part) => operationText(kind, field, variables, part))
      : [operationText(kind, field, variables, undefined)];
  }

  async walk(caller: string, client: CookieClient): Promise<void> {
    const tried = new Set<string>();
    for (let progress = true; progress;) {
      progress = false;
      for (const field of Object.values(this.schema.getQueryType()!.getFields())) {
        for (const variables of this.argumentSets(field)) {
          const key = `${field.name} ${JSON.stringify(variables)}`;
          if (tried.has(key)) continue;
          tried.add(key);
          progress = true;
          await this.call(caller, client, field, variables);
        }
      }
    }
  }

  /** Root Query fields some caller got an answer from, without errors. */
  answered(): Set<string> {
    return new Set(this.calls.filter((call) => call.ok).map((call) => call.field));
  }

  private async call(
    caller: string,
    client: CookieClient,
    field: GraphQLField<unknown, unknown>,
    variables: Record<string, unknown>,
  ): Promise<void> {
    const call: WalkCall = { caller, field: field.name, variables, ok: true, errors: [] };
    for (const operation of this.operationsFor('query', field, variables)) {
      const result = (await client.graphql(operation, variables)) as Result;
      this.operations += 1;
      this.record(`${caller}: ${field.name}(${JSON.stringify(variables).slice(1, -1)})`, result);
      this.learn(result.data);
      if (result.errors?.length || result.data?.[field.name] === undefined) call.ok = false;
      call.errors = [...call.errors, ...(result.errors ?? [])];
    }
    this.calls.push(call);
  }

  /** Every way to fill the field's required arguments from what was seen; none when one cannot be filled. */
  private argumentSets(field: GraphQLField<unknown, unknown>): Record<string, unknown>[] {
    let sets: Record<string, unknown>[] = [{}];
    for (const argument of field.args.filter(isRequired)) {
      const values = this.candidates(field, argument);
      sets = sets.flatMap((set) => values.map((value) => ({ ...set, [argument.name]: value })));
    }
    return sets.slice(0, MAX_CALLS_PER_FIELD);
  }

  private candidates(field: GraphQLField<unknown, unknown>, argument: GraphQLArgument): string[] {
    const returned = getNamedType(field.type).name;
    const argumentType = getNamedType(argument.type).name;
    if (argumentType === 'String') return this.valuesOf(returned, argument.name);
    if (argumentType !== 'ID') return [];
    if (argument.name === 'id') return this.valuesOf(returned, 'id');
    // `projectId`, `runId`… name a type ending in Project, Run…
    const stem = argument.name.replace(/Id$/, '');
    if (stem === argument.name) return [];
    const types = Object.values(this.schema.getTypeMap()).filter(
      (type) => isObjectType(type) && type.name.toLowerCase().endsWith(stem.toLowerCase()),
    );
    return [...new Set(types.flatMap((type) => this.valuesOf(type.name, 'id')))];
  }
}
