import { computed, shallowRef } from 'vue';
import {
  POLL_INTERVAL_MS,
  connectionLabel,
  connectionState,
  initialConnection,
  needsHttpProbe,
  nextConnection,
  type ConnectionEvent,
} from './connection-state';

// One connection per page, so one module-level store rather than a provide/inject pair.
const model = shallowRef(initialConnection(navigator.onLine));

/** Answered by the server itself, without a session or the database: is the server reachable over HTTP? */
const HTTP_PROBE_PATH = '/healthz';
let probeTimer: ReturnType<typeof setInterval> | undefined;

async function probeHttp(): Promise<void> {
  let reachable = false;
  try {
    reachable = (await fetch(HTTP_PROBE_PATH, { cache: 'no-store' })).ok;
  } catch {
    // A network error: not reachable.
  }
  recordConnectionEvent({ type: reachable ? 'http-reachable' : 'http-unreachable' });
}

// While the socket keeps failing, a health check every poll interval tells "WebSockets are blocked,
// poll instead" from "the server is down"; it stops as soon as a socket is acknowledged.
function scheduleHttpProbe(): void {
  const probing = needsHttpProbe(model.value);
  if (probing && probeTimer === undefined) {
    probeTimer = setInterval(() => void probeHttp(), POLL_INTERVAL_MS);
    void probeHttp();
  } else if (!probing && probeTimer !== undefined) {
    clearInterval(probeTimer);
    probeTimer = undefined;
  }
}

export function recordConnectionEvent(event: ConnectionEvent): void {
  model.value = nextConnection(model.value, event);
  scheduleHttpProbe();
}

window.addEventListener('online', () => recordConnectionEvent({ type: 'browser-online' }));
window.addEventListener('offline', () => recordConnectionEvent({ type: 'browser-offline' }));

const state = computed(() => connectionState(model.value));
const label = computed(() => connectionLabel(model.value));
const sessions = computed(() => model.value.sessions);

export function useConnection() {
  return { state, label, sessions };
}
