import { describe, expect, it } from 'vitest';
import { AgentUsageError, parseAgentOptions } from '../../src/agent/agent.command.js';
import { graphqlEndpoints } from '../../src/agent/agent.js';
import { finishInput } from '../../src/agent/run-outcome.js';

describe('daestro agent options', () => {
  it('reads flags first, then the environment, with defaults for the rest', () => {
    const options = parseAgentOptions(['--url', 'https://daestro.example.com', '--drain-timeout', '30'], {
      DAESTRO_AGENT_URL: 'https://ignored.example.com',
      DAESTRO_AGENT_TOKEN: 'dreg_abc123',
      DAESTRO_DATA_DIR: '/var/lib/daestro',
      DOCKER_HOST: 'unix:///run/docker.sock',
      DAESTRO_AGENT_PULL_POLICY: 'if-not-present',
    });
    expect(options).toMatchObject({
      serverUrl: 'https://daestro.example.com',
      token: 'dreg_abc123',
      stateDir: '/var/lib/daestro/agent',
      dockerHost: 'unix:///run/docker.sock',
      drainTimeoutMs: 30_000,
      pollIntervalMs: 10_000,
      gracePeriodSeconds: 10,
      pullPolicy: 'IF_NOT_PRESENT',
      reconnect: { initialMs: 500, maxMs: 10_000 },
    });
  });

  it('defaults the state dir to ~/.daestro-agent', () => {
    const options = parseAgentOptions(['--url', 'http://localhost:4000'], { HOME: '/home/ops' });
    expect(options.stateDir).toMatch(/\.daestro-agent$/);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      parseAgentOptions(['--token', 'secret', '--poll-interval', '-1', '--bogus', 'x', 'extra'], {
        DAESTRO_AGENT_PULL_POLICY: 'sometimes',
        DOCKER_HOST: 'ssh://box',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AgentUsageError);
    const message = (error as Error).message;
    expect(message).toContain('unknown option --bogus');
    expect(message).toContain('unexpected argument: x extra');
    expect(message).toContain('--url / DAESTRO_AGENT_URL is required');
    expect(message).toContain('must be a registration token (dreg_…) or an agent token (dagt_…)');
    expect(message).toContain(
      '--poll-interval / DAESTRO_AGENT_POLL_SECONDS must be a positive number of seconds',
    );
    expect(message).toContain('must be always or if-not-present');
    expect(message).toContain(
      '--docker-host / DOCKER_HOST must be unix:///path/to/docker.sock or tcp://host:port',
    );
    // Never echoes a token back.
    expect(message).not.toContain('secret');
  });

  it('finds the GraphQL endpoint under the base URL, whatever form it is given in', () => {
    expect(graphqlEndpoints('http://host:4000')).toEqual({
      http: 'http://host:4000/graphql',
      ws: 'ws://host:4000/graphql',
    });
    expect(graphqlEndpoints('https://host/daestro/graphql/')).toEqual({
      http: 'https://host/daestro/graphql',
      ws: 'wss://host/daestro/graphql',
    });
    expect(graphqlEndpoints('wss://host')).toEqual({
      http: 'https://host/graphql',
      ws: 'wss://host/graphql',
    });
  });
});

describe('finishRun input from how a run ended', () => {
  const ended = (outcome: string, exitCode: number | null, extra: Record<string, unknown> = {}) =>
    finishInput({ kind: 'RESULT', result: { outcome, exitCode, systemNote: null, ...extra } as never });

  it('maps every executor outcome', () => {
    expect(ended('EXITED', 0)).toEqual({
      outcome: 'COMPLETED',
      exitCode: 0,
      failureClass: null,
      systemNote: null,
    });
    expect(ended('EXITED', 2)).toMatchObject({ outcome: 'FAILED', exitCode: 2, failureClass: 'APP_FAILURE' });
    expect(ended('EXITED', null, { signal: 'SIGSEGV' })).toMatchObject({
      outcome: 'FAILED',
      systemNote: 'Ended by SIGSEGV.',
    });
    expect(ended('TIMED_OUT', 137, { systemNote: 'Timed out' })).toMatchObject({
      outcome: 'TIMEOUT',
      failureClass: 'TIMEOUT',
    });
    expect(ended('CANCELLED', 143)).toMatchObject({ outcome: 'CANCELLED', failureClass: null });
    expect(ended('OOM_KILLED', 137, { systemNote: 'Out of memory' })).toMatchObject({
      outcome: 'FAILED',
      failureClass: 'APP_FAILURE',
      systemNote: 'Out of memory',
    });
    expect(ended('FAILED_TO_START', null, { systemNote: 'Could not pull' })).toEqual({
      outcome: 'ERROR',
      exitCode: null,
      failureClass: 'INFRA_FAILURE',
      systemNote: 'Could not pull',
    });
    expect(finishInput({ kind: 'HANDED_BACK', note: 'agent shut down' })).toMatchObject({
      outcome: 'ERROR',
      failureClass: 'INFRA_FAILURE',
      systemNote: 'agent shut down',
    });
    expect(finishInput({ kind: 'HOST_FAILURE', message: 'engine gone' })).toMatchObject({ outcome: 'ERROR' });
  });
});
