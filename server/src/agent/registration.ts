import type { Logger } from '../logger.js';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';
import { REGISTER_AGENT, type Registration } from './protocol.js';

/** The server said no (a bad or rotated registration token, a plan limit): starting again will not help. */
export class RegistrationRefusedError extends Error {
  override name = 'RegistrationRefusedError';
}

export interface RegistrationInput {
  registrationToken: string;
  hostname: string;
  cpuCount: number;
  memoryMiB: number;
  agentVersion: string;
}

type GraphQLError = { message: string; extensions?: { code?: string; retryAfterSeconds?: number } };

/**
 * How long to wait before asking again, or undefined when asking again will not
 * help: throttling says when to come back; an internal error may pass; a plan
 * limit (LIMIT_EXCEEDED without a time) or a bad token will not.
 */
function retryAfterMs(error: GraphQLError): number | undefined {
  const { code, retryAfterSeconds } = error.extensions ?? {};
  if (code === 'LIMIT_EXCEEDED' && typeof retryAfterSeconds === 'number') return retryAfterSeconds * 1000;
  if (code === 'INTERNAL_SERVER_ERROR') return 0;
  return undefined;
}

/**
 * Exchanges a registration token for an agent token (registerAgent over HTTP:
 * there is no credential for a socket yet). A server that cannot be reached is
 * waited for, with backoff, until `signal` aborts; a refusal is final.
 */
export async function register(
  graphqlUrl: string,
  input: RegistrationInput,
  options: { log: Logger; retry: BackoffPolicy; signal?: AbortSignal },
): Promise<Registration> {
  for (let attempt = 0; ; attempt += 1) {
    let problem: string;
    let waitAtLeastMs = 0;
    try {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: REGISTER_AGENT, variables: { input } }),
        signal: options.signal,
      });
      const body = (await response.json().catch(() => undefined)) as
        { data?: { registerAgent?: Registration }; errors?: GraphQLError[] } | undefined;
      const registration = body?.data?.registerAgent;
      if (registration) return registration;
      const error = body?.errors?.[0];
      if (error) {
        const wait = retryAfterMs(error);
        if (wait === undefined)
          throw new RegistrationRefusedError(`The server refused the registration: ${error.message}`);
        waitAtLeastMs = wait;
      }
      problem = error?.message ?? `HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof RegistrationRefusedError || options.signal?.aborted) throw error;
      problem = (error as Error).cause
        ? String((error as Error & { cause: Error }).cause.message)
        : String(error);
    }
    const delay = Math.max(waitAtLeastMs, backoffDelay(attempt, options.retry));
    options.log.warn({ problem, retryInMs: delay }, 'could not register with the server; retrying');
    await sleep(delay, options.signal);
  }
}
