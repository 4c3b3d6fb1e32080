import type { FormattedExecutionResult } from 'graphql';
import { CloseCode, createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '../logger.js';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';

/** The server answered one operation with a GraphQL error. */
export class AgentRequestError extends Error {
  readonly code: string | undefined;
  /** `extensions.reason`, e.g. STALE_LEASE or SPAWN_RETIRED. */
  readonly reason: string | undefined;

  constructor(error: { message: string; extensions?: Record<string, unknown> }) {
    super(error.message);
    this.name = 'AgentRequestError';
    this.code = typeof error.extensions?.code === 'string' ? error.extensions.code : undefined;
    this.reason = typeof error.extensions?.reason === 'string' ? error.extensions.reason : undefined;
  }

  get isStaleLease(): boolean {
    return this.reason === 'STALE_LEASE';
  }
}

/** The link is gone for good: the server refused the agent token, or the agent closed it. */
export class LinkClosedError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
    this.name = 'LinkClosedError';
  }
}

export interface AgentLinkOptions {
  /** ws(s)://…/graphql */
  url: string;
  agentToken: string;
  log: Logger;
  reconnect: BackoffPolicy;
  /** A ping this often; a pong missing for as long again means the socket is dead. */
  keepAliveMs: number;
  /** After every (re)connection: what was missed while the link was down must be caught up. */
  onConnected(): void;
  /** The server refused the token; the link will not come back by itself. */
  onRefused(error: LinkClosedError): void;
}

/** Close codes of a server refusing the credential (graphql-ws's Unauthorized and Forbidden). */
const REFUSED_CODES: readonly number[] = [CloseCode.Unauthorized, CloseCode.Forbidden];

/**
 * The agent's one connection to the server: graphql-ws over `ws`, the agent token
 * in connectionParams, reconnecting forever with jittered exponential backoff.
 * An operation in flight when the socket drops is sent again once it is back
 * (graphql-ws does that), so `request` resolves only with the server's answer:
 * every agent write is idempotent, which makes that safe.
 */
export class AgentLink {
  private readonly client: Client;
  private socket: WebSocket | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private closed: LinkClosedError | undefined;
  private connectedNow = false;

  constructor(private readonly options: AgentLinkOptions) {
    const { log } = options;
    this.client = createClient({
      url: options.url,
      webSocketImpl: WebSocket,
      connectionParams: { agentToken: options.agentToken },
      lazy: false,
      retryAttempts: Infinity,
      shouldRetry: (error) => !isRefusal(error),
      retryWait: (retries) => sleep(backoffDelay(retries, options.reconnect)),
      keepAlive: options.keepAliveMs,
      connectionAckWaitTimeout: Math.max(10_000, options.keepAliveMs * 2),
      onNonLazyError: (error) => this.refused(error),
      on: {
        opened: (socket) => (this.socket = socket as WebSocket),
        connected: () => {
          this.connectedNow = true;
          log.info('connected to the server');
          options.onConnected();
        },
        closed: (event) => {
          clearTimeout(this.pongTimer);
          if (this.connectedNow) {
            const { code, reason } = event as { code?: number; reason?: string };
            log.warn(
              { code, reason: reason || undefined },
              'lost the connection to the server; reconnecting',
            );
          }
          this.connectedNow = false;
        },
        error: (error) => log.debug({ err: error }, 'connection attempt failed'),
        ping: (received) => {
          // Our ping: a half-open TCP connection (a dead NAT entry, a pulled cable) never answers.
          if (!received) this.pongTimer = setTimeout(() => this.socket?.terminate(), options.keepAliveMs);
        },
        pong: (received) => {
          if (received) clearTimeout(this.pongTimer);
        },
      },
    });
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /**
   * One query or mutation; resolves with its data once the server answers, across
   * reconnections. Rejects with AgentRequestError for a GraphQL error and with
   * LinkClosedError when the link is gone for good.
   */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<T>((resolve, reject) => {
      let result: FormattedExecutionResult<T> | undefined;
      this.client.subscribe<T>(
        { query, variables },
        {
          next: (value) => (result = value as FormattedExecutionResult<T>),
          error: (error) => reject(this.requestFailure(error)),
          complete: () => {
            if (this.closed && !result) return reject(this.closed);
            const firstError = result?.errors?.[0];
            if (firstError) return reject(new AgentRequestError(firstError));
            if (!result?.data) return reject(new AgentRequestError({ message: 'The server sent no data.' }));
            resolve(result.data);
          },
        },
      );
    });
  }

  /** A subscription kept across reconnections; `onNext` gets each event's data. */
  subscribe<T>(query: string, onNext: (data: T) => void): () => void {
    return this.client.subscribe<T>(
      { query },
      {
        next: (value) => {
          if (value.data) onNext(value.data);
          else if (value.errors) this.options.log.warn({ errors: value.errors }, 'subscription error');
        },
        error: (error) => {
          if (!this.closed) this.options.log.warn({ err: this.requestFailure(error) }, 'subscription ended');
        },
        complete: () => undefined,
      },
    );
  }

  async close(): Promise<void> {
    this.closed ??= new LinkClosedError('The agent closed its connection.', false);
    this.connectedNow = false; // not a lost connection: no warning
    clearTimeout(this.pongTimer);
    await this.client.dispose();
  }

  private refused(error: unknown): void {
    if (this.closed) return;
    const { code, reason } = error as { code?: number; reason?: string };
    this.closed = new LinkClosedError(
      `The server refused the agent token (${code ?? 'error'}${reason ? `: ${reason}` : ''}).`,
      true,
    );
    void this.client.dispose();
    this.options.onRefused(this.closed);
  }

  private requestFailure(error: unknown): Error {
    if (this.closed) return this.closed;
    if (Array.isArray(error) && error[0]) return new AgentRequestError(error[0] as { message: string });
    if (isRefusal(error)) return new LinkClosedError('The server refused the agent token.', true);
    return error instanceof Error ? error : new Error(String((error as { reason?: string }).reason ?? error));
  }
}

function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && REFUSED_CODES.includes(code);
}
