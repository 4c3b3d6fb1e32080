import { createPubSub } from '@graphql-yoga/subscription';

/** Every event on the bus and its payload. Payloads are plain serializable data. */
export type DaestroEvents = {
  /** A session ended: sockets opened with it must close. */
  'session.revoked': [{ sessionId: string }];
  /** An API token was revoked: sockets opened with it must close. */
  'api_token.revoked': [{ apiTokenId: string }];
};

/**
 * The one event bus (DESIGN.md §6): in-process now; a Redis event target plugs
 * in here for several replicas, so both transports carry the same payloads.
 */
export type DaestroPubSub = ReturnType<typeof createDaestroPubSub>;

export function createDaestroPubSub() {
  return createPubSub<DaestroEvents>();
}
