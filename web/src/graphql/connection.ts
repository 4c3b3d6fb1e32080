import { computed, shallowRef } from 'vue';
import {
  connectionLabel,
  connectionState,
  initialConnection,
  nextConnection,
  type ConnectionEvent,
} from './connection-state';

// One connection per page, so one module-level store rather than a provide/inject pair.
const model = shallowRef(initialConnection(navigator.onLine));

export function recordConnectionEvent(event: ConnectionEvent): void {
  model.value = nextConnection(model.value, event);
}

window.addEventListener('online', () => recordConnectionEvent({ type: 'browser-online' }));
window.addEventListener('offline', () => recordConnectionEvent({ type: 'browser-offline' }));

const state = computed(() => connectionState(model.value));
const label = computed(() => connectionLabel(model.value));
const sessions = computed(() => model.value.sessions);

export function useConnection() {
  return { state, label, sessions };
}
