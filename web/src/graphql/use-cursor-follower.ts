import { CombinedError } from '@urql/vue';
import { computed, onBeforeUnmount, ref, watch } from 'vue';
import { errorMessage } from '../accounts/errors';
import { POLL_INTERVAL_MS } from './connection-state';
import { useConnection } from './connection';
import { CursorFollower, type CursorSource, type Transport } from './cursor-follower';

/** Before subscribing again to a stream the server ended early (it is shutting down, say). */
const RESUBSCRIBE_MS = 1000;

/**
 * Follows `source` for as long as the calling component lives, over the transport the connection
 * indicator allows: the subscription while live (started over from the cursor on every new
 * socket), polling while only HTTP works, nothing while offline.
 */
export function useCursorFollower<T, C>(
  source: CursorSource<T, C>,
  options: { deliver(items: readonly T[]): void; runFinished(): boolean; what: string },
) {
  const { state, sessions } = useConnection();
  const complete = ref(false);
  const error = ref('');
  const follower = new CursorFollower(source, {
    deliver: (items) => {
      error.value = '';
      options.deliver(items);
    },
    runFinished: options.runFinished,
    onComplete: () => (complete.value = true),
    onError: (failure) =>
      (error.value =
        failure instanceof CombinedError ? errorMessage(failure) : `Could not load the ${options.what}.`),
    pollMs: POLL_INTERVAL_MS,
    resubscribeMs: RESUBSCRIBE_MS,
  });
  const transport = computed<Transport>(() =>
    state.value === 'live' ? 'subscription' : state.value === 'polling' ? 'polling' : 'none',
  );
  watch([transport, sessions], ([current, epoch]) => follower.use(current, epoch), { immediate: true });
  onBeforeUnmount(() => follower.stop());
  return { complete, error, transport };
}
