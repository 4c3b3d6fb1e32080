import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server: process defaults plus HTTP and WebSocket traffic. */
export interface ServerMetrics {
  registry: Registry;
  /** Counts every HTTP response by method, route and status, and times it. */
  httpMiddleware: RequestHandler;
  webSocketOpened(): void;
  webSocketClosed(): void;
}

// Fixed labels keep cardinality bounded: a scanner hitting random paths adds no series.
const KNOWN_ROUTES = ['/graphql', '/healthz', '/readyz', '/metrics'];

function routeLabel(path: string): string {
  if (KNOWN_ROUTES.includes(path)) return path;
  if (path.startsWith('/assets/')) return '/assets';
  return 'other';
}

export function createMetrics(): ServerMetrics {
  // A registry per server, so tests can run several servers in one process.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'daestro_http_requests_total',
    help: 'HTTP responses sent, by method, route and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'daestro_http_request_duration_seconds',
    help: 'Time from request to response, by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const openSockets = new Gauge({
    name: 'daestro_websocket_connections',
    help: 'WebSocket connections open now.',
    registers: [registry],
  });
  const openedSockets = new Counter({
    name: 'daestro_websocket_connections_total',
    help: 'WebSocket connections accepted since start.',
    registers: [registry],
  });

  return {
    registry,
    httpMiddleware: (req, res, next) => {
      const stopTimer = duration.startTimer();
      res.once('finish', () => {
        const route = routeLabel(req.originalUrl.split('?')[0] ?? '/');
        stopTimer({ method: req.method, route });
        requests.inc({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
    webSocketOpened: () => {
      openSockets.inc();
      openedSockets.inc();
    },
    webSocketClosed: () => openSockets.dec(),
  };
}
