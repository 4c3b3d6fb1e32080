import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { Agent } from './agent.js';
import { AgentUsageError, dockerFor, parseAgentOptions } from './agent.command.js';
import { sleep } from './backoff.js';

export interface EmbeddedAgentOptions {
  /** The server's own address (as it listens). */
  serverUrl: string;
  /** The agent's state dir is `<dataDir>/agent`. */
  dataDir: string;
  em: EntityManager;
  services: () => Services;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** How often to look for the first account while there is none. */
  accountPollMs?: number;
}

/** A laptop's Ctrl-C should not wait a minute: running runs get this long, then go back to the queue. */
const EMBEDDED_DRAIN_MS = 10_000;
const ACCOUNT_POLL_MS = 2_000;

/**
 * `pnpm start`'s agent: runs in the server process on compute environment
 * `local` of the first account's personal organization (created with a `default`
 * queue by AgentService.ensureLocalComputeEnvironment), so a new user can run a
 * job with nothing else installed. Before anyone has signed up it waits for the
 * first account. It talks to the server over its own socket, like any agent.
 */
export function startEmbeddedAgent(options: EmbeddedAgentOptions): { stop(): Promise<void> } {
  const log = options.log.child({ embeddedAgent: true });
  const stopped = new AbortController();
  let agent: Agent | undefined;

  const run = async () => {
    const organizationId = await firstPersonalOrganization(options, stopped.signal);
    if (!organizationId) return;
    const { registrationToken } = await options
      .services()
      .agents.ensureLocalComputeEnvironment(organizationId);
    if (stopped.signal.aborted) return;
    const env = options.env ?? process.env;
    const parsed = parseAgentOptions([], {
      ...env,
      DAESTRO_AGENT_URL: options.serverUrl,
      DAESTRO_AGENT_TOKEN: registrationToken,
      DAESTRO_AGENT_STATE_DIR: path.join(options.dataDir, 'agent'),
    });
    agent = new Agent(
      {
        ...parsed,
        docker: dockerFor(parsed.dockerHost)?.docker,
        drainTimeoutMs: env.DAESTRO_AGENT_DRAIN_SECONDS ? parsed.drainTimeoutMs : EMBEDDED_DRAIN_MS,
        preferSavedToken: true,
      },
      log,
    );
    await agent.start();
    const exit = await agent.finished;
    if (exit.code !== 0) log.error({ why: exit.message }, 'the embedded agent stopped');
  };
  const running = run().catch((error: unknown) => {
    if (error instanceof AgentUsageError) log.error(error.message);
    else log.error({ err: error }, 'the embedded agent failed to start');
  });

  return {
    async stop() {
      stopped.abort();
      await agent?.stop();
      await running;
    },
  };
}

/** The personal organization of the first person who signed up; waits for one while there is none. */
async function firstPersonalOrganization(
  options: EmbeddedAgentOptions,
  signal: AbortSignal,
): Promise<string | undefined> {
  let waiting = false;
  while (!signal.aborted) {
    const [first] = await options.em.fork().execute<{ organization_id: string }[]>(
      `select m.organization_id from membership m
       join organization o on o.id = m.organization_id and o.personal
       join user_account u on u.id = m.user_id
       order by u.created_at, u.id limit 1`,
    );
    if (first) return first.organization_id;
    if (!waiting) options.log.info('the embedded agent starts once the first account signs up');
    waiting = true;
    await sleep(options.accountPollMs ?? ACCOUNT_POLL_MS, signal);
  }
  return undefined;
}
