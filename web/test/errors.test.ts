import { describe, expect, it } from 'vitest';
import { NETWORK_ERROR_MESSAGE, errorMessage, hasErrorCode, showErrors } from '../src/accounts/errors';

const badInput = (message: string, extensions: Record<string, unknown>) => ({
  message,
  extensions: { code: 'BAD_USER_INPUT', ...extensions },
});

describe('showErrors', () => {
  it('puts validation messages (extensions.fields) next to their fields', () => {
    const shown = showErrors(
      {
        graphQLErrors: [
          badInput('Invalid input: …', {
            fields: {
              email: ['email must be an email address'],
              password: ['password must be 10 to 256 characters long'],
            },
          }),
        ],
      },
      ['email', 'password'] as const,
    );
    expect(shown).toEqual({
      fields: {
        email: 'email must be an email address',
        password: 'password must be 10 to 256 characters long',
      },
      general: [],
    });
  });

  it('puts a message with extensions.field next to it, following aliases and nested paths', () => {
    const error = {
      graphQLErrors: [
        badInput('Please read and accept the current privacy policy (version 2).', {
          field: 'acceptedPolicyVersion',
        }),
        badInput('newPassword must be 10 to 256 characters long', { field: 'input.newPassword' }),
      ],
    };
    const shown = showErrors(error, ['policyAccepted', 'password'] as const, {
      acceptedPolicyVersion: 'policyAccepted',
      newPassword: 'password',
    });
    expect(shown.fields).toEqual({
      policyAccepted: 'Please read and accept the current privacy policy (version 2).',
      password: 'newPassword must be 10 to 256 characters long',
    });
  });

  it('shows errors about fields the form lacks, and errors without a field, above the form', () => {
    const shown = showErrors(
      {
        graphQLErrors: [
          { message: 'Too many attempts. Try again in 40 seconds.', extensions: { code: 'LIMIT_EXCEEDED' } },
          badInput('first must be from 1 to 200.', { field: 'first' }),
          badInput('Invalid input', { fields: { token: ['token is too long'] } }),
        ],
      },
      ['email'] as const,
    );
    expect(shown.fields).toEqual({});
    expect(shown.general).toEqual([
      'Too many attempts. Try again in 40 seconds.',
      'first must be from 1 to 200.',
      'token is too long',
    ]);
  });

  it('keeps the first message per field and drops repeated general messages', () => {
    const shown = showErrors(
      {
        graphQLErrors: [
          badInput('first', { field: 'email' }),
          badInput('second', { field: 'email' }),
          { message: 'The email or password is incorrect.' },
          { message: 'The email or password is incorrect.' },
        ],
      },
      ['email'] as const,
    );
    expect(shown.fields.email).toBe('first');
    expect(shown.general).toEqual(['second', 'The email or password is incorrect.']);
  });

  it('explains a network failure in words', () => {
    expect(showErrors({ graphQLErrors: [], networkError: new Error('Failed to fetch') }, []).general).toEqual(
      [NETWORK_ERROR_MESSAGE],
    );
  });

  it('shows nothing without an error', () => {
    expect(showErrors(undefined, ['email'] as const)).toEqual({ fields: {}, general: [] });
  });
});

describe('errorMessage and hasErrorCode', () => {
  it('joins distinct messages, or explains a network failure', () => {
    expect(errorMessage({ graphQLErrors: [{ message: 'A.' }, { message: 'A.' }, { message: 'B.' }] })).toBe(
      'A. B.',
    );
    expect(errorMessage({ graphQLErrors: [], networkError: new Error('x') })).toBe(NETWORK_ERROR_MESSAGE);
  });

  it('finds a code among the errors', () => {
    const error = {
      graphQLErrors: [{ message: 'Sign in to continue.', extensions: { code: 'UNAUTHENTICATED' } }],
    };
    expect(hasErrorCode(error, 'UNAUTHENTICATED')).toBe(true);
    expect(hasErrorCode(error, 'FORBIDDEN')).toBe(false);
    expect(hasErrorCode(undefined, 'UNAUTHENTICATED')).toBe(false);
  });
});
