import { UserError } from '../graphql/errors.js';

/** Names of definitions, queues, compute environments and credentials (DESIGN.md §2), unique per project. */
export const RESOURCE_NAME = /^[A-Za-z0-9-]{1,64}$/;

/** The name, trimmed, or BAD_USER_INPUT naming `field` when it breaks the rule. */
export function parseResourceName(raw: string, field = 'name'): string {
  const name = raw.trim();
  if (!RESOURCE_NAME.test(name)) {
    throw UserError.badUserInput(
      name === ''
        ? 'Enter a name.'
        : 'A name is 1 to 64 letters, digits and hyphens (no spaces), e.g. aws-production.',
      { field },
    );
  }
  return name;
}
