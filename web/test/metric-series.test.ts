import { describe, expect, it } from 'vitest';
import { MetricSeries, type MetricSample } from '../src/metrics/metric-series';

const MIB = 1024 * 1024;
const sample = (second: number, cpuPercent: number, memoryMiB = 10, limitMiB = 0): MetricSample => ({
  timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, second)).toISOString(),
  cpuPercent,
  memoryBytes: memoryMiB * MIB,
  memoryLimitBytes: limitMiB * MIB,
});

describe('a run’s metric series', () => {
  it('keeps one sample per timestamp in time order, however replays and polls overlap', () => {
    const series = new MetricSeries();
    expect(series.add([sample(1, 10), sample(2, 20), sample(4, 40)])).toBe(3);
    // A poll's inclusive `from` sends the last sample again; a late one lands in its place.
    expect(series.add([sample(4, 40), sample(3, 30), sample(5, 50)])).toBe(2);
    expect(series.times.map((time) => time - series.times[0]!)).toEqual([0, 1, 2, 3, 4]);
    expect(series.cpuPercent).toEqual([10, 20, 30, 40, 50]);
  });

  it('charts memory in MiB, the limit only where there is one, and sums up the newest and the peaks', () => {
    const series = new MetricSeries();
    expect(series.summary()).toBeUndefined();
    series.add([sample(1, 150, 300, 0), sample(2, 90, 512, 1024)]);
    expect(series.memoryMiB).toEqual([300, 512]);
    expect(series.limitMiB).toEqual([null, 1024]);
    expect(series.summary()).toEqual({
      cpuPercent: 90,
      memoryMiB: 512,
      limitMiB: 1024,
      peakCpu: 150,
      peakMiB: 512,
    });
  });
});
