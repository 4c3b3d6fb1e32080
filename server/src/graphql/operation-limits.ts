import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  GraphQLError,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * Limits every operation must pass before it runs, over HTTP and WebSocket alike:
 * nesting depth, aliases (one request must not multiply work or attempts) and an
 * overall cost estimate. Generous for the dashboard and scripts, tight for abuse.
 */
export const OPERATION_LIMITS = { maxDepth: 12, maxAliases: 15, maxCost: 5000 } as const;

// graphql-armor throws by default, which Apollo answers with a 500; reported as
// validation errors instead, a refused operation is the caller's 400 with a reason.
const reportAsValidationError = {
  exposeLimits: true,
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

export const operationLimitRules: ValidationRule[] = [
  maxDepthRule({ n: OPERATION_LIMITS.maxDepth, ...reportAsValidationError }),
  maxAliasesRule({ n: OPERATION_LIMITS.maxAliases, ...reportAsValidationError }),
  costLimitRule({ maxCost: OPERATION_LIMITS.maxCost, ...reportAsValidationError }),
];

/** graphql-js validation with the limits added, for graphql-ws (Apollo takes validationRules). */
export function validateWithLimits(schema: GraphQLSchema, document: DocumentNode) {
  return validate(schema, document, [...specifiedRules, ...operationLimitRules]);
}
