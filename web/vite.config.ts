import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const apiServer = 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [vue()],
  // Absolute asset URLs: the server answers deep SPA routes (/jobs/42) with index.html.
  base: '/',
  build: {
    // The GraphiQL page bundles Monaco (about 3 MB); the dashboard stays small.
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { main: 'index.html', graphiql: 'graphiql.html' },
      onwarn(warning, warn) {
        // graphiql's dependencies ship "use client" directives that a client-only bundle ignores.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  optimizeDeps: {
    // The dev pre-bundler cannot follow the `?worker` imports in GraphiQL's worker setup and
    // aborts the dev server; served untouched, Vite's worker plugin handles them.
    exclude: ['graphiql/setup-workers/vite', '@graphiql/react/setup-workers/vite'],
  },
  server: {
    proxy: {
      '/graphql': {
        target: apiServer,
        ws: true,
        // Like the server: a browser opening /graphql gets the GraphiQL page, here Vite's own copy.
        bypass: (req) =>
          req.method === 'GET' && req.headers.accept?.includes('text/html') ? '/graphiql.html' : undefined,
      },
      '/healthz': apiServer,
      '/readyz': apiServer,
      '/metrics': apiServer,
    },
  },
});
