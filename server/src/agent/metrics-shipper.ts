import type { Logger } from '../logger.js';
import { sleep } from './backoff.js';
import type { ResourceSample } from './executors/executor.js';
import type { MetricSample } from './protocol.js';

/** Sends samples; resolves true once stored, false when the run is no longer ours. Retries transient failures itself. */
export type SendMetrics = (samples: MetricSample[]) => Promise<boolean>;

/** A sample every few seconds: a day of them offline is far below this. */
const MAX_HELD_SAMPLES = 20_000;
const MAX_BATCH = 500;
const RETRY_MS = 1_000;

/**
 * Ships a run's CPU and memory samples (appendRunMetrics, idempotent on the
 * sample's timestamp) as they come, one request at a time. Held while the link
 * is down; past MAX_HELD_SAMPLES the oldest go first.
 */
export class MetricsShipper {
  private held: MetricSample[] = [];
  private sending: Promise<void> | undefined;
  private discarded = false;

  constructor(
    private readonly send: SendMetrics,
    private readonly log: Logger,
  ) {}

  add(sample: ResourceSample, at = new Date()): void {
    if (this.discarded) return;
    this.held.push({ timestamp: at.toISOString(), ...sample });
    if (this.held.length > MAX_HELD_SAMPLES) this.held.splice(0, this.held.length - MAX_HELD_SAMPLES);
    this.sending ??= this.pump().finally(() => (this.sending = undefined));
  }

  async drain(): Promise<void> {
    while (this.sending) await this.sending;
  }

  discard(): void {
    this.discarded = true;
    this.held = [];
  }

  private async pump(): Promise<void> {
    while (!this.discarded && this.held.length > 0) {
      const batch = this.held.slice(0, MAX_BATCH);
      try {
        if (!(await this.send(batch))) return this.discard();
        // Not by count: samples trimmed meanwhile would shift the front.
        this.held.splice(0, this.held.indexOf(batch.at(-1)!) + 1);
      } catch (error) {
        this.log.error({ err: error }, 'could not ship metrics; retrying');
        await sleep(RETRY_MS);
      }
    }
  }
}
