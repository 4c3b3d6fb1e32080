import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql ships CJS (main) and ESM (module). Node loads the CJS build for our
// dependencies (type-graphql, Apollo, graphql-ws); Vite would hand our own code
// the ESM build, and graphql refuses to mix the two ("another module or realm").
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');

// One run covers every package. Test files run in parallel, each on its own
// database (test/support/database.ts), so no file depends on another or on order.
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] },
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['server/test/**/*.test.ts', 'server/src/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: ['test/bench/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      'web/vitest.config.ts',
      // Benchmarks are not part of the pass/fail run: `pnpm bench` runs them alone.
      ...(process.env.DAESTRO_BENCH
        ? [
            {
              extends: true as const,
              test: {
                name: 'bench',
                include: ['test/bench/**/*.bench.ts'],
                globalSetup: ['test/support/global-setup.ts'],
                testTimeout: 300_000,
              },
            },
          ]
        : []),
      // `pnpm screenshots` rewrites the pictures in web/docs/; not part of the pass/fail run either.
      ...(process.env.DAESTRO_SCREENSHOTS
        ? [
            {
              extends: true as const,
              test: {
                name: 'screenshots',
                include: ['test/screenshots/**/*.shots.ts'],
                globalSetup: ['test/support/global-setup.ts'],
                testTimeout: 300_000,
              },
            },
          ]
        : []),
    ],
  },
});
