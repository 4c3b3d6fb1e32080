import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from '@urql/vue';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { shallowRef } from 'vue';
import { hasErrorCode } from '../accounts/errors';
import { recordConnectionEvent } from './connection';
import { graphqlWsUrl } from './endpoints';

const KEEP_ALIVE_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;
const MAX_RETRY_WAIT_MS = 10_000;

/** The server closes a socket with this code when its session (or API token) is revoked. */
export const CLOSE_CREDENTIALS_REVOKED = 4401;

/** Exponential backoff with "equal jitter", so tabs do not reconnect in lockstep after a restart. */
async function waitBeforeRetry(retries: number): Promise<void> {
  const ceiling = Math.min(MAX_RETRY_WAIT_MS, 1000 * 2 ** retries);
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  await new Promise((resolve) => setTimeout(resolve, delay));
}

/** socket-revoked: the server closed the socket as revoked; request-refused: an UNAUTHENTICATED answer. */
export type CredentialsRejection = 'socket-revoked' | 'request-refused';

let credentialsRejectedListener: (how: CredentialsRejection) => void = () => {};

/**
 * Called when the server says the page's credentials no longer work. The accounts module decides
 * what that means (a wrong password also answers UNAUTHENTICATED).
 */
export function onCredentialsRejected(listener: (how: CredentialsRejection) => void): void {
  credentialsRejectedListener = listener;
}

// Each socket client gets a generation; only the newest one reports to the connection indicator,
// so the old client's close after a restart cannot make a fresh live socket look dropped.
let generation = 0;

function createRealtimeClient(): WsClient {
  const mine = ++generation;
  const current = () => mine === generation;

  // A socket to a server that vanished without a FIN (sleep, network change) can stay "open"
  // for minutes; a missing pong closes it so the client reconnects and the indicator stops
  // claiming live. Recipe from the graphql-ws docs ("ping/pong timeout").
  let activeSocket: WebSocket | undefined;
  let pongTimeout: ReturnType<typeof setTimeout> | undefined;

  return createWsClient({
    url: graphqlWsUrl(window.location),
    // Connect at once and stay connected: the socket doubles as the indicator's heartbeat.
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: waitBeforeRetry,
    keepAlive: KEEP_ALIVE_MS,
    onNonLazyError: () => {
      if (current()) recordConnectionEvent({ type: 'gave-up' });
    },
    on: {
      connected: (socket) => {
        activeSocket = socket as WebSocket;
        if (current()) recordConnectionEvent({ type: 'connected' });
      },
      ping: (received) => {
        if (received) return;
        pongTimeout = setTimeout(() => {
          if (activeSocket?.readyState !== WebSocket.OPEN) return;
          if (current()) recordConnectionEvent({ type: 'pong-timeout' });
          activeSocket.close(4408, 'Pong timeout');
        }, PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimeout);
      },
      closed: (event) => {
        clearTimeout(pongTimeout);
        activeSocket = undefined;
        if (!current()) return;
        recordConnectionEvent({ type: 'closed' });
        // graphql-ws treats 4401 as fatal and stops retrying; the accounts module restarts it.
        if ((event as { code?: unknown } | undefined)?.code === CLOSE_CREDENTIALS_REVOKED) {
          credentialsRejectedListener('socket-revoked');
        }
      },
      error: () => {
        if (current()) recordConnectionEvent({ type: 'error' });
      },
    },
  });
}

let wsClient = createRealtimeClient();

function createUrqlClient(): Client {
  return new Client({
    url: '/graphql',
    // urql sends queries as GET by default; Apollo's CSRF prevention rejects those with 400.
    preferGetMethod: false,
    exchanges: [
      cacheExchange,
      mapExchange({
        onResult(result) {
          if (hasErrorCode(result.error, 'UNAUTHENTICATED')) credentialsRejectedListener('request-refused');
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
}

/**
 * The page's urql client, provided to components as a ref: replacing it re-runs every mounted
 * query and subscription on the new client.
 */
export const urqlClient = shallowRef(createUrqlClient());

/**
 * Starts over as whoever the session cookie now says: an empty cache, and a new WebSocket, since
 * the server authenticated the old one with the cookie it had when it connected.
 */
export function restartClients(): void {
  const previous = wsClient;
  wsClient = createRealtimeClient();
  recordConnectionEvent({ type: 'restarted' });
  // dispose() waits for a pending connection attempt and may reject with its close event.
  void Promise.resolve()
    .then(() => previous.dispose())
    .catch(() => undefined);
  urqlClient.value = createUrqlClient();
}
