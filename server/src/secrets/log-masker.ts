/** What a secret is replaced with. */
export const MASK = '***';

/**
 * Secrets shorter than this are not masked: a 1 to 3 character value ("1", "yes",
 * "dev") occurs by chance all over ordinary text, and masking it would garble logs
 * while protecting nothing. Encoded forms shorter than this are dropped too.
 */
export const MIN_MASKED_SECRET_LENGTH = 4;

/**
 * Every form in which `secret` may reach a log: as is, trimmed, each line of a
 * multi-line value (so a key re-printed with other line endings or indentation is
 * still caught), JSON-escaped (also with `\/` and with non-ASCII as `\uXXXX`),
 * URL-encoded (encodeURIComponent with upper- and lower-case hex, and form
 * encoding), and base64 (standard and URL-safe alphabets) at each of the three
 * byte alignments the value can have inside a longer encoded text. For base64,
 * only the characters that depend on the secret's bytes alone are matched: at
 * most one partly-determined character at each end stays visible.
 */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_MASKED_SECRET_LENGTH) return [];
  const forms = new Set<string>([secret, secret.trim()]);
  if (/[\r\n]/.test(secret)) for (const line of secret.split(/\r?\n|\r/)) forms.add(line.trim());

  const json = JSON.stringify(secret).slice(1, -1);
  forms.add(json);
  forms.add(json.replaceAll('/', '\\/'));
  forms.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

  const url = encodeURIComponent(secret);
  forms.add(url);
  forms.add(url.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  forms.add(new URLSearchParams([['', secret]]).toString().slice(1));

  const bytes = Buffer.from(secret, 'utf8');
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters wholly inside the secret's bits: from ceil(8·offset/6) to floor(8·(offset+n)/6).
    const inner = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
    forms.add(inner);
    forms.add(inner.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...forms].filter((form) => form.length >= MIN_MASKED_SECRET_LENGTH);
}

/**
 * All the forms of all the secrets as one Aho–Corasick automaton, compiled to a
 * table, so masking reads each character once whatever the number of secrets.
 * A state is the offset of its row in `table`: `table[row]` is the length of the
 * longest form ending there (0: none), and `table[row + 1 + class]` the next row.
 * `depthOf(row)` is how much of the text's tail could still start a form: exactly
 * what a stream must hold back.
 */
class FormMatcher {
  /** Character code → class; 0 is "in no form", which always leads back to the root. */
  readonly classOf = new Uint16Array(0x10000);
  readonly table: Uint32Array;
  private readonly stride: number;
  private readonly depth: Uint32Array;

  constructor(forms: string[]) {
    let classCount = 1;
    for (const form of forms) {
      for (let i = 0; i < form.length; i += 1) {
        const code = form.charCodeAt(i);
        if (this.classOf[code] === 0) this.classOf[code] = classCount++;
      }
    }

    // The trie of all forms.
    const children: Map<number, number>[] = [new Map()];
    const depth = [0];
    const terminal = [false];
    for (const form of forms) {
      let state = 0;
      for (let i = 0; i < form.length; i += 1) {
        const symbol = this.classOf[form.charCodeAt(i)]!;
        let next = children[state]!.get(symbol);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          depth.push(depth[state]! + 1);
          terminal.push(false);
          children[state]!.set(symbol, next);
        }
        state = next;
      }
      terminal[state] = true;
    }

    // Breadth-first: failure links, then every transition resolved through them.
    const stride = classCount + 1;
    const table = new Uint32Array(children.length * stride);
    const failure = new Uint32Array(children.length);
    const queue: number[] = [];
    for (const [symbol, child] of children[0]!) {
      table[1 + symbol] = child * stride;
      if (terminal[child]) table[child * stride] = 1;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head += 1) {
      const state = queue[head]!;
      const row = state * stride;
      const failureRow = failure[state]! * stride;
      for (let symbol = 0; symbol < classCount; symbol += 1) {
        const child = children[state]!.get(symbol);
        if (child === undefined) {
          table[row + 1 + symbol] = table[failureRow + 1 + symbol]!;
          continue;
        }
        table[row + 1 + symbol] = child * stride;
        failure[child] = table[failureRow + 1 + symbol]! / stride;
        // The longest form ending here is this state's own text, or else the longest one its failure state ends.
        table[child * stride] = terminal[child] ? depth[child]! : table[failure[child]! * stride]!;
        queue.push(child);
      }
    }
    this.table = table;
    this.stride = stride;
    this.depth = Uint32Array.from(depth);
  }

  depthOf(row: number): number {
    return this.depth[row / this.stride]!;
  }
}

