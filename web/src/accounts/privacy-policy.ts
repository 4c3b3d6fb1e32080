// The privacy policy version a new account accepts (sign-up with a password or with a provider).
import { computed } from 'vue';
import { useQuery } from '@urql/vue';
import { graphql } from '../gql';

const privacyPolicyQuery = graphql(`
  query CurrentPrivacyPolicy {
    privacyPolicy {
      version
    }
  }
`);

export function usePrivacyPolicy() {
  const result = useQuery({ query: privacyPolicyQuery });
  return {
    version: computed(() => result.data.value?.privacyPolicy.version),
    error: result.error,
    /** The server refused the version sent: the policy changed while the form was open. */
    reload: () => result.executeQuery({ requestPolicy: 'network-only' }),
  };
}
