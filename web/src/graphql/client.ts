import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/vue';
import { createClient as createWsClient } from 'graphql-ws';
import { recordConnectionEvent } from './connection';
import { graphqlWsUrl } from './endpoints';

const KEEP_ALIVE_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;
const MAX_RETRY_WAIT_MS = 10_000;

/** Exponential backoff with "equal jitter", so tabs do not reconnect in lockstep after a restart. */
async function waitBeforeRetry(retries: number): Promise<void> {
  const ceiling = Math.min(MAX_RETRY_WAIT_MS, 1000 * 2 ** retries);
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  await new Promise((resolve) => setTimeout(resolve, delay));
}

// A socket to a server that vanished without a FIN (sleep, network change) can stay "open"
// for minutes; a missing pong closes it so the client reconnects and the indicator stops
// claiming live. Recipe from the graphql-ws docs ("ping/pong timeout").
let activeSocket: WebSocket | undefined;
let pongTimeout: ReturnType<typeof setTimeout> | undefined;

export const wsClient = createWsClient({
  url: graphqlWsUrl(window.location),
  // Connect at once and stay connected: the socket doubles as the indicator's heartbeat.
  lazy: false,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  retryWait: waitBeforeRetry,
  keepAlive: KEEP_ALIVE_MS,
  onNonLazyError: () => recordConnectionEvent({ type: 'gave-up' }),
  on: {
    connected: (socket) => {
      activeSocket = socket as WebSocket;
      recordConnectionEvent({ type: 'connected' });
    },
    ping: (received) => {
      if (received) return;
      pongTimeout = setTimeout(() => {
        if (activeSocket?.readyState !== WebSocket.OPEN) return;
        recordConnectionEvent({ type: 'pong-timeout' });
        activeSocket.close(4408, 'Pong timeout');
      }, PONG_TIMEOUT_MS);
    },
    pong: (received) => {
      if (received) clearTimeout(pongTimeout);
    },
    closed: () => {
      clearTimeout(pongTimeout);
      activeSocket = undefined;
      recordConnectionEvent({ type: 'closed' });
    },
    error: () => recordConnectionEvent({ type: 'error' }),
  },
});

export const urqlClient = new Client({
  url: '/graphql',
  // urql sends queries as GET by default; Apollo's CSRF prevention rejects those with 400.
  preferGetMethod: false,
  exchanges: [
    cacheExchange,
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
