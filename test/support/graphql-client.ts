import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

/** A result as it arrives over the wire: errors are plain formatted objects. */
type ExecutionResult<T> = FormattedExecutionResult<T, unknown>;
import WebSocket from 'ws';

/** POSTs one GraphQL operation the way a well-behaved client does (JSON body). */
export async function postGraphQL<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; body: ExecutionResult<T> }> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as ExecutionResult<T> };
}

export function wsClient(wsUrl: string, options: { retryAttempts?: number } = {}): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: options.retryAttempts ?? 0 });
}

/** Collects the first `count` results of a subscription, then unsubscribes. */
export async function takeResults<T>(
  client: Client,
  query: string,
  count: number,
  variables?: Record<string, unknown>,
): Promise<ExecutionResult<T>[]> {
  const results: ExecutionResult<T>[] = [];
  const iterator = client.iterate<T>({ query, variables });
  try {
    for await (const result of iterator) {
      results.push(result);
      if (results.length >= count) break;
    }
  } finally {
    await iterator.return?.();
  }
  return results;
}
