// A run's CPU and memory samples as chart series: one sample per timestamp, oldest first, however
// the stream and the polls overlap.

export interface MetricSample {
  timestamp: string;
  /** 100 means one full CPU. */
  cpuPercent: number;
  memoryBytes: number;
  /** 0 when the run has no memory limit. */
  memoryLimitBytes: number;
}

const MIB = 1024 * 1024;

export class MetricSeries {
  /** Seconds since the epoch (what uPlot's time axis takes). */
  readonly times: number[] = [];
  readonly cpuPercent: number[] = [];
  readonly memoryMiB: number[] = [];
  /** null where the run had no memory limit. */
  readonly limitMiB: (number | null)[] = [];

  get size(): number {
    return this.times.length;
  }

  /** Adds the samples at new timestamps (one comparison each when they come in order); returns how many. */
  add(samples: readonly MetricSample[]): number {
    let added = 0;
    for (const sample of samples) {
      const time = Date.parse(sample.timestamp) / 1000;
      let at = this.times.length;
      while (at > 0 && this.times[at - 1]! > time) at--;
      if (at > 0 && this.times[at - 1] === time) continue;
      this.times.splice(at, 0, time);
      this.cpuPercent.splice(at, 0, sample.cpuPercent);
      this.memoryMiB.splice(at, 0, sample.memoryBytes / MIB);
      this.limitMiB.splice(at, 0, sample.memoryLimitBytes > 0 ? sample.memoryLimitBytes / MIB : null);
      added++;
    }
    return added;
  }

  /** The newest sample's values, and the highest seen. */
  summary():
    | { cpuPercent: number; memoryMiB: number; limitMiB: number | null; peakCpu: number; peakMiB: number }
    | undefined {
    const last = this.times.length - 1;
    if (last < 0) return undefined;
    return {
      cpuPercent: this.cpuPercent[last]!,
      memoryMiB: this.memoryMiB[last]!,
      limitMiB: this.limitMiB[last]!,
      peakCpu: Math.max(...this.cpuPercent),
      peakMiB: Math.max(...this.memoryMiB),
    };
  }
}
