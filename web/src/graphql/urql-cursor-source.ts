import type { AnyVariables, Client, TypedDocumentNode } from '@urql/vue';
import { onEnd, pipe, subscribe } from 'wonka';
import type { CursorBatch, CursorPage, CursorSource } from './cursor-follower';

/**
 * A cursor source made of a resumable subscription and the query that pages the same data, sent
 * through the dashboard's urql client (read at each call: signing in or out replaces it).
 */
export function urqlCursorSource<
  T,
  C,
  Tail,
  TailVariables extends AnyVariables,
  Page,
  PageVariables extends AnyVariables,
>(
  client: () => Client,
  spec: {
    subscription: TypedDocumentNode<Tail, TailVariables>;
    subscriptionVariables(after: C | null): TailVariables;
    batch(data: Tail): CursorBatch<T, C>;
    query: TypedDocumentNode<Page, PageVariables>;
    queryVariables(after: C | null): PageVariables;
    page(data: Page, after: C | null): CursorPage<T, C>;
  },
): CursorSource<T, C> {
  return {
    subscribe(after, sink) {
      const { unsubscribe } = pipe(
        client().subscription(spec.subscription, spec.subscriptionVariables(after)),
        onEnd(() => sink.ended()),
        subscribe((result) => {
          if (result.error) sink.error(result.error);
          else if (result.data) sink.batch(spec.batch(result.data));
        }),
      );
      return unsubscribe;
    },
    async page(after) {
      const result = await client()
        .query(spec.query, spec.queryVariables(after), { requestPolicy: 'network-only' })
        .toPromise();
      if (result.error || !result.data) throw result.error ?? new Error('The server sent no data.');
      return spec.page(result.data, after);
    },
  };
}
