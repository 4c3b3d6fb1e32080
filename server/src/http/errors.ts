import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { ErrorCode, UNEXPECTED_ERROR_MESSAGE } from '../graphql/errors.js';

interface HttpError extends Error {
  status?: number;
  statusCode?: number;
  /** Set by body-parser and serve-static when the message is safe to show. */
  expose?: boolean;
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).type('text/plain').send('Not found');
};

/**
 * The last word on errors outside GraphQL execution (a malformed JSON body, a
 * missing asset, a bug in a route): Express's default handler would print the
 * stack trace into the response. Answers in GraphQL's error shape on /graphql.
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: HttpError, req, res, _next) => {
    const status = error.status ?? error.statusCode ?? 500;
    const clientError = status >= 400 && status < 500;
    if (!clientError)
      log.error({ err: error, requestId: (req as { id?: unknown }).id }, 'unhandled HTTP error');
    const message = clientError ? describeClientError(error, status) : UNEXPECTED_ERROR_MESSAGE;
    if (res.headersSent) return;
    res.status(clientError ? status : 500);
    if (req.originalUrl.startsWith('/graphql')) {
      const code = clientError ? 'BAD_REQUEST' : ErrorCode.INTERNAL_SERVER_ERROR;
      res.json({ errors: [{ message, extensions: { code } }] });
    } else {
      res.type('text/plain').send(message);
    }
  };
}

function describeClientError(error: HttpError, status: number): string {
  if (error instanceof SyntaxError) return 'The request body is not valid JSON.';
  if (status === 413) return 'The request body is too large.';
  if (status === 404) return 'Not found';
  // Without `expose`, the message may name server paths: say only what kind of mistake it is.
  return error.expose ? error.message : 'Bad request';
}
