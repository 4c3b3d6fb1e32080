import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import type { Logger } from '../logger.js';

/**
 * The stable codes a client may branch on (`extensions.code`). Every error a
 * person can fix carries one of these; anything else is an internal error.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  CONFLICT: 'CONFLICT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A mistake the caller can act on; its message is shown to them as is. */
export class UserError extends GraphQLError {
  constructor(
    readonly code: Exclude<ErrorCode, 'INTERNAL_SERVER_ERROR'>,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...details, code } });
    this.name = 'UserError';
  }

  static badUserInput(message: string, details?: { field?: string; [key: string]: unknown }) {
    return new UserError(ErrorCode.BAD_USER_INPUT, message, details);
  }

  /** For ids the caller may not see too: "not found", never "forbidden" (DESIGN.md §2). */
  static notFound(what: string, id: string) {
    return new UserError(ErrorCode.NOT_FOUND, `${what} ${id} was not found.`, { id });
  }

  static forbidden(message: string) {
    return new UserError(ErrorCode.FORBIDDEN, message);
  }

  static unauthenticated(message = 'Sign in to continue.') {
    return new UserError(ErrorCode.UNAUTHENTICATED, message);
  }

  static limitExceeded(message: string, details?: { limit?: number; [key: string]: unknown }) {
    return new UserError(ErrorCode.LIMIT_EXCEEDED, message, details);
  }

  static conflict(message: string, details?: Record<string, unknown>) {
    return new UserError(ErrorCode.CONFLICT, message, details);
  }
}

// Codes that graphql-js and Apollo give to malformed requests: the message
// describes the caller's document, not our internals, so it passes through.
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

// Our own codes, e.g. UNAUTHENTICATED raised while building a request's context.
const USER_ERROR_CODES = new Set<string>(
  Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
);

export const UNEXPECTED_ERROR_MESSAGE = 'An unexpected error occurred.';

/**
 * The one place an error is turned into what a client sees, for HTTP and
 * WebSocket alike. User errors keep their message and code; request errors from
 * graphql-js keep theirs; everything else is logged with its context and masked,
 * so no stack trace, SQL or internal message reaches a client.
 */
export function formatError(
  error: GraphQLError,
  log: Logger,
  context: { requestId?: string } = {},
): GraphQLFormattedError {
  const original = error.originalError;
  if (original instanceof UserError)
    return withoutStack({ ...error.toJSON(), extensions: original.extensions });
  if (original instanceof ArgumentValidationError) {
    return {
      message: `Invalid input: ${describeValidation(original)}`,
      locations: error.locations,
      path: error.path,
      extensions: { code: ErrorCode.BAD_USER_INPUT, fields: fieldProblems(original) },
    };
  }
  const code = error.extensions?.code;
  const fromGraphQL = !original || original instanceof GraphQLError;
  if (
    fromGraphQL &&
    typeof code === 'string' &&
    (REQUEST_ERROR_CODES.has(code) || USER_ERROR_CODES.has(code))
  )
    return withoutStack(error.toJSON());

  log.error(
    { err: original ?? error, path: error.path?.join('.'), requestId: context.requestId },
    'unexpected error in GraphQL operation',
  );
  return {
    message: UNEXPECTED_ERROR_MESSAGE,
    locations: error.locations,
    path: error.path,
    extensions: {
      code: ErrorCode.INTERNAL_SERVER_ERROR,
      ...(context.requestId && { requestId: context.requestId }),
    },
  };
}

/** Drops what is for the server only: stack traces, and Apollo's `http` (status) instructions. */
function withoutStack(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions) return formatted;
  const { stacktrace: _stacktrace, http: _http, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

function fieldProblems(error: ArgumentValidationError): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  const visit = (errors: typeof error.extensions.validationErrors, prefix: string) => {
    for (const item of errors) {
      const field = prefix ? `${prefix}.${item.property}` : item.property;
      if (item.constraints) problems[field] = Object.values(item.constraints);
      if (item.children?.length) visit(item.children, field);
    }
  };
  visit(error.extensions.validationErrors, '');
  return problems;
}

function describeValidation(error: ArgumentValidationError): string {
  return Object.values(fieldProblems(error)).flat().join('; ');
}
