import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildSchema, getNamedType, isObjectType, type GraphQLObjectType } from 'graphql';
import { AUTH_EXTENSION } from '../../src/graphql/auth.js';
import { buildDaestroSchema } from '../../src/graphql/schema.js';

// Operations anyone may call. Adding one here is a security decision: say why in review.
const PUBLIC_OPERATIONS = [
  'Query.serverInfo',
  'Query.me',
  'Query.privacyPolicy',
  'Mutation.signUp',
  'Mutation.logIn',
  'Mutation.verifyEmail',
  'Mutation.requestPasswordReset',
  'Mutation.resetPassword',
  // Sign-in with GitHub/Google: which buttons to show, and finishing a new person's sign-up
  // (the ticket only works in the browser that signed in with the provider).
  'Query.authProviders',
  'Query.oauthSignUp',
  'Mutation.completeOAuthSignUp',
  'Subscription.serverTicks',
].sort();

describe('authorization rules', () => {
  it('every Query, Mutation and Subscription field declares who may call it', async () => {
    const schema = await buildDaestroSchema();
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
      (root): root is GraphQLObjectType => !!root,
    );
    const undeclared: string[] = [];
    const publicOnes: string[] = [];
    for (const root of roots) {
      for (const field of Object.values(root.getFields())) {
        const rule = field.extensions[AUTH_EXTENSION];
        const name = `${root.name}.${field.name}`;
        if (rule === undefined) undeclared.push(name);
        if (rule === 'PUBLIC') publicOnes.push(name);
      }
    }
    expect(undeclared, 'add @Auth(...) or @Public() to these resolvers').toEqual([]);
    expect(publicOnes.sort()).toEqual(PUBLIC_OPERATIONS);
  });

  it('schema.graphql has no output field that could return a password, a hash or a secret', async () => {
    const schema = buildSchema(await readFile(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
    const suspicious = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      // Root fields are operations (resetPassword…); what they return is checked as its own type.
      .filter(
        (type) => !type.name.startsWith('__') && !['Query', 'Mutation', 'Subscription'].includes(type.name),
      )
      .flatMap((type) =>
        Object.values(type.getFields())
          // A yes/no answer (hasPassword) reveals no secret; anything that can carry text can.
          .filter((field) => getNamedType(field.type).name !== 'Boolean')
          .map((field) => `${type.name}.${field.name}`),
      )
      .filter((name) => /password|hash|secret|salt|ciphertext|privatekey/i.test(name));
    // The one secret an output may hold: a new API token, returned once by the mutation that creates it.
    expect(suspicious).toEqual(['CreateApiTokenPayload.secret']);
  });
});
