// Whether this server keeps its mail in the development outbox (no mail provider configured).
// Notices that say "check your email" link the outbox only then.
import { computed } from 'vue';
import { useQuery } from '@urql/vue';
import { graphql } from '../gql';

const mailDeliveryQuery = graphql(`
  query MailDelivery {
    serverInfo {
      devOutbox
    }
  }
`);

/** True once the server has said its mail goes to the development outbox; false until then. */
export function useDevOutbox() {
  const result = useQuery({ query: mailDeliveryQuery });
  return computed(() => result.data.value?.serverInfo.devOutbox ?? false);
}
