import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request } from 'express';

/**
 * Serves the built dashboard: hashed assets with long caching, GraphiQL for a
 * browser's GET /graphql, and index.html for every other page (history routing).
 */
export function webRoutes(webDistDir: string): Router {
  const router = Router();
  const indexHtml = path.join(webDistDir, 'index.html');
  const graphiqlHtml = path.join(webDistDir, 'graphiql.html');

  const sendPage = (file: string) => (_req: Request, res: express.Response) => {
    if (!existsSync(file)) {
      res
        .status(503)
        .type('text/plain')
        .send('The dashboard is not built yet: run `pnpm build`, then reload.');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(file);
  };

  // GET /graphql is also an API endpoint: only a browser asking for a page gets GraphiQL.
  router.get('/graphql', (req, res, next) => (wantsHtml(req) ? sendPage(graphiqlHtml)(req, res) : next()));
  // No fallthrough: a missing asset is a 404, not index.html served as JavaScript.
  router.use(
    '/assets',
    express.static(path.join(webDistDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }),
  );
  router.use(express.static(webDistDir, { index: false }));
  router.get(/^\/(?!graphql|healthz|readyz|metrics).*/, sendPage(indexHtml));
  return router;
}

function wantsHtml(req: Request): boolean {
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}
