import fs from 'node:fs/promises';
import type { LogLine } from './protocol.js';

/** A rough in-memory cost of one line: its UTF-16 text and the object around it. */
function costOf(line: LogLine): number {
  return line.text.length * 2 + 96;
}

/**
 * A run's log lines not yet acknowledged by the server, oldest first. Up to
 * `memoryLimitBytes` stay in memory; past that (a link down for long, a run
 * printing faster than the server stores) new lines go to a spill file and are
 * read back in order as the head drains. The text is already masked, so the
 * file never holds a secret; it is deleted once read back, and by `dispose`.
 */
export class LogBuffer {
  private memory: LogLine[] = [];
  /** memory[head] is the oldest line still held; earlier slots are acknowledged. */
  private head = 0;
  private memoryBytes = 0;
  private spill: SpillFile | undefined;
  private spilledEver = false;

  constructor(
    private readonly options: {
      memoryLimitBytes: number;
      /** Created only when needed. */
      spillFile: string;
    },
  ) {}

  /** Lines held, in memory and spilled. */
  get size(): number {
    return this.memory.length - this.head + (this.spill?.unread ?? 0);
  }

  /** Whether lines ever went to the spill file (tests, logs). */
  get hasSpilled(): boolean {
    return this.spilledEver;
  }

  append(line: LogLine): void {
    const cost = costOf(line);
    if (!this.spill && this.memoryBytes + cost <= this.options.memoryLimitBytes) {
      this.memory.push(line);
      this.memoryBytes += cost;
      return;
    }
    // Once lines spill, every later line follows them to the file, so the order holds.
    this.spill ??= new SpillFile(this.options.spillFile);
    this.spilledEver = true;
    this.spill.write(line);
  }

  /** The oldest held lines, at most `maxLines` and about `maxBytes` of text; spilled lines are read back first. */
  async peek(maxLines: number, maxBytes: number): Promise<LogLine[]> {
    while (
      this.spill &&
      this.memory.length - this.head < maxLines &&
      this.memoryBytes < this.options.memoryLimitBytes / 2
    ) {
      const spill = this.spill;
      for (const line of await spill.read(Math.max(64 * 1024, this.options.memoryLimitBytes / 2))) {
        this.memory.push(line);
        this.memoryBytes += costOf(line);
      }
      if (spill.unread === 0) {
        this.spill = undefined;
        await spill.remove();
      }
    }
    const batch: LogLine[] = [];
    let bytes = 0;
    for (let index = this.head; index < this.memory.length && batch.length < maxLines; index += 1) {
      const line = this.memory[index]!;
      const lineBytes = Buffer.byteLength(line.text) + 128;
      if (batch.length > 0 && bytes + lineBytes > maxBytes) break;
      batch.push(line);
      bytes += lineBytes;
    }
    return batch;
  }

  /** Drops every held line up to and including `seq`. */
  acknowledge(seq: number): void {
    while (this.head < this.memory.length && this.memory[this.head]!.seq <= seq) {
      this.memoryBytes -= costOf(this.memory[this.head]!);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.memory.length) {
      this.memory = this.memory.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops everything and deletes the spill file. */
  async dispose(): Promise<void> {
    this.memory = [];
    this.head = 0;
    this.memoryBytes = 0;
    const spill = this.spill;
    this.spill = undefined;
    await spill?.remove();
  }
}

/** An append-only file of JSON lines, read back from the front while it is still being written. */
class SpillFile {
  private handle: Promise<fs.FileHandle> | undefined;
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private writeOffset = 0;
  private readOffset = 0;
  /** A failed write (disk full): the lines after it are lost, and reading says so. */
  private failure: Error | undefined;
  /** Lines written or waiting to be, not yet read back. */
  unread = 0;

  constructor(private readonly path: string) {}

  write(line: LogLine): void {
    this.pending.push(`${JSON.stringify(line)}\n`);
    this.unread += 1;
    if (this.pending.length === 1) this.scheduleFlush();
  }

  /** Up to about `maxBytes` of the oldest unread lines. */
  async read(maxBytes: number): Promise<LogLine[]> {
    if (this.pending.length > 0) this.scheduleFlush();
    await this.writing;
    if (this.failure) throw this.failure;
    const length = Math.min(maxBytes, this.writeOffset - this.readOffset);
    if (length <= 0) return [];
    const buffer = Buffer.alloc(length);
    const handle = await this.open();
    const { bytesRead } = await handle.read(buffer, 0, length, this.readOffset);
    let end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
    if (end === 0) {
      // One line longer than maxBytes: read exactly it.
      const whole = await this.readLine(handle);
      end = whole.length;
      return this.consume(whole, end);
    }
    return this.consume(buffer, end);
  }

  async remove(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.pending = [];
    this.unread = 0;
    await this.writing;
    if (!handle) return;
    await handle.then((opened) => opened.close()).catch(() => undefined);
    await fs.rm(this.path, { force: true });
  }

  private consume(buffer: Buffer, end: number): LogLine[] {
    const lines = buffer
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as LogLine);
    this.readOffset += end;
    this.unread -= lines.length;
    return lines;
  }

  private async readLine(handle: fs.FileHandle): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for (let offset = this.readOffset; ;) {
      const chunk = Buffer.alloc(256 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
      const newline = chunk.subarray(0, bytesRead).indexOf(0x0a);
      if (newline >= 0 || bytesRead === 0) {
        chunks.push(chunk.subarray(0, newline >= 0 ? newline + 1 : bytesRead));
        return Buffer.concat(chunks);
      }
      chunks.push(chunk.subarray(0, bytesRead));
      offset += bytesRead;
    }
  }

  private scheduleFlush(): void {
    this.writing = this.writing
      .then(() => this.flush())
      .catch((error: Error) => {
        this.failure ??= error;
      });
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    const handle = await this.open();
    await handle.write(data, 0, data.length, this.writeOffset);
    this.writeOffset += data.length;
  }

  private open(): Promise<fs.FileHandle> {
    this.handle ??= fs.open(this.path, 'w+', 0o600);
    return this.handle;
  }
}
