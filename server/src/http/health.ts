import { Router } from 'express';
import type { Registry } from 'prom-client';

/** Liveness, readiness and metrics endpoints for load balancers and Prometheus. */
export function healthRoutes(deps: {
  isDatabaseReachable: () => Promise<boolean>;
  registry: Registry;
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const database = await deps.isDatabaseReachable();
    res.status(database ? 200 : 503).json({ status: database ? 'ready' : 'unavailable', database });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}
