import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  isUnionType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
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
  // A new machine holds only its compute environment's registration token (256 random bits; throttled per IP).
  'Mutation.registerAgent',
].sort();

// Operations only a `daestro agent` may call (@Auth('AGENT')), and nobody else.
const AGENT_OPERATIONS = [
  'Mutation.claimRuns',
  'Mutation.markRunStarted',
  'Mutation.finishRun',
  'Mutation.agentHeartbeat',
  'Mutation.agentGoingOffline',
  'Mutation.appendRunLogs',
  'Mutation.appendRunMetrics',
  'Subscription.agentWakeups',
].sort();

// The exemption to "no output returns a stored secret": a claimed run carries its env values and registry
// token, opened for the agent that claimed it. These fields may exist only on types no one but agents reaches.
const AGENT_ONLY_SECRET_FIELDS = ['RunEnvVar.value', 'RunRegistryCredential.token'];

// The output fields named like a secret that may exist, each for its reason. Anything else named
// like a password, hash, secret or token fails the schema test below.
const SECRET_LOOKING_OUTPUTS = [
  // Shown once, by the mutation that creates it: a new API token (createApiToken)…
  'CreateApiTokenPayload.secret',
  // …a SELF_HOSTED environment's registration token (createComputeEnvironment, rotateRegistrationToken)…
  'ComputeEnvironmentPayload.registrationToken',
  // …and a new agent's own token (registerAgent).
  'RegisterAgentPayload.agentToken',
  // Agent-only (claimRuns): the lease the agent's later writes for the run carry…
  'ClaimedRun.leaseToken',
  // …and the registry token opened for the image pull (see AGENT_ONLY_SECRET_FIELDS).
  'RunRegistryCredential.token',
  // The redacted view (••••abcd) of a stored secret, read from its masked column.
  'CloudAuth.maskedSecret',
  'RegistryAuth.maskedSecret',
].sort();

function rootFields(schema: GraphQLSchema): { name: string; field: GraphQLField<unknown, unknown> }[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (root): root is GraphQLObjectType => !!root,
  );
  return roots.flatMap((root) =>
    Object.values(root.getFields()).map((field) => ({ name: `${root.name}.${field.name}`, field })),
  );
}

/** Every output type a field's result can contain, however deep. */
function reachableTypes(field: GraphQLField<unknown, unknown>, seen = new Set<string>()): Set<string> {
  const type = getNamedType(field.type);
  if (seen.has(type.name)) return seen;
  seen.add(type.name);
  const members = isUnionType(type) ? type.getTypes() : [type];
  for (const member of members) {
    seen.add(member.name);
    if (isObjectType(member) || isInterfaceType(member)) {
      for (const child of Object.values(member.getFields())) reachableTypes(child, seen);
    }
  }
  return seen;
}

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

  it('schema.graphql has no output field that could return a password, a hash, a secret or a token', async () => {
    const schema = buildSchema(await readFile(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
    const suspicious = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      // Root fields are operations (resetPassword…); what they return is checked as its own type.
      .filter(
        (type) => !type.name.startsWith('__') && !['Query', 'Mutation', 'Subscription'].includes(type.name),
      )
      .flatMap((type) =>
        Object.values(type.getFields())
          // A yes/no answer (hasPassword) reveals no secret, and an object (CreateApiTokenPayload.apiToken)
          // is checked as its own type; anything that can carry text can.
          .filter((field) => {
            const type = getNamedType(field.type);
            return isLeafType(type) && type.name !== 'Boolean';
          })
          .map((field) => `${type.name}.${field.name}`),
      )
      .filter((name) => /password|hash|secret|salt|ciphertext|privatekey|token$/i.test(name));
    expect(suspicious.sort()).toEqual(SECRET_LOOKING_OUTPUTS);
  });

  it('AGENT operations are exactly the agent API, and need nothing but an agent', async () => {
    const schema = await buildDaestroSchema();
    const forAgents = rootFields(schema).filter(({ field }) => {
      const rule = field.extensions[AUTH_EXTENSION];
      return Array.isArray(rule) && rule.includes('AGENT');
    });
    expect(forAgents.map(({ name }) => name).sort()).toEqual(AGENT_OPERATIONS);
    for (const { name, field } of forAgents)
      expect(field.extensions[AUTH_EXTENSION], name).toEqual(['AGENT']);
  });

  it('the agent-only types that carry opened secrets are reachable from AGENT operations only', async () => {
    const schema = await buildDaestroSchema();
    const agentOnlyTypes = AGENT_ONLY_SECRET_FIELDS.map((name) => name.split('.')[0]!);
    for (const name of AGENT_ONLY_SECRET_FIELDS) {
      const [type, field] = name.split('.') as [string, string];
      const object = schema.getType(type);
      expect(isObjectType(object) && object.getFields()[field], `${name} exists`).toBeTruthy();
    }
    const leaks: string[] = [];
    let reachedByAgents = false;
    for (const { name, field } of rootFields(schema)) {
      const reached = agentOnlyTypes.filter((type) => reachableTypes(field).has(type));
      if (AGENT_OPERATIONS.includes(name)) reachedByAgents ||= reached.length === agentOnlyTypes.length;
      else leaks.push(...reached.map((type) => `${name} → ${type}`));
    }
    expect(leaks, 'only AGENT operations may return these types').toEqual([]);
    expect(reachedByAgents, 'claimRuns returns them').toBe(true);
  });
});
