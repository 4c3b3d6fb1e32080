import { GraphQLError } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { ArgumentValidationError } from 'type-graphql';
import { ErrorCode, UNEXPECTED_ERROR_MESSAGE, UserError, formatError } from '../../src/graphql/errors.js';
import type { Logger } from '../../src/logger.js';

function spyLogger() {
  const error = vi.fn();
  return { log: { error } as unknown as Logger, error };
}

/** What graphql-js hands to formatError for an error thrown inside a resolver. */
function thrownInResolver(original: Error): GraphQLError {
  return new GraphQLError(original.message, { originalError: original, path: ['serverInfo'] });
}

describe('formatError', () => {
  it('passes a user error through with its stable code and details', () => {
    const { log, error } = spyLogger();
    const formatted = formatError(thrownInResolver(UserError.notFound('Job', 'j-1')), log);
    expect(formatted.message).toBe('Job j-1 was not found.');
    expect(formatted.extensions).toEqual({ code: ErrorCode.NOT_FOUND, id: 'j-1' });
    expect(error).not.toHaveBeenCalled();
  });

  it('masks an unexpected error, keeps no stack or SQL, and logs it with context', () => {
    const { log, error } = spyLogger();
    const sqlError = new Error('select "secret" from "users" - relation "users" does not exist');
    const formatted = formatError(thrownInResolver(sqlError), log, { requestId: 'r-1' });
    expect(formatted).toEqual({
      message: UNEXPECTED_ERROR_MESSAGE,
      locations: undefined,
      path: ['serverInfo'],
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId: 'r-1' },
    });
    expect(JSON.stringify(formatted)).not.toMatch(/select|stack|users/);
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ err: sqlError, path: 'serverInfo', requestId: 'r-1' }),
      'unexpected error in GraphQL operation',
    );
  });

  it('masks a GraphQLError thrown by a library without a known code', () => {
    const { log } = spyLogger();
    const formatted = formatError(thrownInResolver(new GraphQLError('internal detail')), log);
    expect(formatted.message).toBe(UNEXPECTED_ERROR_MESSAGE);
  });

  it('turns class-validator failures into BAD_USER_INPUT with the failing fields', () => {
    const { log } = spyLogger();
    const validation = new ArgumentValidationError([
      { property: 'name', constraints: { matches: 'name must match ^[A-Za-z0-9-]{1,64}$' }, children: [] },
    ]);
    const formatted = formatError(thrownInResolver(validation), log);
    expect(formatted.message).toBe('Invalid input: name must match ^[A-Za-z0-9-]{1,64}$');
    expect(formatted.extensions).toEqual({
      code: ErrorCode.BAD_USER_INPUT,
      fields: { name: ['name must match ^[A-Za-z0-9-]{1,64}$'] },
    });
  });

  it('keeps graphql-js validation messages, which describe the caller’s document', () => {
    const { log, error } = spyLogger();
    const validation = new GraphQLError('Cannot query field "nope" on type "Query".', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const formatted = formatError(validation, log);
    expect(formatted.message).toBe('Cannot query field "nope" on type "Query".');
    expect(formatted.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error).not.toHaveBeenCalled();
  });
});
