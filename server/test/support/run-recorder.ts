import type { OutputStream, ResourceSample, RunSink } from '../../src/agent/executors/executor.js';

/** A RunSink that keeps everything an executor reports, with times, for assertions. */
export function recordRun() {
  const chunks: Array<{ stream: OutputStream; text: string }> = [];
  const stats: ResourceSample[] = [];
  const waiters = new Set<() => void>();
  let startedAt: number | undefined;
  const text = (stream: OutputStream) =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.text)
      .join('');

  const sink: RunSink = {
    started: () => (startedAt ??= performance.now()),
    output: (stream, piece) => {
      chunks.push({ stream, text: piece });
      for (const wake of waiters) wake();
    },
    stats: (sample) => stats.push(sample),
  };

  return {
    sink,
    chunks,
    stats,
    startedAt: () => startedAt,
    stdout: () => text('STDOUT'),
    stderr: () => text('STDERR'),
    /** Resolves once stdout contains `marker`. */
    waitForStdout(marker: string, timeoutMs = 20_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!text('STDOUT').includes(marker)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${marker}" on stdout in ${timeoutMs} ms; got: ${text('STDOUT')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
