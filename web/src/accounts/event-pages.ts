// A list of events that loads newest first, a page at a time ("Load older"): the audit log and
// the account's security history.
import { ref, watch, type Ref } from 'vue';

export interface EventPages<Event> {
  events: Ref<Event[]>;
  loading: Ref<boolean>;
  loadError: Ref<string>;
  hasMore: Ref<boolean>;
  loadOlder(): Promise<void>;
  /** Starts again from the newest events. */
  reload(): Promise<void>;
}

/**
 * `source()` names what to list (an organization id…) or returns undefined for nothing; a new
 * source starts over. `fetchPage` loads up to `pageSize` events older than `before` (all if unset).
 */
export function useEventPages<Event extends { createdAt: string }>(options: {
  source: () => string | undefined;
  pageSize: number;
  fetchPage: (
    source: string,
    before: string | undefined,
  ) => Promise<{ events: Event[]; error?: undefined } | { events?: undefined; error: string }>;
}): EventPages<Event> {
  // Pages are appended as they load, so this keeps the list itself.
  const events = ref<Event[]>([]) as Ref<Event[]>;
  const loading = ref(false);
  const loadError = ref('');
  const hasMore = ref(false);

  async function loadPage(reset: boolean): Promise<void> {
    const source = options.source();
    if (!source) return;
    loading.value = true;
    loadError.value = '';
    const before = reset ? undefined : events.value.at(-1)?.createdAt;
    const page = await options.fetchPage(source, before);
    loading.value = false;
    if (source !== options.source()) return; // the source changed meanwhile
    if (page.error !== undefined) {
      loadError.value = page.error;
      return;
    }
    events.value = reset ? page.events : [...events.value, ...page.events];
    hasMore.value = page.events.length === options.pageSize;
  }

  watch(
    options.source,
    () => {
      events.value = [];
      hasMore.value = false;
      void loadPage(true);
    },
    { immediate: true },
  );

  return {
    events,
    loading,
    loadError,
    hasMore,
    loadOlder: () => loadPage(false),
    reload: () => loadPage(true),
  };
}
