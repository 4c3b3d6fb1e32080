import { Authorized, Extensions, type AuthChecker } from 'type-graphql';
import { isAllowed, type AuthRule } from '../accounts/viewer.js';
import { UserError } from './errors.js';
import type { GraphQLContext } from './context.js';

/** Field extension naming each root field's rule, so a test can prove none was forgotten. */
export const AUTH_EXTENSION = 'auth';

/** The caller must be signed in and satisfy every rule (see AuthRule). */
export function Auth(...rules: AuthRule[]): MethodDecorator {
  return (target, key, descriptor) => {
    Authorized(...rules)(target, key, descriptor);
    Extensions({ [AUTH_EXTENSION]: rules.length > 0 ? rules : ['SIGNED_IN'] })(target, key, descriptor);
  };
}

/** Anyone may call this, signed in or not (sign-up, sign-in, server info…). */
export function Public(): MethodDecorator {
  return Extensions({ [AUTH_EXTENSION]: 'PUBLIC' });
}

const RULE_MESSAGES: Record<AuthRule, string> = {
  SESSION: 'This needs a signed-in browser session; API tokens cannot do it.',
  VERIFIED: 'Verify your email address first: open the link we sent you, or ask for a new one.',
  READ: 'This API token lacks the READ scope.',
  WRITE: 'This API token lacks the WRITE scope.',
  ADMIN: 'This API token lacks the ADMIN scope.',
  AGENT: 'Only a Daestro agent calls this, with its agent token.',
};

/** People and API tokens never pass AGENT rules; agents pass nothing else. */
export const authChecker: AuthChecker<GraphQLContext, AuthRule> = ({ context }, rules) => {
  const forAgents = rules.includes('AGENT');
  if (context.agent) {
    if (forAgents) return true;
    throw UserError.forbidden('An agent token only works for the agent operations.');
  }
  if (!context.viewer) throw UserError.unauthenticated(forAgents ? RULE_MESSAGES.AGENT : undefined);
  const failed = isAllowed(context.viewer, rules);
  if (failed) throw UserError.forbidden(RULE_MESSAGES[failed]);
  return true;
};
