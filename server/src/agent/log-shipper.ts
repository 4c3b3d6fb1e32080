import type { Logger } from '../logger.js';
import { sleep } from './backoff.js';
import { LogBuffer } from './log-buffer.js';
import { MAX_LOG_BATCH_BYTES, MAX_LOG_BATCH_LINES, type LogLine, type LogStream } from './protocol.js';

/**
 * Sends one batch and resolves with the server's storedThrough (the highest seq
 * such that every line up to it is stored), or with undefined when the run is
 * no longer ours (stale lease): shipping stops. It retries transient failures
 * itself; it rejects with BatchRefusedError when the server refuses the batch.
 */
export type SendLogBatch = (lines: LogLine[]) => Promise<number | undefined>;

export class BatchRefusedError extends Error {
  override name = 'BatchRefusedError';
}

export interface LogShipperOptions {
  send: SendLogBatch;
  log: Logger;
  memoryLimitBytes: number;
  spillFile: string;
  /** A batch goes at once when this many lines wait… */
  batchLines?: number;
  /** …else when the previous batch went this long ago. */
  batchIntervalMs?: number;
}

/** Headroom under the server's 4 MiB for JSON quoting and the other fields of each line. */
const BATCH_BYTES = MAX_LOG_BATCH_BYTES - 512 * 1024;
const STALLED_RETRY_MS = 1_000;

/**
 * Numbers a run's log lines (seq from 1, across its streams) and ships them in
 * order, one batch at a time: every ~100 ms, or at once when 500 lines wait.
 * Lines are held (see LogBuffer) until the server's storedThrough covers them,
 * and every batch starts right after storedThrough, so whatever a dropped
 * connection swallowed is sent again and nothing is stored twice (appends are
 * idempotent on seq).
 */
export class LogShipper {
  private readonly buffer: LogBuffer;
  private readonly batchLines: number;
  private readonly batchIntervalMs: number;
  private seq = 0;
  private storedThrough = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private ending = false;
  private discarded = false;

  constructor(private readonly options: LogShipperOptions) {
    this.buffer = new LogBuffer({ memoryLimitBytes: options.memoryLimitBytes, spillFile: options.spillFile });
    this.batchLines = options.batchLines ?? 500;
    this.batchIntervalMs = options.batchIntervalMs ?? 100;
  }

  /** Lines numbered so far. */
  get lineCount(): number {
    return this.seq;
  }

  get acknowledgedThrough(): number {
    return this.storedThrough;
  }

  get spilled(): boolean {
    return this.buffer.hasSpilled;
  }

  add(stream: LogStream, text: string, timestamp = new Date()): void {
    if (this.discarded) return;
    this.seq += 1;
    this.buffer.append({ seq: this.seq, stream, timestamp: timestamp.toISOString(), text });
    this.schedule();
  }

  /** Ships every line added so far; resolves once the server has them all (or the run was discarded). */
  async drain(): Promise<void> {
    this.ending = true;
    this.schedule();
    while (this.pumping) await this.pumping;
  }

  /** The run is not ours any more: stop, and drop what is held. */
  async discard(): Promise<void> {
    this.discarded = true;
    clearTimeout(this.timer);
    await this.buffer.dispose();
  }

  private schedule(): void {
    if (this.pumping || this.discarded || this.buffer.size === 0) return;
    const wait =
      this.ending || this.buffer.size >= this.batchLines
        ? 0
        : this.batchIntervalMs - (Date.now() - this.lastSentAt);
    if (wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pumping = this.pump().finally(() => {
        this.pumping = undefined;
        this.schedule();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.discarded && this.buffer.size > 0) {
        const batch = await this.buffer.peek(MAX_LOG_BATCH_LINES, BATCH_BYTES);
        if (batch.length === 0 || this.discarded) return;
        this.lastSentAt = Date.now();
        const storedThrough = await this.sendOrReplace(batch);
        if (storedThrough === undefined) return await this.discard();
        this.storedThrough = Math.max(this.storedThrough, storedThrough);
        this.buffer.acknowledge(this.storedThrough);
        if (this.storedThrough < batch.at(-1)!.seq) {
          // Answered, yet not stored through this batch: the server misses an earlier line. Resend from there, calmly.
          this.options.log.warn(
            { storedThrough, sentThrough: batch.at(-1)!.seq },
            'log lines not stored; resending',
          );
          await sleep(STALLED_RETRY_MS);
        }
        // Not much waiting: let it gather for the rest of the interval (the next schedule() decides).
        if (!this.ending && this.buffer.size < this.batchLines) return;
      }
    } catch (error) {
      this.options.log.error({ err: error }, 'could not ship log lines; retrying');
      await sleep(STALLED_RETRY_MS);
    }
  }

  /**
   * A refused batch would stall the log for good (storedThrough could never pass
   * it), so its lines are replaced by a note saying so, and that is sent instead.
   */
  private async sendOrReplace(batch: LogLine[]): Promise<number | undefined> {
    try {
      return await this.options.send(batch);
    } catch (error) {
      if (!(error instanceof BatchRefusedError)) throw error;
      this.options.log.error(
        { err: error, from: batch[0]!.seq, to: batch.at(-1)!.seq },
        'the server refused log lines',
      );
      for (const line of batch) {
        line.stream = 'SYSTEM';
        line.text = `[Daestro: the server refused this log line: ${error.message}]`;
      }
      return this.options.send(batch);
    }
  }
}
