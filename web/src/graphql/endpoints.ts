// Both pages talk to the server that served them, so the URLs follow window.location.
const GRAPHQL_PATH = '/graphql';

export function graphqlHttpUrl(location: Location): string {
  return `${location.origin}${GRAPHQL_PATH}`;
}

export function graphqlWsUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${GRAPHQL_PATH}`;
}
