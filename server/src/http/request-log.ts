import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';

// Probes and scrapes arrive every few seconds; they stay out of the info log.
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

// Express rewrites req.url inside mounted routers; originalUrl is what the client asked for.
const pathOf = (req: IncomingMessage & { originalUrl?: string }) =>
  (req.originalUrl ?? req.url ?? '/').split('?')[0] ?? '/';

/**
 * One line per request: method, path, status, duration, client IP and user agent.
 * No headers, cookies or query strings are logged: they can carry credentials.
 */
export function requestLog(log: Logger) {
  return pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id?: string }) => ({
        id: req.id,
        method: req.method,
        path: pathOf(req),
        ip: req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
    },
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (QUIET_PATHS.has(pathOf(req))) return 'debug';
      return 'info';
    },
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customAttributeKeys: { responseTime: 'durationMs' },
  });
}
