import {
  Arg,
  Ctx,
  Int,
  Mutation,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { Auth, Public } from '../graphql/auth.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { AgentWakeupEvent } from './agent-wakeup.js';
import {
  AgentHeartbeatInput,
  AgentHeartbeatPayload,
  AgentWakeup,
  AgentWakeupReason,
  ClaimedRun,
  FinishRunInput,
  FinishRunPayload,
  RegisterAgentInput,
  RegisterAgentPayload,
  RetireComputeSpawnInput,
  RetireComputeSpawnPayload,
  RunLeaseInput,
} from './agent.types.js';

/** The agent-facing API (contract: DESIGN.md §4) and retiring a machine. */
@Resolver()
export class AgentResolver {
  // Public: a new machine has nothing but the registration token (256 random bits, throttled per IP).
  @Public()
  @Mutation(() => RegisterAgentPayload, {
    description:
      'Agents: exchanges a compute environment’s registration token for a new machine (spawn) and its own ' +
      'agent token, returned this once.',
  })
  async registerAgent(
    @Arg('input') input: RegisterAgentInput,
    @Ctx() { services, client }: GraphQLContext,
  ): Promise<RegisterAgentPayload> {
    const { agentToken, spawn, environment } = await services.agents.register(input, client);
    return {
      agentToken,
      spawnId: spawn.id,
      computeEnvironmentName: environment.name,
      slots: spawn.slots,
      leaseSeconds: services.agents.leaseSeconds,
    };
  }

  @Auth('AGENT')
  @Mutation(() => [ClaimedRun], {
    description: 'Agents only: up to `max` runs placed on this machine, each now held with a lease token.',
  })
  claimRuns(
    @Arg('max', () => Int) max: number,
    @Ctx() { agent, services }: GraphQLContext,
  ): Promise<ClaimedRun[]> {
    return services.agents.claimRuns(agent!, max);
  }

  @Auth('AGENT')
  @Mutation(() => Boolean, {
    description: 'Agents only: the run’s process or container started (STARTING → RUNNING). Always true.',
  })
  async markRunStarted(
    @Arg('input') input: RunLeaseInput,
    @Ctx() { services }: GraphQLContext,
  ): Promise<boolean> {
    await services.agents.markRunStarted(input);
    return true;
  }

  @Auth('AGENT')
  @Mutation(() => FinishRunPayload, {
    description: 'Agents only: the run ended; its job moves on by its retry policy. Flush its logs first.',
  })
  async finishRun(
    @Arg('input') input: FinishRunInput,
    @Ctx() { services }: GraphQLContext,
  ): Promise<FinishRunPayload> {
    return { jobState: await services.agents.finishRun(input, input) };
  }

  @Auth('AGENT')
  @Mutation(() => AgentHeartbeatPayload, { description: 'Agents only: renews this machine’s lease.' })
  agentHeartbeat(
    @Arg('input') input: AgentHeartbeatInput,
    @Ctx() { agent, services }: GraphQLContext,
  ): Promise<AgentHeartbeatPayload> {
    return services.agents.heartbeat(agent!, input);
  }

  @Auth('AGENT')
  @Mutation(() => Boolean, {
    description:
      'Agents only: a clean shutdown; the machine goes OFFLINE until its next heartbeat. Always true.',
  })
  async agentGoingOffline(@Ctx() { agent, services }: GraphQLContext): Promise<boolean> {
    await services.agents.goOffline(agent!);
    return true;
  }

  @Auth('AGENT')
  @Subscription(() => AgentWakeup, {
    description:
      'Agents only: rings when runs are placed on this machine or a run it holds is being cancelled.',
    subscribe: ({ context }: SubscribeResolverData<unknown, unknown, GraphQLContext>) =>
      context.services.agents.wakeups(context.agent!),
  })
  agentWakeups(@Root() event: AgentWakeupEvent): AgentWakeup {
    return { reason: AgentWakeupReason[event.reason], runId: event.runId ?? null };
  }

  @Auth('WRITE')
  @Mutation(() => RetireComputeSpawnPayload, {
    description:
      'Owners and admins: retires a machine for good; its agent token stops working at once. Refused while it ' +
      'runs jobs.',
  })
  async retireComputeSpawn(
    @Arg('input') input: RetireComputeSpawnInput,
    @Ctx() { viewer, services, client }: GraphQLContext,
  ): Promise<RetireComputeSpawnPayload> {
    return { computeSpawn: await services.agents.retireSpawn(viewer!, input.spawnId, client) };
  }
}
