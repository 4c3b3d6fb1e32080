import { describe, expect, it } from 'vitest';
import type { OutputStream } from '../../src/agent/executors/executor.js';
import { LineAssembler, RunOutput, utf8Prefix } from '../../src/agent/run-output.js';
import { waitFor } from '../support/wait-for.js';

function collect(
  secrets: string[] = [],
  options: { maxLineBytes?: number; partialLineWaitMs?: number } = {},
) {
  const lines: Array<{ stream: OutputStream; text: string }> = [];
  const output = new RunOutput(secrets, (stream, text) => lines.push({ stream, text }), options);
  return {
    output,
    lines,
    texts: (stream: OutputStream = 'STDOUT') => lines.filter((l) => l.stream === stream).map((l) => l.text),
  };
}

describe('LineAssembler', () => {
  it('cuts text into lines whatever the chunking, and CRLF ends a line like LF', () => {
    const lines: string[] = [];
    const assembler = new LineAssembler((text) => lines.push(text));
    for (const chunk of ['one\ntw', 'o\r', '\nthr', 'ee\n\nfour']) assembler.push(chunk);
    expect(lines).toEqual(['one', 'two', 'three', '']);
    assembler.flush();
    expect(lines).toEqual(['one', 'two', 'three', '', 'four']);
  });

  it('truncates a long line to the byte cap with a marker counting the cut bytes, without splitting a character', () => {
    const lines: string[] = [];
    const assembler = new LineAssembler((text) => lines.push(text), 1024);
    const long = 'é'.repeat(3000); // 6000 bytes
    for (let i = 0; i < long.length; i += 100) assembler.push(long.slice(i, i + 100));
    assembler.push('\nnext\n');
    const [cut, next] = lines;
    expect(next).toBe('next');
    const match = / …\[truncated (\d+) bytes\]$/.exec(cut!);
    expect(match).not.toBeNull();
    const kept = cut!.slice(0, match!.index);
    expect(kept).toMatch(/^é+$/);
    expect(Buffer.byteLength(kept) + Number(match![1])).toBe(6000);
    expect(Buffer.byteLength(cut!)).toBeLessThanOrEqual(1024);
  });

  it('keeps a line exactly at the cap whole', () => {
    const lines: string[] = [];
    const assembler = new LineAssembler((text) => lines.push(text), 16);
    assembler.push(`${'x'.repeat(16)}\n`);
    expect(lines).toEqual(['x'.repeat(16)]);
  });

  it('utf8Prefix never ends inside a character', () => {
    expect(utf8Prefix('aé€😀', 1)).toBe('a');
    expect(utf8Prefix('aé€😀', 2)).toBe('a');
    expect(utf8Prefix('aé€😀', 3)).toBe('aé');
    expect(utf8Prefix('aé€😀', 8)).toBe('aé€');
    expect(utf8Prefix('aé€😀', 10)).toBe('aé€😀');
  });
});

describe('RunOutput', () => {
  const SECRET = 'hunter2-very-secret';

  it('masks a secret split across writes and streams keep their own lines', () => {
    const { output, texts } = collect([SECRET]);
    output.write('STDOUT', 'token=hunt');
    output.write('STDERR', 'err line\n');
    output.write('STDOUT', 'er2-very-se');
    output.write('STDOUT', 'cret done\n');
    output.end();
    expect(texts('STDOUT')).toEqual(['token=*** done']);
    expect(texts('STDERR')).toEqual(['err line']);
  });

  it('masks the base64 form of a secret', () => {
    const { output, texts } = collect([SECRET]);
    const encoded = Buffer.from(`prefix ${SECRET} suffix`).toString('base64');
    output.write('STDOUT', `${encoded}\n`);
    output.end();
    expect(texts()[0]).toContain('***');
    expect(texts()[0]).not.toContain(Buffer.from(SECRET).toString('base64').slice(2, 20));
  });

  it('masks before cutting lines: a multi-line secret printed across lines', () => {
    const multiLine = 'line-one-secret\nline-two-secret';
    const { output, texts } = collect([multiLine]);
    output.write('STDOUT', `a ${multiLine} b\n`);
    output.end();
    expect(texts().join('\n')).not.toContain('line-one-secret');
    expect(texts().join('\n')).not.toContain('line-two-secret');
  });

  it('ships a line that waits for its newline after a moment, and the rest as a new line', async () => {
    const { output, texts } = collect([], { partialLineWaitMs: 50 });
    output.write('STDOUT', 'Downloading...');
    expect(texts()).toEqual([]);
    await waitFor(() => texts().length === 1, { timeoutMs: 2_000 });
    expect(texts()).toEqual(['Downloading...']);
    output.write('STDOUT', ' done\n');
    output.end();
    expect(texts()).toEqual(['Downloading...', ' done']);
  });

  it('holds back a possible secret prefix even past the partial-line wait', async () => {
    const { output, texts } = collect([SECRET], { partialLineWaitMs: 20 });
    output.write('STDOUT', 'pw: hunter2-ve');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(texts().join('')).not.toContain('hunter2');
    output.write('STDOUT', 'ry-secret\n');
    output.end();
    expect(texts().join('|')).not.toContain('hunter2');
    expect(texts().join('')).toContain('***');
  });

  it('end() flushes what is held back', () => {
    const { output, texts } = collect([SECRET]);
    output.write('STDOUT', 'last words hunter2');
    output.end();
    expect(texts()).toEqual(['last words hunter2']);
  });
});
