import { describe, expect, it } from 'vitest';
import {
  OFFLINE_AFTER_FAILED_ATTEMPTS,
  POLL_INTERVAL_MS,
  connectionLabel,
  connectionState,
  initialConnection,
  needsHttpProbe,
  nextConnection,
  type ConnectionEvent,
  type ConnectionModel,
} from '../src/graphql/connection-state';

function replay(events: ConnectionEvent['type'][], start = initialConnection(true)): ConnectionModel {
  return events.reduce((model, type) => nextConnection(model, { type } as ConnectionEvent), start);
}

/** What a browser WebSocket reports for one attempt that never reaches the server. */
const failedAttempt: ConnectionEvent['type'][] = ['error', 'closed'];

describe('connection state', () => {
  it('starts as connecting, not live', () => {
    const model = initialConnection(true);
    expect(connectionState(model)).toBe('reconnecting');
    expect(connectionLabel(model)).toBe('Connecting…');
  });

  it('is live only after the server acknowledged the socket', () => {
    expect(connectionState(replay(['connected']))).toBe('live');
    expect(connectionLabel(replay(['connected']))).toBe('Live');
  });

  it.each(['closed', 'error', 'pong-timeout'] as const)('leaves live on %s', (event) => {
    const model = replay(['connected', event]);
    expect(connectionState(model)).toBe('reconnecting');
    expect(connectionLabel(model)).toBe('Reconnecting…');
  });

  it('does not count the drop of an acknowledged socket as a failed attempt', () => {
    const model = replay(['connected', 'error', 'closed']);
    expect(model.failedAttempts).toBe(0);
  });

  it(`goes offline after ${OFFLINE_AFTER_FAILED_ATTEMPTS} failed attempts in a row, and keeps retrying`, () => {
    let model = replay(['connected', 'closed']);
    for (let attempt = 1; attempt < OFFLINE_AFTER_FAILED_ATTEMPTS; attempt++) {
      model = replay(failedAttempt, model);
      expect(connectionState(model)).toBe('reconnecting');
    }
    model = replay(failedAttempt, model);
    expect(connectionState(model)).toBe('offline');
    expect(connectionLabel(model)).toBe('Offline — retrying');
  });

  it('goes offline when the first attempts fail too', () => {
    const model = replay(
      Array<ConnectionEvent['type'][]>(OFFLINE_AFTER_FAILED_ATTEMPTS).fill(failedAttempt).flat(),
    );
    expect(connectionState(model)).toBe('offline');
  });

  it('returns to live on the next acknowledged socket and resets the failure count', () => {
    const offline = replay(Array<ConnectionEvent['type'][]>(5).fill(failedAttempt).flat());
    const model = nextConnection(offline, { type: 'connected' });
    expect(connectionState(model)).toBe('live');
    expect(model.failedAttempts).toBe(0);
    expect(connectionState(replay(['closed'], model))).toBe('reconnecting');
  });

  it('is offline while the browser reports no network and the socket is down', () => {
    expect(connectionState(initialConnection(false))).toBe('offline');
    const model = replay(['connected', 'browser-offline', 'closed']);
    expect(connectionState(model)).toBe('offline');
    expect(connectionState(replay(['browser-online'], model))).toBe('reconnecting');
  });

  it('trusts an acknowledged socket over navigator.onLine (localhost works without a network)', () => {
    expect(connectionState(replay(['browser-offline', 'connected']))).toBe('live');
  });

  it('counts sessions so a reconnect can be told from the first connection', () => {
    expect(replay(['connected']).sessions).toBe(1);
    expect(replay(['connected', 'closed', ...failedAttempt, 'connected']).sessions).toBe(2);
  });

  it('says so when graphql-ws gives up', () => {
    const model = replay(['connected', 'closed', 'gave-up']);
    expect(connectionState(model)).toBe('offline');
    expect(connectionLabel(model)).toBe('Disconnected — reload to retry');
  });

  it('restarts on purpose without counting a failure, and retries again after giving up', () => {
    const restarted = replay(['connected', 'restarted']);
    expect(connectionState(restarted)).toBe('reconnecting');
    expect(connectionLabel(restarted)).toBe('Reconnecting…');
    expect(restarted.failedAttempts).toBe(0);

    const afterGivingUp = replay(['connected', 'closed', 'gave-up', 'restarted']);
    expect(connectionState(afterGivingUp)).toBe('reconnecting');
    expect(connectionState(replay(['connected'], afterGivingUp))).toBe('live');
    expect(replay(['connected'], afterGivingUp).sessions).toBe(2);
  });

  it('polls when the socket keeps failing but HTTP is answered (a proxy that blocks WebSockets)', () => {
    const failing = replay(
      Array<ConnectionEvent['type'][]>(OFFLINE_AFTER_FAILED_ATTEMPTS).fill(failedAttempt).flat(),
    );
    expect(needsHttpProbe(failing)).toBe(true);
    expect(connectionState(failing)).toBe('offline');
    const polling = replay(['http-reachable'], failing);
    expect(connectionState(polling)).toBe('polling');
    expect(connectionLabel(polling)).toBe(`Polling every ${POLL_INTERVAL_MS / 1000} s`);
    // Still failing sockets keep it polling; a failed health check means the server is gone.
    expect(connectionState(replay(failedAttempt, polling))).toBe('polling');
    expect(connectionState(replay(['http-unreachable'], polling))).toBe('offline');
    // A socket that gets through makes it live, and the probe stops.
    const live = replay(['connected'], polling);
    expect(connectionState(live)).toBe('live');
    expect(needsHttpProbe(live)).toBe(false);
  });

  it('does not probe HTTP while a reconnect is still expected to work, nor poll on an old answer', () => {
    expect(needsHttpProbe(replay(['connected', 'closed', ...failedAttempt]))).toBe(false);
    expect(connectionState(replay(['http-reachable', 'connected', 'closed']))).toBe('reconnecting');
    const failingAgain = replay([
      'http-reachable',
      'connected',
      'closed',
      ...Array<ConnectionEvent['type'][]>(OFFLINE_AFTER_FAILED_ATTEMPTS).fill(failedAttempt).flat(),
    ]);
    expect(connectionState(failingAgain)).toBe('offline');
    expect(needsHttpProbe(replay(['gave-up'], failingAgain))).toBe(false);
  });
});
