import type { UsageReading } from './cgroup.js';
import type { RunSink } from './executor.js';

/**
 * Reads a run's usage every `intervalMs` and reports it to the sink, with CPU as a
 * percentage of one CPU over the interval. A failed read (the run just ended) is skipped.
 */
export function sampleUsage(read: () => Promise<UsageReading>, intervalMs: number, sink: RunSink) {
  let previous: { reading: UsageReading; at: bigint } | undefined;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const at = process.hrtime.bigint();
      const reading = await read();
      if (previous) {
        const elapsedNanos = Number(at - previous.at);
        const cpuPercent = Math.max(0, ((reading.cpuNanos - previous.reading.cpuNanos) / elapsedNanos) * 100);
        sink.stats({
          cpuPercent,
          memoryBytes: reading.memoryBytes,
          memoryLimitBytes: reading.memoryLimitBytes,
        });
      }
      previous = { reading, at };
    } catch {
      // the processes are gone; the run is ending
    } finally {
      busy = false;
    }
  };
  void sample(); // the baseline the first interval's CPU is measured against
  const timer = setInterval(() => void sample(), intervalMs);
  return { stop: () => clearInterval(timer) };
}