/**
 * Masks a run's secrets in its log output as it streams. Every form of every
 * secret (see secretForms) is replaced with `***`, also when split across chunks
 * and when a multi-line value spans lines; overlapping occurrences become one
 * `***`. `push` returns what is safe to show now and holds back only the tail that
 * could still be the start of a secret; `end` flushes it. The output is the same
 * however the input is chunked. Secrets shorter than MIN_MASKED_SECRET_LENGTH are
 * left alone. Chunks are text: decode bytes with a streaming decoder
 * (string_decoder) so a character split across reads is not garbled first.
 */
export class LogMasker {
  private readonly matcher: FormMatcher | undefined;
  /** The automaton's current row (0: the root, nothing that could start a form). */
  private state = 0;
  /** Text not yet returned (or, inside an already-emitted mask, kept only while a longer match may run through it). */
  private pending = '';
  /** Masked ranges of `pending`, ordered and disjoint; `emitted` once their `***` has been returned. */
  private regions: { start: number; end: number; emitted: boolean }[] = [];

  constructor(secrets: Iterable<string>) {
    const forms = [...new Set([...secrets].flatMap(secretForms))];
    this.matcher = forms.length > 0 ? new FormMatcher(forms) : undefined;
  }

  push(chunk: string): string {
    if (!this.matcher) return chunk;
    this.scan(chunk);
    return this.release(this.pending.length - this.matcher.depthOf(this.state));
  }

  /** Everything still held back, masked; the masker is then ready for a new stream. */
  end(): string {
    const rest = this.release(this.pending.length);
    this.state = 0;
    return rest;
  }

  private scan(chunk: string): void {
    const { classOf, table } = this.matcher!;
    const offset = this.pending.length;
    let state = this.state;
    for (let i = 0; i < chunk.length; i += 1) {
      state = table[state + 1 + classOf[chunk.charCodeAt(i)]!]!;
      const length = table[state]!;
      if (length !== 0) this.addRegion(offset + i + 1 - length, offset + i + 1);
    }
    this.state = state;
    this.pending += chunk;
  }

  /** Adds an occurrence ending after every earlier one; it absorbs the regions it overlaps. */
  private addRegion(start: number, end: number): void {
    let emitted = false;
    for (let last = this.regions.at(-1); last && start < last.end; last = this.regions.at(-1)) {
      start = Math.min(start, last.start);
      emitted ||= last.emitted;
      this.regions.pop();
    }
    this.regions.push({ start, end, emitted });
  }

  /**
   * Returns the text before `until` with its regions masked. A region that runs
   * past `until` is masked now and kept as emitted, so later matches overlapping
   * it extend it silently instead of printing a second `***`.
   */
  private release(until: number): string {
    let output = '';
    let position = 0;
    let kept = 0;
    for (const region of this.regions) {
      if (region.start >= until) break;
      if (!region.emitted) output += this.pending.slice(position, region.start) + MASK;
      position = region.end;
      if (region.end > until) {
        region.emitted = true;
        break;
      }
      kept += 1;
    }
    if (position < until) output += this.pending.slice(position, until);
    this.regions = this.regions.slice(kept).map((region) => ({
      start: Math.max(region.start - until, 0),
      end: region.end - until,
      emitted: region.emitted,
    }));
    this.pending = this.pending.slice(until);
    return output;
  }
}

/** Masks a whole text at once (same result as streaming it through a LogMasker). */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const masker = new LogMasker(secrets);
  return masker.push(text) + masker.end();
}
