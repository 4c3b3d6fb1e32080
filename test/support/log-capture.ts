import { createLogger, type Logger } from '../../server/src/logger.js';

export interface LogLineRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger (redaction included) whose JSON lines are kept for assertions. */
export function captureLogs(level: 'debug' | 'info' = 'debug'): { log: Logger; lines: LogLineRecord[] } {
  const lines: LogLineRecord[] = [];
  const log = createLogger(level, {
    write(line: string) {
      lines.push(JSON.parse(line) as LogLineRecord);
    },
  });
  return { log, lines };
}
