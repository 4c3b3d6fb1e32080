import { computed, onBeforeUnmount, ref, watch } from 'vue';
import { POLL_INTERVAL_MS } from '../graphql/connection-state';
import { useConnection } from '../graphql/connection';

/**
 * The server registers a subscription a moment after the client sends it; events in between are
 * not replayed, so a page refreshes this long after it (re)subscribes.
 */
const SUBSCRIBE_SETTLE_MS = 1000;

/**
 * For pages kept current by a subscription: whether updates are arriving, and a refresh after the
 * subscription starts (or starts over for something else) and after every reconnect, since changes
 * made while it was not listening are not replayed. `subscription()` names what the page listens
 * to, e.g. a job id; '' while it listens to nothing. While no WebSocket gets through but HTTP does,
 * the page refreshes every poll interval instead.
 */
export function useLiveRefresh(refresh: () => void, subscription: () => string) {
  const { state, label, sessions } = useConnection();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const refreshSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, SUBSCRIBE_SETTLE_MS);
  };
  watch(
    subscription,
    (key) => {
      if (key) refreshSoon();
    },
    { immediate: true },
  );
  watch(sessions, (count, previous) => {
    if (count > previous && subscription()) refreshSoon();
  });
  watch(
    state,
    (current) => {
      clearInterval(poll);
      poll = undefined;
      if (current === 'polling') {
        poll = setInterval(() => {
          if (subscription()) refresh();
        }, POLL_INTERVAL_MS);
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    clearTimeout(timer);
    clearInterval(poll);
  });
  return {
    live: computed(() => state.value === 'live'),
    polling: computed(() => state.value === 'polling'),
    label,
  };
}

/**
 * The moment elapsed times are measured to. It ticks every second only while the socket is live;
 * otherwise it stays at the last tick or the last `refreshed()` (call it when polled data arrives),
 * so no running timer counts up without news from the server.
 */
export function useLiveClock() {
  const { state } = useConnection();
  const now = ref(Date.now());
  let ticker: ReturnType<typeof setInterval> | undefined;
  watch(
    state,
    (current) => {
      clearInterval(ticker);
      ticker = undefined;
      if (current === 'live') {
        now.value = Date.now();
        ticker = setInterval(() => (now.value = Date.now()), 1000);
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(() => clearInterval(ticker));
  return {
    now,
    ticking: computed(() => state.value === 'live'),
    refreshed() {
      now.value = Date.now();
    },
  };
}
