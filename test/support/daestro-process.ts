import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';

export const DAESTRO_BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The compiled `daestro` binary as a user runs it, with its JSON log parsed. */
export interface DaestroProcess {
  child: ChildProcess;
  logs: LogLine[];
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects on exit or timeout. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnDaestro(args: string[], env: Record<string, string>): DaestroProcess {
  if (!existsSync(DAESTRO_BIN)) throw new Error(`${DAESTRO_BIN} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [DAESTRO_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      logs.push(JSON.parse(text) as LogLine);
    } catch {
      logs.push({ level: 0, msg: text });
    }
    for (const wake of waiters) wake();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no matching log line in ${timeoutMs} ms; got:\n${JSON.stringify(logs, null, 1)}\n${stderr}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        void exited.then(({ code }) => {
          if (!logs.some(match)) {
            cleanup();
            reject(
              new Error(`daestro exited (${code}) first; logs:\n${JSON.stringify(logs, null, 1)}\n${stderr}`),
            );
          }
        });
        waiters.add(check);
        check();
      });
    },
  };
}

/** Starts `daestro server` and waits until it listens; returns its base URL. */
export async function startDaestro(env: Record<string, string>): Promise<DaestroProcess & { url: string }> {
  const daestro = spawnDaestro([], { PORT: '0', ...env });
  const listening = await daestro.waitForLog((line) => line.msg === 'Daestro is listening');
  return Object.assign(daestro, { url: String(listening.url) });
}
