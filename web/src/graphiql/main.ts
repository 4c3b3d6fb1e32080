// The GraphQL playground page. Everything, Monaco's workers included, is bundled by Vite and
// served by Daestro itself: no CDN, so it works on machines without internet access.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { graphqlHttpUrl, graphqlWsUrl } from '../graphql/endpoints';

const defaultQuery = `# Daestro GraphQL playground. Run with ▶ or Ctrl+Enter; Docs lists the schema.
#
# Live data comes from subscriptions, for example:
#   subscription { serverTicks(intervalMs: 1000) { sequence at } }

query {
  serverInfo {
    version
    uptimeSeconds
    database {
      mode
      serverVersion
    }
  }
}
`;

const fetcher = createGraphiQLFetcher({
  url: graphqlHttpUrl(window.location),
  subscriptionUrl: graphqlWsUrl(window.location),
});

const container = document.getElementById('graphiql');
if (!container) throw new Error('graphiql.html has no #graphiql element');
createRoot(container).render(createElement(GraphiQL, { fetcher, defaultQuery }));
