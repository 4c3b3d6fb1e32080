import { LogMasker } from '../secrets/log-masker.js';
import type { OutputStream } from './executors/executor.js';
import { MAX_LOG_LINE_BYTES } from './protocol.js';

/** Room kept at the end of a cut line for the marker. */
const MARKER_RESERVE_BYTES = 64;
/** How long a line without its newline waits for the rest before it is shipped as it is. */
export const DEFAULT_PARTIAL_LINE_WAIT_MS = 1_000;

/**
 * Cuts one stream's text into lines. A line longer than `maxBytes` (UTF-8) keeps
 * its start and ends with ` …[truncated N bytes]`; what is cut is counted, never
 * held, so a gigabyte without a newline costs no memory. CRLF ends a line like LF.
 */
export class LineAssembler {
  private parts: string[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly maxBytes = MAX_LOG_LINE_BYTES,
  ) {}

  /** A line has begun and not ended. */
  get partial(): boolean {
    return this.parts.length > 0 || this.droppedBytes > 0;
  }

  /** Returns how many lines it completed. */
  push(text: string): number {
    let completed = 0;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline));
      this.endLine();
      completed += 1;
      start = newline + 1;
    }
    this.append(text.slice(start));
    return completed;
  }

  /** Ships a partial line as it is. */
  flush(): void {
    if (this.partial) this.endLine();
  }

  private append(piece: string): void {
    if (!piece) return;
    const bytes = Buffer.byteLength(piece);
    if (this.droppedBytes > 0) {
      this.droppedBytes += bytes;
    } else if (this.keptBytes + bytes <= this.maxBytes) {
      this.parts.push(piece);
      this.keptBytes += bytes;
    } else {
      const kept = utf8Prefix(this.parts.join('') + piece, this.maxBytes - MARKER_RESERVE_BYTES);
      const keptBytes = Buffer.byteLength(kept);
      this.droppedBytes = this.keptBytes + bytes - keptBytes;
      this.parts = [kept];
      this.keptBytes = keptBytes;
    }
  }

  private endLine(): void {
    let text = this.parts.join('');
    if (this.droppedBytes > 0) text += ` …[truncated ${this.droppedBytes} bytes]`;
    else if (text.endsWith('\r')) text = text.slice(0, -1);
    this.parts = [];
    this.keptBytes = 0;
    this.droppedBytes = 0;
    this.emit(text);
  }
}

/** The longest prefix of `text` that is at most `maxBytes` in UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1; // back off a continuation byte
  return bytes.subarray(0, end).toString('utf8');
}

export interface RunOutputOptions {
  maxLineBytes?: number;
  partialLineWaitMs?: number;
}

/**
 * A run's stdout and stderr on their way to the log: each stream is masked first
 * (every secret of the run, also across writes and lines: see LogMasker), then cut
 * into lines. A line still waiting for its newline after a moment is shipped as it
 * is, so a prompt or a progress line shows up live; `end` ships what is left.
 */
export class RunOutput {
  private readonly streams: Record<OutputStream, StreamState>;
  private readonly partialLineWaitMs: number;

  constructor(
    secrets: readonly string[],
    emit: (stream: OutputStream, text: string) => void,
    options: RunOutputOptions = {},
  ) {
    this.partialLineWaitMs = options.partialLineWaitMs ?? DEFAULT_PARTIAL_LINE_WAIT_MS;
    const state = (stream: OutputStream): StreamState => ({
      masker: new LogMasker(secrets),
      lines: new LineAssembler((text) => emit(stream, text), options.maxLineBytes),
      timer: undefined,
    });
    this.streams = { STDOUT: state('STDOUT'), STDERR: state('STDERR') };
  }

  write(stream: OutputStream, text: string): void {
    const state = this.streams[stream];
    const completed = state.lines.push(state.masker.push(text));
    if (!state.lines.partial) {
      clearTimeout(state.timer);
      state.timer = undefined;
    } else if (completed > 0 || !state.timer) {
      // A new partial line: its own wait starts now.
      clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        state.timer = undefined;
        state.lines.flush();
      }, this.partialLineWaitMs);
    }
  }

  end(): void {
    for (const state of Object.values(this.streams)) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.lines.push(state.masker.end());
      state.lines.flush();
    }
  }
}

interface StreamState {
  masker: LogMasker;
  lines: LineAssembler;
  timer: NodeJS.Timeout | undefined;
}
