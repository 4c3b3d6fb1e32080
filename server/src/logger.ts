import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * Structured JSON logs on stdout. Secrets never reach a log line: the request
 * log records no headers, cookies or query strings (see http/request-log.ts),
 * and the redact list is a second line of defence for fields that may hold one.
 */
export function createLogger(
  level: LogLevel,
  // Synchronous writes: a line logged just before exit or a crash is never lost or reordered.
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'daestro' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'databaseUrl',
          '*.databaseUrl',
          'resendApiKey',
          '*.resendApiKey',
          'smtpUrl',
          '*.smtpUrl',
          // OAuth (accounts/oauth*.ts): the app's secret, and a sign-in's short-lived secrets.
          'clientSecret',
          '*.clientSecret',
          '*.*.clientSecret',
          'accessToken',
          '*.accessToken',
          'codeVerifier',
          '*.codeVerifier',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
