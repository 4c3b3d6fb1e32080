import { InvalidCredentialsError } from '../accounts/authenticate.js';

import { AGENT_TOKEN_PREFIX } from './token-prefixes.js';

/** A `daestro agent` calling with its own token: the one spawn (machine) it registered as. */
export interface AgentPrincipal {
  spawnId: string;
  computeEnvironmentId: string;
  projectId: string;
}

export function isAgentToken(token: string | undefined): token is string {
  return token?.startsWith(AGENT_TOKEN_PREFIX) ?? false;
}

/** The agent an agent token belongs to; InvalidCredentialsError (UNAUTHENTICATED, or socket close 4401) otherwise. */
export async function authenticateAgent(
  agentToken: string,
  services: { agents: { authenticate(token: string): Promise<AgentPrincipal | undefined> } },
): Promise<AgentPrincipal> {
  const agent = await services.agents.authenticate(agentToken);
  if (!agent) {
    throw new InvalidCredentialsError(
      'The agent token is invalid, or its machine was retired: register the agent again with a registration token.',
    );
  }
  return agent;
}
