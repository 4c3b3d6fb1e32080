// The caller's organizations and the one the dashboard works in. The choice is kept in
// localStorage per person (not a cookie: it never needs to reach the server).
import { computed, ref, watch } from 'vue';
import { useQuery } from '@urql/vue';
import { graphql } from '../gql';
import { chooseOrganization, organizationStorageKey } from './organization-choice';
import { useViewer } from './viewer';

const organizationsQuery = graphql(`
  query Organizations {
    organizations {
      id
      name
      personal
      viewerRole
      plan {
        code
      }
      projects {
        id
        code
        name
      }
    }
  }
`);

const { user } = useViewer();
const chosenId = ref<string | null>(null);

function readChoice(userId: string): string | null {
  try {
    return window.localStorage.getItem(organizationStorageKey(userId));
  } catch {
    // Storage can be disabled; the choice then lasts until the page reloads.
    return null;
  }
}

watch(
  () => user.value?.id,
  (userId) => {
    chosenId.value = userId ? readChoice(userId) : null;
  },
  { immediate: true },
);

function choose(organizationId: string): void {
  chosenId.value = organizationId;
  const userId = user.value?.id;
  if (!userId) return;
  try {
    window.localStorage.setItem(organizationStorageKey(userId), organizationId);
  } catch {
    // See readChoice.
  }
}

/** For components: the organizations (once loaded), the current one, and a way to switch. */
export function useOrganizations() {
  const result = useQuery({
    query: organizationsQuery,
    pause: computed(() => !user.value),
    context: { additionalTypenames: ['Organization'] },
  });
  const organizations = computed(() => (user.value ? (result.data.value?.organizations ?? []) : []));
  const current = computed(() => chooseOrganization(organizations.value, chosenId.value));
  return { organizations, current, choose, fetching: result.fetching, error: result.error };
}
