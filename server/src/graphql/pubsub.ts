import { createPubSub } from '@graphql-yoga/subscription';

/**
 * The one event bus (DESIGN.md §6): in-process now; a Redis event target plugs
 * in here for several replicas. Payloads stay plain serializable data so both
 * transports carry them unchanged. Topics are added by the domains that publish.
 */
export type DaestroPubSub = ReturnType<typeof createDaestroPubSub>;

export function createDaestroPubSub() {
  return createPubSub<Record<string, never>>();
}
