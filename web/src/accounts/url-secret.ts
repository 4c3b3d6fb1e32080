// Secrets that arrive in a link (`?token=`, `?ticket=`): read once, then taken out of the address
// bar, so they do not linger in the visible URL, bookmarks or synced history. The history entry
// keeps them in its state, so reloading the page still works.
import { onMounted } from 'vue';
import { useRoute, useRouter } from 'vue-router';

const STATE_PREFIX = 'daestro.secret.';

/** The `name` query parameter of this page, or what an earlier visit of this history entry took from it. */
export function useUrlSecret(name: string): string {
  const route = useRoute();
  const router = useRouter();
  const stateKey = `${STATE_PREFIX}${name}`;
  const fromQuery = route.query[name];
  const kept = (window.history.state as Record<string, unknown> | null)?.[stateKey];
  const secret = typeof fromQuery === 'string' ? fromQuery : typeof kept === 'string' ? kept : '';

  onMounted(() => {
    if (fromQuery === undefined) return;
    const { [name]: _taken, ...rest } = route.query;
    void router.replace({ query: rest, state: { [stateKey]: secret } });
  });
  return secret;
}
