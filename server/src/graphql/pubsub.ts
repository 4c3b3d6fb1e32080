import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { Redis } from 'ioredis';
import type { AgentWakeupEvent } from '../agents/agent-wakeup.js';
import type { Logger } from '../logger.js';
import type { LiveLogEvent } from '../logs/log.service.js';
import type { LiveMetricEvent } from '../metrics/metric.service.js';
import type { JobEvent } from '../workloads/job-transitions.js';

/** Every event on the bus and its payload. Payloads are plain serializable data. */
export type DaestroEvents = {
  /** A session ended: sockets opened with it must close. */
  'session.revoked': [{ sessionId: string }];
  /** An API token was revoked: sockets opened with it must close. */
  'api_token.revoked': [{ apiTokenId: string }];
  /** A job changed state, keyed by project (`jobEvents` subscription). */
  'job.event': [projectId: string, event: JobEvent];
  /** Keyed by spawn: runs were placed on it (claim them now) or a run it holds is being cancelled (`agentWakeups`). */
  'agent.wakeup': [spawnId: string, AgentWakeupEvent];
  /** A spawn was retired: sockets opened with its agent token must close. */
  'agent.revoked': [{ spawnId: string }];
  /** Keyed by run: log lines just committed (`jobRunLogs` subscription). */
  'run.log': [runId: string, event: LiveLogEvent];
  /** Keyed by run: metric samples just committed (`jobRunMetrics` subscription). */
  'run.metrics': [runId: string, event: LiveMetricEvent];
};

/**
 * The one event bus (DESIGN.md §6): in-process by default; with REDIS_URL, a
 * Redis event target, so every server process sees every event. Both carry the
 * same JSON-safe payloads, so no resolver knows which one it runs on.
 */
export type DaestroPubSub = PubSub<DaestroEvents>;

export interface EventBus {
  pubSub: DaestroPubSub;
  /** Closes the Redis connections, if any. */
  close(): Promise<void>;
}

export function createDaestroPubSub(): DaestroPubSub {
  return createPubSub<DaestroEvents>();
}

/** The bus for this process: in-process without a Redis URL, else over Redis. */
export function createEventBus(options: { redisUrl?: string; log: Logger }): EventBus {
  if (!options.redisUrl) return { pubSub: createDaestroPubSub(), close: async () => undefined };
  const log = options.log.child({ component: 'event-bus' });
  // null: a command waits through a reconnect instead of failing after a few retries,
  // since the event target neither awaits nor catches what it sends.
  const connect = (role: string) => {
    const client = new Redis(options.redisUrl!, {
      maxRetriesPerRequest: null,
      connectionName: `daestro-${role}`,
    });
    // Without a listener an 'error' event would crash the process; ioredis reconnects by itself.
    client.on('error', (error: Error) => log.warn({ err: error, role }, 'Redis connection error'));
    return client;
  };
  const publishClient = connect('publish');
  const subscribeClient = connect('subscribe');
  return {
    pubSub: createPubSub<DaestroEvents>({
      eventTarget: createRedisEventTarget({ publishClient, subscribeClient }),
    }),
    async close() {
      // Not QUIT: with commands waiting through a reconnect, it could wait for good.
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
