import { graphql } from '../gql';

/** What the definition form needs of the version an edit starts from. */
export const definitionFormVersionFragment = graphql(`
  fragment DefinitionFormVersion on JobDefinition {
    id
    name
    version
    type
    image
    script
    command
    cpu
    memoryMiB
    timeoutSeconds
    privileged
    registryAuth {
      id
    }
    retryPolicy {
      attempts
    }
    parameters {
      key
      value
    }
    env {
      name
      sensitive
      value
    }
  }
`);
