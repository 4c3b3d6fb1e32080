// The connection indicator's state machine, kept free of Vue and the DOM so it can be tested alone.

/** polling: no WebSocket gets through (a proxy that blocks them, say) but plain HTTP does. */
export type ConnectionState = 'live' | 'polling' | 'reconnecting' | 'offline';

/** How often pages refetch while polling stands in for the socket. */
export const POLL_INTERVAL_MS = 5_000;

export type ConnectionEvent =
  /** The server acknowledged connection_init on a new socket. */
  | { type: 'connected' }
  /** The socket closed, whether it was acknowledged or not. */
  | { type: 'closed' }
  /** The socket reported an error; graphql-ws closes and retries after it. */
  | { type: 'error' }
  /** No pong within the keep-alive deadline; the socket is being closed. */
  | { type: 'pong-timeout' }
  | { type: 'browser-offline' }
  | { type: 'browser-online' }
  /** graphql-ws stopped retrying (a close code it treats as fatal). */
  | { type: 'gave-up' }
  /** A plain HTTP request to the server (a health check) was answered, or failed. */
  | { type: 'http-reachable' }
  | { type: 'http-unreachable' }
  /**
   * The page dropped its socket on purpose and opened a new one, e.g. to connect as the person who
   * just signed in or out. Events of the old socket no longer count.
   */
  | { type: 'restarted' };

export interface ConnectionModel {
  /** The current socket is open and acknowledged, and nothing has gone wrong on it since. */
  socketLive: boolean;
  /** The current socket was acknowledged at some point, so its close is a drop, not a failed attempt. */
  socketAcknowledged: boolean;
  /** Attempts in a row that closed before being acknowledged. */
  failedAttempts: number;
  /** Acknowledged sockets so far; a rise past 1 means the client reconnected. */
  sessions: number;
  /** navigator.onLine, updated by the browser's online/offline events. */
  browserOnline: boolean;
  /** graphql-ws keeps trying to connect. */
  retrying: boolean;
  /** The last HTTP health check, made while the socket cannot connect, was answered. */
  httpReachable: boolean;
}

/** Failed attempts in a row after which the server counts as unreachable rather than restarting. */
export const OFFLINE_AFTER_FAILED_ATTEMPTS = 3;

export function initialConnection(browserOnline: boolean): ConnectionModel {
  return {
    socketLive: false,
    socketAcknowledged: false,
    failedAttempts: 0,
    sessions: 0,
    browserOnline,
    retrying: true,
    httpReachable: false,
  };
}

export function nextConnection(model: ConnectionModel, event: ConnectionEvent): ConnectionModel {
  switch (event.type) {
    case 'connected':
      return {
        ...model,
        socketLive: true,
        socketAcknowledged: true,
        failedAttempts: 0,
        sessions: model.sessions + 1,
        retrying: true,
        // Judged afresh if this socket fails too: HTTP may have gone with it.
        httpReachable: false,
      };
    case 'closed':
      return {
        ...model,
        socketLive: false,
        socketAcknowledged: false,
        failedAttempts: model.socketAcknowledged ? 0 : model.failedAttempts + 1,
      };
    case 'error':
    case 'pong-timeout':
      return { ...model, socketLive: false };
    case 'browser-offline':
      return { ...model, browserOnline: false };
    case 'browser-online':
      return { ...model, browserOnline: true };
    case 'gave-up':
      return { ...model, socketLive: false, retrying: false };
    case 'restarted':
      return { ...model, socketLive: false, socketAcknowledged: false, failedAttempts: 0, retrying: true };
    case 'http-reachable':
      return { ...model, httpReachable: true };
    case 'http-unreachable':
      return { ...model, httpReachable: false };
  }
}

export function connectionState(model: ConnectionModel): ConnectionState {
  // An acknowledged socket is proof of a connection; navigator.onLine is only a hint and is
  // false on a machine without network even when the server runs on localhost.
  if (model.socketLive) return 'live';
  if (!model.retrying || !model.browserOnline) return 'offline';
  if (model.failedAttempts >= OFFLINE_AFTER_FAILED_ATTEMPTS)
    return model.httpReachable ? 'polling' : 'offline';
  return 'reconnecting';
}

/** The socket keeps failing: whether plain HTTP still works decides between polling and offline. */
export function needsHttpProbe(model: ConnectionModel): boolean {
  return (
    !model.socketLive &&
    model.retrying &&
    model.browserOnline &&
    model.failedAttempts >= OFFLINE_AFTER_FAILED_ATTEMPTS
  );
}

export function connectionLabel(model: ConnectionModel): string {
  switch (connectionState(model)) {
    case 'live':
      return 'Live';
    case 'polling':
      return `Polling every ${POLL_INTERVAL_MS / 1000} s`;
    case 'reconnecting':
      return model.sessions === 0 ? 'Connecting…' : 'Reconnecting…';
    case 'offline':
      return model.retrying ? 'Offline — retrying' : 'Disconnected — reload to retry';
  }
}
